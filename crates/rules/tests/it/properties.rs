//! Property tests: (a) event order does not matter; (b) the value holds from
//! `now` until the returned next-change instant (no missed transition).

use bellwether_rules::{Condition, Event, MemorySubject, RuleSet, SubjectKind, Timeline, DAY};
use proptest::prelude::*;
use serde_json::json;

use crate::support::{arb_event, build_event, cases, BASE};

const DEFINITIONS: &str = r#"
[[score]]
name = "intent"
half_life = "2d"
rules = [
  { on = 'page where path = "/pricing"', points = 10 },
  { on = '"A"', points = 3, cap = "6 per day" },
  { on = '"B"', points = -2 },
  { while = 'days_since(any) >= 3', points = -5 },
]
"#;

const CONDITIONS: &[&str] = &[
    r#"count(page where path = "/pricing", last 2d) >= 2"#,
    r#"count("A", between 3d and 1d ago) >= 1"#,
    "exists(any, last 2d)",
    "not exists(any, last 5d)",
    r#"days_since("B") >= 1.5"#,
    "active_days(last 3d) >= 2",
    r#"sequence("A" then "B" within 1d, last 4d)"#,
    r#"sum("A", v, last 2d) > 5 or max("B", v, between 4d and 1d ago) >= 7"#,
    r#"distinct("A", v, last 3d) >= 2"#,
    r#"count("A", last 3d) < 2 and distinct("B", v, last 2d) <= 1"#,
    r#"first("A", last 3d).v > 4"#,
    r#"exists("B", within 1d of first("A"))"#,
    r#"each(last 2 "A" followed_by "B" on k)"#,
    r#"score("intent") >= 12"#,
    r#"score("intent") between 3 and 9"#,
    r#"score("intent") + days_since(any) * 2 >= 25"#,
    r#"days_since(page) - days_since("A") > 0.5"#,
    r#"trait.plan = "pro" and past(trait.plan, 2d) != "pro""#,
];

fn conditions(rules: &RuleSet) -> Vec<Condition> {
    CONDITIONS
        .iter()
        .map(|text| {
            rules
                .condition(SubjectKind::Contact, text)
                .unwrap_or_else(|d| panic!("{}", d.render()))
        })
        .collect()
}

fn contact(events: Vec<Event>, plan_change: i64) -> MemorySubject {
    let mut traits = bellwether_rules::Traits::new();
    traits.set("plan", BASE, json!("free"));
    traits.set("plan", BASE + plan_change, json!("pro"));
    MemorySubject {
        timeline: Timeline::from_events(events),
        traits,
        ..MemorySubject::default()
    }
}

/// The engine's view at `now`: the score computed at `now` is handed over
/// until its own next change.
fn with_score(rules: &RuleSet, mut subject: MemorySubject, now: i64) -> MemorySubject {
    if let Some(score) = rules.evaluate_score("intent", &subject, now) {
        subject.scores.insert("intent".into(), score);
    }
    subject
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    #[test]
    fn evaluation_does_not_depend_on_event_order(
        raw in prop::collection::vec(arb_event(), 0..40),
        now_offset in 0..12 * DAY,
        seed in any::<u64>(),
    ) {
        let rules = RuleSet::from_toml("p.toml", DEFINITIONS).unwrap_or_else(|d| panic!("{}", d.render()));
        let events: Vec<Event> = raw.iter().enumerate().map(|(i, r)| build_event(i as u64, *r)).collect();
        let mut shuffled = events.clone();
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
            shuffled.swap(i, j);
        }
        let mut inserted = Timeline::new();
        for event in shuffled {
            inserted.insert(event);
        }
        let now = BASE + now_offset;
        let a = with_score(&rules, contact(events, 5 * DAY), now);
        let mut b = contact(vec![], 5 * DAY);
        b.timeline = inserted;
        let b = with_score(&rules, b, now);
        prop_assert_eq!(a.scores.get("intent"), b.scores.get("intent"));
        for condition in conditions(&rules) {
            prop_assert_eq!(condition.evaluate(&a, now), condition.evaluate(&b, now));
        }
    }

    #[test]
    fn no_transition_is_missed(
        raw in prop::collection::vec(arb_event(), 0..40),
        now_offset in 0..12 * DAY,
        plan_change in 0..12 * DAY,
        probes in prop::collection::vec(0.0f64..1.0, 6),
    ) {
        let rules = RuleSet::from_toml("p.toml", DEFINITIONS).unwrap_or_else(|d| panic!("{}", d.render()));
        let events: Vec<Event> = raw.iter().enumerate().map(|(i, r)| build_event(i as u64, *r)).collect();
        let now = BASE + now_offset;
        let subject = with_score(&rules, contact(events, plan_change), now);
        let score_form = subject.scores.get("intent").copied();
        for (index, condition) in conditions(&rules).iter().enumerate() {
            let at_now = condition.evaluate(&subject, now);
            let end = at_now.next_change.unwrap_or(now + 30 * DAY);
            prop_assert!(end > now, "condition {} returned next {} <= now {}", index, end, now);
            let mut instants: Vec<i64> = probes.iter().map(|p| now + 1 + ((end - now - 1) as f64 * p) as i64).collect();
            instants.push(end - 1);
            for t in instants.into_iter().filter(|t| *t > now && *t < end) {
                if let Some(form) = score_form {
                    let fresh = rules.evaluate_score("intent", &subject, t);
                    if form.next_change.is_none_or(|n| t < n) {
                        prop_assert_eq!(fresh.map(|f| f.at(t)), Some(form.at(t)), "score form at {}", t);
                    }
                }
                let later = condition.evaluate(&subject, t);
                prop_assert_eq!(later.value, at_now.value, "{} changed at {} before next {}", CONDITIONS[index], t, end);
            }
        }
    }
}
