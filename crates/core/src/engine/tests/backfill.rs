//! A first start's history walk, one account at a time and split over
//! threads, records what one walk through every subject in global time
//! order records, and ends in the from-scratch state.

use parking_lot::Mutex;

use super::*;

pub(super) const USERS: [&str; 5] = ["ann", "bob", "cy", "dee", "eve"];
pub(super) const EVENTS: [&str; 3] = ["Pricing Viewed", "Demo Requested", "Logged In"];

/// Each user's `group` call (account 0: none), then their events, each
/// `(user, event, hours after T0)` by index into [`USERS`] and [`EVENTS`].
pub(super) fn population(accounts: &[u8], events: &[(usize, usize, i64)]) -> Vec<Message> {
    let mut messages = Vec::new();
    for (user, account) in USERS.iter().zip(accounts) {
        if *account > 0 {
            let mut group = message(MessageKind::Group, Some(user), None, "", T0);
            group.group_id = Some(format!("acct{account}"));
            messages.push(group);
        }
    }
    for (user, event, hours) in events {
        messages.push(track(USERS[*user], EVENTS[*event], T0 + hours * HOUR));
    }
    messages
}

/// Stored messages applied to the state alone (as a store loads them).
pub(super) fn loaded(messages: &[Message]) -> Engine {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    engine.view.state.apply(&feed.ops(messages));
    engine
}

/// The reference walk: every subject's timer at its first message, all
/// processed together in time order.
pub(super) fn global_walk(engine: &mut Engine, now: i64) -> Vec<Change> {
    let mut keys: Vec<(SubjectKey, i64)> = Vec::new();
    for (id, contact) in engine.state.contacts.iter() {
        let first = contact.first_seen().unwrap_or(now).min(now);
        keys.push((SubjectKey::Contact(*id), first));
    }
    for (group_id, account) in engine.state.accounts.iter() {
        let first = engine.state.account_first_seen(account).unwrap_or(now);
        keys.push((SubjectKey::Account(group_id.clone()), first.min(now)));
    }
    for (key, first) in keys {
        engine.timers.schedule(key, Some(first));
    }
    engine.process_due(now)
}

/// Membership rows, sorted.
pub(super) fn history(
    records: impl IntoIterator<Item = MembershipRecord>,
) -> Vec<MembershipRecord> {
    let mut rows: Vec<_> = records.into_iter().collect();
    rows.sort_by(|a, b| {
        (a.at, &a.subject, &a.definition, a.change.as_str(), &a.level).cmp(&(
            b.at,
            &b.subject,
            &b.definition,
            b.change.as_str(),
            &b.level,
        ))
    });
    rows
}

fn scores(engine: &mut Engine) -> Vec<(i64, String, String, u64)> {
    score_rows(engine.take_score_changes())
}

pub(super) fn score_rows(records: Vec<ScoreRecord>) -> Vec<(i64, String, String, u64)> {
    let mut rows: Vec<_> = records
        .into_iter()
        .map(|s| (s.at, s.subject.store_key(), s.score, s.value.to_bits()))
        .collect();
    rows.sort();
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn walking_one_account_at_a_time_records_the_same_history(
        accounts in proptest::collection::vec(0u8..3, USERS.len()),
        events in proptest::collection::vec((0usize..USERS.len(), 0usize..EVENTS.len(), 0i64..(60 * 24)), 1..40),
        walkers in 1usize..4,
    ) {
        let messages = population(&accounts, &events);
        // Some of it within the last day (routed), most older.
        let now = T0 + 60 * DAY + 12 * HOUR;
        let mut walked = loaded(&messages);
        let mut reference = loaded(&messages);
        let written = Mutex::new(Vec::new());
        let mut reported = Vec::new();
        let recent = walked
            .backfill_on(
                walkers,
                now,
                &|ops| {
                    written.lock().extend(ops.iter().cloned());
                    Ok(())
                },
                &mut |done, total| reported.push((done, total)),
            )
            .expect("nothing fails to write");
        // One report per group, the last one complete.
        let last = reported.last().copied();
        prop_assert!(last.is_some_and(|(done, total)| done == total), "{reported:?}");
        prop_assert_eq!(reported.len() as u64, last.map_or(0, |(_, total)| total));
        let global = global_walk(&mut reference, now);
        // By instant, then subject: owners are assigned in this order.
        let ordered = |changes: &[Change]| {
            changes.windows(2).all(|w| (w[0].at, &w[0].key) <= (w[1].at, &w[1].key))
        };
        prop_assert!(ordered(&recent));
        let backfilled = walked.take_backfilled();
        prop_assert!(ordered(&backfilled));
        prop_assert!(walked.take_score_changes().is_empty(), "written as walked");
        let (mut rows, mut score_records) = (Vec::new(), Vec::new());
        for op in written.into_inner() {
            match op {
                WriteOp::Membership(record) => rows.push(record),
                WriteOp::ScoreRun(run) => score_records.extend(run.into_records()),
                other => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        // Each change older than a day: written, and a segment's handed over.
        let routed_from = now - crate::engine::backfill::ROUTED_HISTORY_MS;
        let old_segments = global
            .iter()
            .filter(|c| c.at < routed_from && c.definition_kind == DefKind::Segment)
            .map(Change::to_record);
        prop_assert_eq!(history(backfilled.iter().map(Change::to_record)), history(old_segments));
        rows.extend(recent.iter().filter(|c| c.is_membership()).map(Change::to_record));
        let reference_rows = global.iter().filter(|c| c.is_membership()).map(Change::to_record);
        prop_assert_eq!(history(rows), history(reference_rows));
        prop_assert_eq!(score_rows(score_records), scores(&mut reference));
        prop_assert_eq!(walked.live_memberships(), walked.evaluate_all(now));
        // The walkers' timers and trackers, merged, carry on from there,
        // and from there once every tracker is brought to `now` (as a
        // start does: windows let go of what the walk left in them).
        prop_assert_eq!(walked.trackers.len(), reference.trackers.len());
        walked.settle_trackers(now);
        prop_assert!(walked.trackers.values().all(|t| t.at() == now));
        let later = now + 30 * DAY;
        walked.process_due(later);
        reference.process_due(later);
        prop_assert_eq!(walked.live_memberships(), walked.evaluate_all(later));
        prop_assert_eq!(scores(&mut walked), scores(&mut reference));
    }
}

/// An account evaluated at one instant whose next change comes before the
/// next due instant: that change is processed first, not after it.
#[test]
fn an_accounts_deadline_before_the_next_due_instant_is_processed_in_order() {
    let rules = Arc::new(
        RuleSet::from_toml(
            "t.toml",
            r#"
            [[segment]]
            name = "pinged"
            subject = "account"
            when = 'count("Ping", last 1h) >= 1'
            [[segment]]
            name = "pinged_twice"
            subject = "account"
            when = 'count("Ping") >= 2'
            "#,
        )
        .expect("valid rules"),
    );
    let mut engine = Engine::new(rules);
    let mut feed = Feed::new();
    let mut group = message(MessageKind::Group, Some("u"), None, "", T0);
    group.group_id = Some("acme".into());
    // Both pings are stored now and take effect at their own times.
    let ops = feed.ops(&[
        group,
        track("u", "Ping", T0 + HOUR),
        track("u", "Ping", T0 + 4 * HOUR),
    ]);
    engine.apply(&ops, T0);
    let changes = engine.process_due(T0 + 6 * HOUR);
    assert_eq!(
        changes_of(&changes, "pinged"),
        [
            ("entered", T0 + HOUR),
            ("exited", T0 + 2 * HOUR),
            ("entered", T0 + 4 * HOUR),
            ("exited", T0 + 5 * HOUR),
        ]
    );
    assert_eq!(
        changes_of(&changes, "pinged_twice"),
        [("entered", T0 + 4 * HOUR)]
    );
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(T0 + 6 * HOUR)
    );
}
