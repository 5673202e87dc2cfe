//! A restart evaluates every subject at the checkpoint, from the recorded
//! memberships and scores: split over threads, it records and ends in what
//! one pass over every contact, then every account, does.

use super::backfill::{global_walk, history, loaded, population, score_rows, EVENTS, USERS};
use super::*;

/// The reference: every contact, then every account, on this thread.
fn one_pass(engine: &mut Engine, at: i64) {
    let contacts: Vec<ContactId> = engine.state.contacts.keys().copied().collect();
    for id in contacts {
        engine.reevaluate(SubjectKey::Contact(id), at);
    }
    let accounts: Vec<Arc<str>> = engine.state.accounts.keys().cloned().collect();
    for id in accounts {
        engine.reevaluate(SubjectKey::Account(id), at);
    }
}

/// Each subject's values; without the evaluations' bookkeeping, whose
/// plan and timeline stamps are numbered per process, not per engine.
fn sorted_values(engine: &Engine) -> Vec<(SubjectKey, (Values, Option<OwnKept>))> {
    let mut values: Vec<_> = engine
        .view
        .values
        .iter()
        .map(|(key, values)| {
            let own = values
                .own
                .as_ref()
                .map(|own| (own.at, own.next.iter().collect()));
            let mut values = values.clone();
            values.own = None;
            (key.clone(), (values, own))
        })
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    values
}

type OwnKept = (i64, Vec<Option<i64>>);

fn sorted_members(engine: &Engine) -> Vec<Membership> {
    let mut members = engine.live_memberships();
    members.sort_by(|a, b| (&a.segment, &a.id).cmp(&(&b.segment, &b.id)));
    members
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_restart_split_over_threads_evaluates_as_one_pass_does(
        accounts in proptest::collection::vec(0u8..3, USERS.len()),
        events in proptest::collection::vec((0usize..USERS.len(), 0usize..EVENTS.len(), 0i64..(60 * 24)), 1..40),
        threads in 1usize..4,
    ) {
        let messages = population(&accounts, &events);
        // Stopped at the checkpoint; what was stored after it is the tail
        // a restart replays on top.
        let checkpoint = T0 + 30 * DAY;
        let stored_by_then: Vec<Message> = messages
            .iter()
            .filter(|m| m.timestamp <= checkpoint)
            .cloned()
            .collect();
        let mut before = loaded(&stored_by_then);
        let recorded: Vec<MembershipRecord> = global_walk(&mut before, checkpoint)
            .iter()
            .filter(|c| c.is_membership())
            .map(Change::to_record)
            .collect();
        let scores = before.take_score_changes();
        let restarted = || {
            let mut engine = loaded(&messages);
            engine.restore_scores(&scores);
            engine.restore(&recorded);
            engine
        };
        let mut reference = restarted();
        one_pass(&mut reference, checkpoint);
        let mut split = restarted();
        split.reevaluate_everything_on(threads, checkpoint).expect("threads start");
        // By subject: the order the changes are handed over in.
        prop_assert!(split.fresh.windows(2).all(|w| w[0].key <= w[1].key));
        let records = |e: &mut Engine| history(std::mem::take(&mut e.fresh).iter().map(Change::to_record));
        prop_assert_eq!(records(&mut split), records(&mut reference));
        prop_assert_eq!(
            score_rows(split.take_score_changes()),
            score_rows(reference.take_score_changes())
        );
        prop_assert_eq!(sorted_values(&split), sorted_values(&reference));
        prop_assert_eq!(sorted_members(&split), sorted_members(&reference));
        prop_assert_eq!(split.trackers.len(), reference.trackers.len());
        // The merged timers and trackers carry on from there. Twelve
        // hours' offset: events fall on whole hours, and a decayed score
        // landing exactly on its threshold at `now` is equal only to
        // rounding between a tracker that took a late event in and a
        // fresh scan (ARCHITECTURE, "Incremental evaluation is exact").
        let now = T0 + 60 * DAY + 12 * HOUR;
        let later = |e: &mut Engine| history(e.process_due(now).iter().map(Change::to_record));
        prop_assert_eq!(later(&mut split), later(&mut reference));
        prop_assert_eq!(sorted_members(&split), sorted_members(&reference));
        let mut live = sorted_members(&split);
        let mut exact = split.evaluate_all(now);
        exact.sort_by(|a, b| (&a.segment, &a.id).cmp(&(&b.segment, &b.id)));
        live.dedup();
        prop_assert_eq!(live, exact);
    }
}

/// A contact naming an account the state does not have is in no group
/// (a broken invariant, not a state the writer makes): it is still
/// evaluated, as the one pass did.
#[test]
fn a_subject_outside_every_group_is_still_evaluated() {
    let mut engine = loaded(&[track("ann", "Demo Requested", T0)]);
    let id = engine.state.contacts.keys().next().copied().expect("ann");
    if let Some(contact) = engine.view.state.contacts.get_mut(&id) {
        contact.account = Some("ghost".into());
    }
    engine
        .reevaluate_everything_on(2, T0 + HOUR)
        .expect("threads start");
    assert!(
        engine.view.values.get(&SubjectKey::Contact(id)).is_some(),
        "evaluated"
    );
    let mut exact = engine.evaluate_all(T0 + HOUR);
    exact.sort_by(|a, b| (&a.segment, &a.id).cmp(&(&b.segment, &b.id)));
    assert!(!exact.is_empty(), "ann is in some segment");
    assert_eq!(sorted_members(&engine), exact);
}
