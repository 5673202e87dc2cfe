//! Test data builders.

use std::sync::atomic::{AtomicU64, Ordering};

use bellwether_rules::{Event, MemorySubject, RuleSet, SubjectKind, Timeline, Traits, DAY, HOUR};
use serde_json::{json, Value};

/// 2024-01-01T00:00:00Z
pub(crate) const BASE: i64 = 1_704_067_200_000;

static SEQ: AtomicU64 = AtomicU64::new(1);

/// An instant `days` after BASE.
pub(crate) fn day(days: f64) -> i64 {
    BASE + (days * DAY as f64).round() as i64
}

pub(crate) fn track(days: f64, name: &str, properties: Value) -> Event {
    Event::track(
        day(days),
        SEQ.fetch_add(1, Ordering::Relaxed),
        name,
        properties,
    )
}

pub(crate) fn page(days: f64, path: &str) -> Event {
    Event::page(
        day(days),
        SEQ.fetch_add(1, Ordering::Relaxed),
        "",
        json!({ "path": path }),
    )
}

/// A subject; events are renumbered in the order given (seq = index).
pub(crate) fn subject(
    kind: SubjectKind,
    mut events: Vec<Event>,
    traits: &[(&str, f64, Value)],
) -> MemorySubject {
    for (seq, event) in events.iter_mut().enumerate() {
        event.seq = seq as u64;
    }
    let mut all = Traits::new();
    for (key, days, value) in traits {
        all.set(key, day(*days), value.clone());
    }
    MemorySubject {
        id: "s1".into(),
        kind,
        timeline: Timeline::from_events(events),
        traits: all,
        ..MemorySubject::default()
    }
}

/// The shipped example definitions.
pub(crate) fn example_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/b2b.toml"
    ))
    .unwrap_or_default()
}

pub(crate) fn example() -> RuleSet {
    match RuleSet::from_toml("examples/b2b.toml", &example_text()) {
        Ok(rules) => rules,
        Err(diagnostics) => panic!("{}", diagnostics.render()),
    }
}

/// The contact most construct tests run against (see constructs.rs).
pub(crate) fn sample_contact() -> MemorySubject {
    let events = vec![
        track(0.0, "Signed Up", json!({})),
        track(0.5, "Campaign Created", json!({})),
        track(1.0, "Teammate Invited", json!({})),
        page(1.0, "/pricing"),
        track(2.0, "Email Sent", json!({"email_id": 1})),
        track(2.0, "Feature Used", json!({"feature": "campaigns"})),
        track(2.1, "Email Opened", json!({"email_id": 1})),
        track(3.0, "Teammate Invited", json!({})),
        track(3.0, "Feature Used", json!({"feature": "reports"})),
        track(3.0, "Order Completed", json!({"revenue": 100})),
        track(4.0, "Email Sent", json!({"email_id": 2})),
        track(4.5, "Email Opened", json!({"email_id": 2})),
        page(5.0, "/blog/a"),
        track(5.0, "Quiz Answered", json!({"benefit": "compliance"})),
        page(6.0, "/blog/b"),
        track(6.0, "Feature Used", json!({"feature": "campaigns"})),
        track(7.0, "Email Sent", json!({"email_id": 3})),
        track(7.2, "Email Opened", json!({"email_id": 3})),
        page(8.0, "/pricing"),
        track(8.0, "Order Completed", json!({"revenue": 50})),
        page(9.0, "/pricing"),
        track(9.0, "Teammate Invited", json!({})),
    ];
    let traits = [
        ("plan", 0.0, json!("trial")),
        ("plan", 8.0, json!("pro")),
        ("seats", 0.0, json!(5)),
        ("seats", 9.0, json!(20)),
        ("tech", 0.0, json!(["hubspot", "salesforce"])),
        // Time-valued traits: day 30 and day -10 (written with an offset).
        ("renews_at", 0.0, json!("2024-01-31T00:00:00Z")),
        ("signed_up_at", 0.0, json!("2023-12-22T02:00:00+02:00")),
        ("bad_date", 0.0, json!("next tuesday")),
    ];
    subject(SubjectKind::Contact, events, &traits)
}

/// `PROPTEST_CASES` overrides the default number of cases (for long runs).
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A random event of the property tests: (offset, kind, value, key).
pub(crate) fn arb_event() -> impl proptest::strategy::Strategy<Value = (i64, u8, u8, u8)> {
    (0..10 * DAY, 0u8..4, 0u8..10, 0u8..3)
}

/// Pricing and blog page views, `A` and `B` events with `v` and `k`,
/// on hour boundaries plus `v` minutes (so events share instants).
pub(crate) fn build_event(seq: u64, (offset, kind, v, k): (i64, u8, u8, u8)) -> Event {
    let time = BASE + offset / HOUR * HOUR + i64::from(v) * 60_000;
    match kind {
        0 => Event::page(time, seq, "", json!({"path": "/pricing"})),
        1 => Event::page(time, seq, "", json!({"path": "/blog/x"})),
        2 => Event::track(time, seq, "A", json!({"v": v, "k": k})),
        _ => Event::track(time, seq, "B", json!({"v": v, "k": k})),
    }
}
