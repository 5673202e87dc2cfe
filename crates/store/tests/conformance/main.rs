//! The `Store` conformance suite: every case in `cases/` runs against each
//! backend through [`store_conformance_tests!`], so SQLite and PostgreSQL are
//! held to the same behavior.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/test`, or the URL in
//! `BELLWETHER_TEST_PG_URL`. Each test works in its own schema, dropped at
//! the end. When PostgreSQL is unreachable the PostgreSQL tests fail; they
//! are never skipped.

mod cases;
mod fixtures;
mod harness;
mod open_store;

/// Generates one `#[test]` per case for a backend:
/// `store_conformance_tests!(name, constructor)`, where `constructor()`
/// returns a fresh [`harness::Harness`].
macro_rules! store_conformance_tests {
    ($backend:ident, $make:path) => {
        store_conformance_tests!(@backend $backend, $make;
            accounts: [
                new_account_is_insert_if_absent,
                account_record_has_current_traits_and_linked_contacts,
                contact_account_link_is_replaced,
                unknown_account_is_none,
                snapshot_accounts_carry_the_current_string_domain,
            ],
            durability: [
                backend_reports_its_name,
                empty_store_answers_empty,
                empty_apply_is_ok,
                data_survives_reopen,
                migrations_are_idempotent_on_reopen,
                rejections_are_listed_most_recent_first,
                rejections_are_pruned_by_count_and_age,
                concurrent_readers_see_whole_batches,
                a_large_mixed_batch_applies_in_one_call,
            ],
            enrichment: [
                enrichment_changes_join_the_trait_history_and_are_told_apart,
                provider_answers_are_kept_and_replaced,
                an_ip_reveal_keeps_its_network,
            ],
            events: [
                event_round_trips_every_field,
                events_through_counts_up_to_a_position_across_gaps,
                duplicate_message_id_fails_the_whole_batch,
                seen_message_ids_is_per_source,
                contact_events_are_newest_first_with_a_strict_cursor,
                scan_events_pages_in_seq_order,
                a_scan_of_some_parts_keeps_those_parts_whole,
                unicode_and_large_json_round_trip_exactly,
                retention_finds_and_deletes_only_old_behavior_events,
            ],
            identity: [
                contact_lists_identities_by_first_seen_then_value,
                identity_kinds_are_distinct,
                identity_op_repoints_a_known_identifier,
                new_contact_with_a_taken_id_is_an_error,
                load_identity_returns_the_whole_graph,
            ],
            memberships: [
                latest_memberships_keep_each_last_change_in_recording_order,
                definition_history_lists_one_definition_since_an_instant,
                history_without_a_checkpoint_is_discarded_and_with_one_kept,
            ],
            outbox: [
                an_outbox_id_is_stored_once_and_round_trips,
                only_the_head_of_each_subject_queue_is_due,
                dead_letters_are_listed_and_replayed,
                deliveries_filter_and_page,
                destinations_are_disabled_and_enabled,
                assignments_keep_current_owners_and_pool_turns,
                backfilled_assignments_are_history_or_current_by_their_end,
                a_digest_period_commits_with_its_delivery_and_only_moves_forward,
            ],
            privacy: [
                deleting_a_contact_removes_every_row_about_it_and_logs_counts,
                a_purge_removes_late_records_counts_them_and_completes,
                suppressions_are_removed_one_by_one_and_survive_reopen,
            ],
            scores: [
                score_history_round_trips_exactly_in_recording_order,
                latest_scores_keep_the_last_recorded_form_per_subject_and_score,
                long_runs_of_history_rows_keep_their_order_and_fields,
                score_runs_read_back_as_the_forms_they_hold,
            ],
            merges: [
                merge_rehomes_identities_events_traits_and_account,
                merge_keeps_the_survivors_own_account,
                merge_chain_ends_at_the_last_survivor,
                merge_chain_within_one_batch,
                ops_around_a_merge_in_one_batch_apply_in_order,
                merge_rehomes_stored_and_same_batch_rows,
                merging_a_contact_into_itself_is_an_error,
            ],
            rehome: [
                rehome_moves_one_event_and_its_traits,
                rebuild_splits_contacts_the_old_rule_merged,
                rejection_warnings_round_trip,
                rebuild_detaches_messages_with_only_blocked_ids,
            ],
            traits: [
                current_traits_follow_event_time_not_arrival,
                trait_history_is_ordered_by_time_then_seq,
                trait_values_keep_their_json_type,
                account_traits_follow_event_time_not_arrival,
                trait_history_of_an_unknown_subject_is_empty,
            ],
        );
    };
    (@backend $backend:ident, $make:path; $($module:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        mod $backend {
            $(
                mod $module {
                    $(
                        #[test]
                        fn $case() {
                            crate::cases::$module::$case(&$make());
                        }
                    )*
                }
            )*
        }
    };
}

store_conformance_tests!(sqlite, crate::harness::sqlite);
store_conformance_tests!(postgres, crate::harness::postgres);
