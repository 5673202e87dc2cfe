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

fn snapshot_live(
    messages: &[Message],
    instants: &[i64],
    batch: usize,
) -> (Engine, Vec<Vec<Membership>>) {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut snapshots = Vec::new();
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
            engine.process_due(now);
            engine.apply(&feed.ops(chunk), now);
        }
        if at != i64::MAX {
            engine.process_due(at);
            now = now.max(at);
            snapshots.push(engine.live_memberships());
        }
    }
    (engine, snapshots)
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
        let (engine, live) = snapshot_live(&messages, &instants, batch);

        let mut replay = Replay::new(&engine, rules());
        for (at, expected) in instants.iter().zip(&live) {
            replay.advance(*at);
            prop_assert_eq!(&replay.memberships(), expected, "at +{}h", (at - T0) / HOUR);
        }
        // The backtest report of one segment agrees too (sizes and members).
        let every = 6 * HOUR;
        let (from, to) = (instants[0], *instants.last().unwrap_or(&instants[0]));
        for segment in ["pricing_twice", "active_account"] {
            let report = backtest(&engine, &BacktestParams {
                target: BacktestTarget::Segment(segment.into()),
                from, to, every, outcome: None, as_of: to,
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
