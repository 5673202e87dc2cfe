//! SPEC 6.1 for backtests: replaying the stored history as of an instant T
//! gives exactly the memberships the live engine had at T, whatever came
//! after T (later events, new contacts).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::reports::{backtest, BacktestParams, BacktestTarget};

/// Identity-changing messages happen before the first instant compared
/// (backtests use today's identity graph); after it, only behavior.
fn arb_later() -> impl Strategy<Value = (u8, u8, bool, i64)> {
    // (user 0..6: 4 and 5 are new, event, anonymous, offset in hours from day 10)
    (0u8..6, 0u8..3, any::<bool>(), 0i64..(50 * 24))
}

fn later_message((user, kind, anonymous, hours): (u8, u8, bool, i64)) -> Message {
    let at = T0 + 10 * DAY + hours * HOUR;
    let event = ["Pricing Viewed", "Demo Requested", "Logged In"][usize::from(kind)];
    match anonymous && kind == 0 {
        true => message(
            MessageKind::Track,
            None,
            Some(&format!("a{user}")),
            event,
            at,
        ),
        false => track(&format!("u{user}"), event, at),
    }
}

/// The live engine fed in time order, its memberships at each instant, and
/// every change it recorded.
fn snapshot_live(
    messages: &[Message],
    instants: &[i64],
    batch: usize,
) -> (Engine, Vec<Vec<Membership>>, Vec<Change>) {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut snapshots = Vec::new();
    let mut changes = Vec::new();
    let mut fed = 0;
    let mut now = T0;
    for &at in instants.iter().chain(std::iter::once(&i64::MAX)) {
        let due: Vec<Message> = messages[fed..]
            .iter()
            .take_while(|m| m.timestamp <= at)
            .cloned()
            .collect();
        fed += due.len();
        for chunk in due.chunks(batch) {
            now = now.max(chunk.iter().map(|m| m.timestamp).max().unwrap_or(now));
            changes.extend(engine.process_due(now));
            changes.extend(engine.apply(&feed.ops(chunk), now));
        }
        if at != i64::MAX {
            changes.extend(engine.process_due(at));
            now = now.max(at);
            snapshots.push(engine.live_memberships());
        }
    }
    changes.extend(engine.process_due(T0 + 80 * DAY));
    (engine, snapshots, changes)
}

/// From recorded changes: (store key, member at `from`, first entry in
/// `[from, to)`) of the subjects that were members at some point.
fn recorded_cohort(
    changes: &[Change],
    segment: &str,
    from: i64,
    to: i64,
) -> BTreeSet<(String, bool, Option<i64>)> {
    let mut at_start = BTreeSet::new();
    let mut entries = std::collections::BTreeMap::new();
    for change in changes.iter().filter(|c| c.definition == segment) {
        let key = change.key.store_key();
        match (change.at < from, change.change.as_str()) {
            (true, "entered") => {
                at_start.insert(key);
            }
            (true, _) => {
                at_start.remove(&key);
            }
            (false, "entered") if change.at < to => {
                entries.entry(key).or_insert(change.at);
            }
            _ => {}
        }
    }
    let mut out: BTreeSet<_> = at_start.iter().map(|k| (k.clone(), true, None)).collect();
    out.extend(
        entries
            .into_iter()
            .filter(|(k, _)| !at_start.contains(k))
            .map(|(k, at)| (k, false, Some(at))),
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn backtest_at_t_equals_the_live_engine_at_t(
        early in proptest::collection::vec(arb_message(), 1..25),
        later in proptest::collection::vec(arb_later(), 0..30),
        offsets in proptest::collection::btree_set(0i64..240, 1..5),
        batch in 1usize..6,
    ) {
        // Early messages (identities, accounts, behavior) in the first 10 days.
        let mut messages: Vec<Message> = early
            .into_iter()
            .map(|(u, k, w, h)| to_message((u, k, w, h % (10 * 24))))
            .chain(later.into_iter().map(later_message))
            .collect();
        messages.sort_by_key(|m| m.timestamp);
        let mut seen = std::collections::HashSet::new();
        messages.retain(|m| seen.insert(m.message_id.clone()));
        // Every 6 hours from day 10 to day 70 (past the last event).
        let instants: Vec<i64> = offsets.iter().map(|i| T0 + 10 * DAY + i * 6 * HOUR).collect();
        let (engine, live, _) = snapshot_live(&messages, &instants, batch);

        let mut replay = Replay::new(&engine, rules());
        for (at, expected) in instants.iter().zip(&live) {
            replay.advance(*at);
            prop_assert_eq!(&replay.memberships(), expected, "at +{}h", (at - T0) / HOUR);
        }
        // Exact entries recomputed from the events are the ones the live
        // engine records when each event arrives at its own instant.
        let (_, _, changes) = snapshot_live(&messages, &instants, 1);
        let (from, to) = (T0 + 10 * DAY, T0 + 80 * DAY);
        for segment in ["pricing_twice", "warm", "active_account"] {
            let replayed: BTreeSet<(String, bool, Option<i64>)> = engine
                .segment_transitions(&rules(), segment, from, to)
                .into_iter()
                .map(|t| (t.key.store_key(), t.member_at_start, t.first_entry))
                .collect();
            prop_assert_eq!(replayed, recorded_cohort(&changes, segment, from, to), "{}", segment);
        }
        // The backtest report of one segment agrees too (sizes and members).
        let every = 6 * HOUR;
        let (from, to) = (instants[0], *instants.last().unwrap_or(&instants[0]));
        for segment in ["pricing_twice", "active_account"] {
            let report = backtest(&engine, &BacktestParams {
                target: BacktestTarget::Segment(segment.into()),
                from, to, every, outcome: None, as_of: to, keep_members: true,
            }).expect("a valid backtest");
            for (at, expected) in instants.iter().zip(&live) {
                let index = ((at - from) / every) as usize;
                let labels: BTreeSet<String> = report.members[index]
                    .iter()
                    .filter_map(|key| engine.label_of(key))
                    .collect();
                let want: BTreeSet<String> = expected
                    .iter()
                    .filter(|m| m.segment == segment)
                    .map(|m| m.id.clone())
                    .collect();
                prop_assert_eq!(report.points[index].size as usize, want.len());
                prop_assert_eq!(labels, want);
            }
        }
    }
}
