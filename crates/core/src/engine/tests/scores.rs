//! Score history: a record each time a score's closed form changes, none
//! for decay alone, none repeated across a restart.

use super::*;

const STATE_RULES: &str = r#"
[[score]]
name = "engagement"
subject = "contact"
half_life = "7d"
rules = [
  { on = '"Demo Requested"', points = 10 },
  { while = 'days_since(any) >= 14', points = -5 },
]
"#;

fn scored(records: &[ScoreRecord], score: &str) -> Vec<(i64, f64, f64)> {
    records
        .iter()
        .filter(|r| r.score == score)
        .map(|r| (r.at, r.constant, r.decaying))
        .collect()
}

#[test]
fn events_and_state_points_are_recorded_decay_alone_is_not() {
    let rules = Arc::new(RuleSet::from_toml("s.toml", STATE_RULES).expect("valid rules"));
    let mut engine = Engine::new(rules);
    let mut feed = Feed::new();
    engine.apply(&feed.ops(&[track("u", "Demo Requested", T0)]), T0);
    let first = engine.take_score_changes();
    assert_eq!(scored(&first, "engagement"), [(T0, 0.0, 10.0)]);
    assert_eq!(first[0].label, "u");
    assert_eq!(first[0].value, 10.0);
    assert_eq!(first[0].half_life, Some(7 * DAY));

    // Seven days of decay: the value halves, the form does not change.
    engine.process_due(T0 + 7 * DAY);
    assert!(engine.take_score_changes().is_empty());

    // At 14 days of silence the state points apply, at that exact instant.
    engine.process_due(T0 + 20 * DAY);
    let silent = engine.take_score_changes();
    assert_eq!(scored(&silent, "engagement"), [(T0 + 14 * DAY, -5.0, 10.0)]);
    assert!((silent[0].value - (-5.0 + 2.5)).abs() < 1e-9, "{silent:?}");

    // A new event ends the silence and adds points: one record.
    engine.apply(
        &feed.ops(&[track("u", "Demo Requested", T0 + 21 * DAY)]),
        T0 + 21 * DAY,
    );
    let again = engine.take_score_changes();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].constant, 0.0);
    assert_eq!(again[0].at, T0 + 21 * DAY);
}

#[test]
fn account_rollups_are_recorded_for_the_account() {
    let text = r#"
[[score]]
name = "intent"
subject = "contact"
rules = [ { on = '"Demo Requested"', points = 10 } ]

[[score]]
name = "account_intent"
subject = "account"
rules = [ { rollup = "intent", agg = "sum" } ]
"#;
    let mut engine = Engine::new(Arc::new(RuleSet::from_toml("a.toml", text).unwrap()));
    let mut feed = Feed::new();
    let mut group = message(MessageKind::Group, Some("u"), None, "", T0);
    group.group_id = Some("acme".into());
    engine.apply(
        &feed.ops(&[group, track("u", "Demo Requested", T0 + 1)]),
        T0 + 1,
    );
    let records = engine.take_score_changes();
    let account: Vec<_> = records
        .iter()
        .filter(|r| r.subject.kind() == bellwether_rules::SubjectKind::Account)
        .map(|r| (r.subject.store_key(), r.score.as_str(), r.value))
        .collect();
    assert_eq!(account, [("acme".to_owned(), "account_intent", 10.0)]);
}
