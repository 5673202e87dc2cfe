//! The tracker is the scan, kept incrementally: for random histories that
//! arrive in random order (late events included, taken in place by
//! `Tracker::absorb` as the engine does) and random increasing evaluation
//! instants (with some going back), every score and segment read through a
//! subject's tracker equals the scan's value and next-change instant, bit
//! for bit (a decayed part taken in out of order: to rounding), also when
//! its windows were shrunk to fit between steps. (A `while` rule sits
//! between `intent`'s event rules, and `plain` follows it: a tracker keeps
//! the event rules' points in one vector, and each must read its own.)

use bellwether_rules::{
    Event, LateInsert, MemorySubject, RuleSet, ScoreValue, SubjectKind, Tracker, DAY, HOUR,
};
use proptest::prelude::*;

use crate::support::{arb_event, build_event, cases, BASE};

const DEFINITIONS: &str = r#"
[[score]]
name = "intent"
half_life = "2d"
rules = [
  { on = 'page where path = "/pricing"', points = 10 },
  { while = 'days_since(any) >= 3', points = -5 },
  { on = '"A"', points = 3, cap = "6 per day" },
  { on = '"B" where v > 3', points = -2.5, cap = "4 per week" },
]

[[score]]
name = "plain"
rules = [
  { on = '"A" where k = 1', points = 1.5, cap = "4 per 36h" },
  { on = 'page', points = 0.1 },
]
"#;

const CONDITIONS: &[&str] = &[
    r#"count(page where path = "/pricing", last 2d) >= 2"#,
    r#"count("A", between 3d and 1d ago) >= 1"#,
    "exists(any, last 2d)",
    "not exists(any, last 5d)",
    r#"exists("B" where k = 2, between 2d and 12h ago)"#,
    r#"days_since("B") >= 1.5"#,
    r#"days_since("A" where v > 5) < 2"#,
    "active_days(last 3d) >= 2",
    "active_days(between 4d and 1d ago) >= 2",
    r#"sum("A", v, last 2d) > 5 or max("B", v, between 4d and 1d ago) >= 7"#,
    r#"min("A", v, last 1d) <= 2 and avg("B", v, last 3d) > 3.5"#,
    r#"distinct("A", v, last 3d) >= 2"#,
    r#"distinct("B", k) >= 3"#,
    r#"first("A", last 3d).v > 4"#,
    r#"last("B", between 3d and 1d ago).k = 1"#,
    r#"first("B").time + 2d > last("A").time"#,
    r#"count("A" where v > 4) >= 3 and not exists("B" where k = 0 and v = 9)"#,
    r#"sum("A", v) >= 20 or avg("A", v) > 5 or min("B", v) <= 1 or max("B", v) >= 9"#,
    r#"sequence("A" then "B" within 1d, last 4d)"#,
    r#"exists("B", within 1d of first("A"))"#,
    r#"each(last 2 "A" followed_by "B" on k)"#,
    r#"score("intent") >= 12"#,
    r#"score("plain") between 2 and 6"#,
    r#"score("intent") + days_since(any) * 2 >= 25"#,
];

fn rules() -> RuleSet {
    let mut text = DEFINITIONS.to_owned();
    for (i, condition) in CONDITIONS.iter().enumerate() {
        text.push_str(&format!(
            "\n[[segment]]\nname = \"s{i}\"\nwhen = '{condition}'\n"
        ));
    }
    RuleSet::from_toml("incremental.toml", &text).unwrap_or_else(|d| panic!("{}", d.render()))
}

/// Scores first (their values are handed to the segments, as the engine
/// does), then every segment: tracked and scanned must agree.
fn compare(rules: &RuleSet, subject: &mut MemorySubject, now: i64) -> Result<(), TestCaseError> {
    let tracker = subject.tracker.take();
    let mut scanned = Vec::new();
    for name in ["intent", "plain"] {
        scanned.push(rules.evaluate_score(name, subject, now));
    }
    subject.tracker = tracker;
    for (name, scan) in ["intent", "plain"].into_iter().zip(scanned) {
        let tracked = rules.evaluate_score(name, subject, now);
        prop_assert!(
            same_score(tracked, scan),
            "score {} at {}: {:?} != {:?}",
            name,
            now,
            tracked,
            scan
        );
        if let Some(score) = tracked {
            subject.scores.insert(name.to_owned(), score);
        }
    }
    for (i, condition) in CONDITIONS.iter().enumerate() {
        let name = format!("s{i}");
        let tracked = rules.evaluate_segment(&name, subject, now);
        let tracker = subject.tracker.take();
        let scan = rules.evaluate_segment(&name, subject, now);
        subject.tracker = tracker;
        prop_assert_eq!(tracked, scan, "{} at {}", condition, now);
    }
    Ok(())
}

/// Equal, except that a decaying part may differ by rounding: late events
/// are weighed to the anchor instead of folded in time order.
fn same_score(a: Option<ScoreValue>, b: Option<ScoreValue>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let scale = a.decaying.abs().max(b.decaying.abs()).max(1e-300);
            a.constant == b.constant
                && a.anchor == b.anchor
                && a.half_life == b.half_life
                && a.next_change == b.next_change
                && (a.decaying - b.decaying).abs() <= 1e-12 * scale
        }
        (a, b) => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    #[test]
    fn tracked_answers_equal_the_scan(
        raw in prop::collection::vec(arb_event(), 0..60),
        arrival in prop::collection::vec(0usize..60, 0..60),
        steps in prop::collection::vec((0..3 * DAY, any::<bool>()), 1..12),
    ) {
        let rules = rules();
        let mut events: Vec<Option<Event>> = raw
            .iter()
            .enumerate()
            .map(|(i, r)| Some(build_event(i as u64, *r)))
            .collect();
        // Events arrive in a shuffled order, a few per step: late ones too.
        let mut order: Vec<usize> = (0..events.len()).collect();
        for (i, j) in arrival.iter().enumerate() {
            if i < order.len() {
                let j = j % order.len();
                order.swap(i, j);
            }
        }
        let mut subject = MemorySubject {
            kind: SubjectKind::Contact,
            tracker: Some(Tracker::new()),
            ..MemorySubject::default()
        };
        let per_step = order.len().div_ceil(steps.len()).max(1);
        let mut arriving = order.chunks(per_step);
        let mut now = BASE;
        for (advance, back) in steps {
            let mut edits = Vec::new();
            for &i in arriving.next().unwrap_or(&[]) {
                if let Some(event) = events[i].take() {
                    let before = subject.timeline.stamp();
                    subject.timeline.insert(event.clone());
                    let after = subject.timeline.stamp();
                    if after != before {
                        edits.push(LateInsert { event, before, after });
                    }
                }
            }
            if let (Some(tracker), false) = (subject.tracker.as_mut(), edits.is_empty()) {
                tracker.absorb(rules.track_plan(), SubjectKind::Contact, (&subject.timeline).into(), &edits);
            }
            now = if back { now - advance / 4 } else { now + advance };
            if let Some(mut tracker) = subject.tracker.take() {
                tracker.advance(rules.track_plan(), SubjectKind::Contact, (&subject.timeline).into(), now);
                // As after a start's walk: windows given back their spare
                // room answer the same, and go on growing after.
                if advance % 2 == 0 {
                    tracker.shrink_to_fit();
                }
                subject.tracker = Some(tracker);
            }
            compare(&rules, &mut subject, now)?;
        }
    }
}

/// The answers above come from the tracker, not from a second scan: a
/// tracker fed another history shows through.
#[test]
fn a_ready_tracker_is_what_evaluation_reads() {
    let rules = rules();
    let fed = bellwether_rules::Timeline::from_events(
        (0..5).map(|i| build_event(i, (i as i64 * HOUR, 2, 9, 1))),
    );
    let now = BASE + DAY;
    let mut tracker = Tracker::new();
    tracker.advance(rules.track_plan(), SubjectKind::Contact, (&fed).into(), now);
    let mut subject = MemorySubject {
        tracker: Some(tracker),
        ..MemorySubject::default()
    };
    let s16 = rules
        .evaluate_segment("s16", &subject, now)
        .map(|e| e.value);
    let plain = rules
        .evaluate_score("plain", &subject, now)
        .map(|s| s.at(now));
    assert_eq!((s16, plain), (Some(true), Some(4.0)));
    // At another instant the tracker is not ready: the (empty) scan answers.
    let later = rules
        .evaluate_segment("s16", &subject, now + 1)
        .map(|e| e.value);
    assert_eq!(later, Some(false));
    subject.tracker = None;
    assert_eq!(
        rules
            .evaluate_segment("s16", &subject, now)
            .map(|e| e.value),
        Some(false)
    );
}

/// A late batch behind the cursor (caps, windows, distinct sets, all
/// touched) is taken in place: the tracker does not start over, and its
/// answers are the scan's.
#[test]
fn late_events_are_taken_in_without_starting_over() {
    let rules = rules();
    let plan = rules.track_plan();
    let mut subject = MemorySubject {
        kind: SubjectKind::Contact,
        ..MemorySubject::default()
    };
    // Minutes 0..9 of each hour for three days: no two events share a time.
    let at = |i: u64| {
        (
            i as i64 % 72 * HOUR,
            (i % 4) as u8,
            (i / 72 % 10) as u8,
            (i % 3) as u8,
        )
    };
    for i in (0..360).filter(|i| i % 3 != 0) {
        subject.timeline.insert(build_event(i, at(i)));
    }
    let now = BASE + 4 * DAY;
    let mut tracker = Tracker::new();
    tracker.advance(plan, SubjectKind::Contact, (&subject.timeline).into(), now);
    let mut edits = Vec::new();
    for i in (0..360).filter(|i| i % 3 == 0) {
        let event = build_event(i, at(i));
        let before = subject.timeline.stamp();
        subject.timeline.insert(event.clone());
        let after = subject.timeline.stamp();
        edits.push(LateInsert {
            event,
            before,
            after,
        });
    }
    assert!(
        tracker.absorb(
            plan,
            SubjectKind::Contact,
            (&subject.timeline).into(),
            &edits
        ),
        "a late batch without ties is taken in"
    );
    tracker.advance(plan, SubjectKind::Contact, (&subject.timeline).into(), now);
    subject.tracker = Some(tracker);
    compare(&rules, &mut subject, now).unwrap_or_else(|e| panic!("{e}"));
    // An edit it did not see (the stamps do not chain) is refused.
    let stale = LateInsert {
        event: build_event(999, at(1)),
        before: 0,
        after: subject.timeline.stamp(),
    };
    let mut tracker = subject.tracker.take().unwrap_or_default();
    assert!(!tracker.absorb(
        plan,
        SubjectKind::Contact,
        (&subject.timeline).into(),
        &[stale]
    ));
}
