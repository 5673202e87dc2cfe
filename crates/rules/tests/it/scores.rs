//! Score math: decay, caps, while points, roll-ups, exact crossings.

use bellwether_rules::{MemorySubject, RuleSet, ScoreValue, SubjectKind, DAY};
use serde_json::json;

use crate::support::{day, page, subject, track};

fn rules(text: &str) -> RuleSet {
    RuleSet::from_toml("scores.toml", text).unwrap_or_else(|d| panic!("{}", d.render()))
}

const SCORES: &str = r#"
[[score]]
name = "intent"
half_life = "10d"
rules = [
  { on = 'page where path = "/pricing"', points = 10 },
  { on = '"Email Opened"', points = 2, cap = "3 per day" },
  { while = 'days_since(any) >= 5', points = -4 },
]

[[score]]
name = "flat"
rules = [{ on = '"Email Opened"', points = 1, cap = "4" }]

[[score]]
name = "team"
subject = "account"
half_life = "10d"
rules = [{ rollup = "intent", agg = "top 2" }, { on = '"Deal Won"', points = 5 }]

[[segment]]
name = "warm"
when = 'score("intent") >= 12'
"#;

fn contact() -> MemorySubject {
    let events = vec![
        page(0.0, "/pricing"),
        track(1.0, "Email Opened", json!({})),
        track(1.1, "Email Opened", json!({})),
        track(1.2, "Email Opened", json!({})),
        track(2.0, "Email Opened", json!({})),
    ];
    subject(SubjectKind::Contact, events, &[])
}

#[test]
fn decays_caps_and_while_points() {
    let rules = rules(SCORES);
    let contact = contact();
    let value = rules
        .evaluate_score("intent", &contact, day(2.0))
        .unwrap_or(ScoreValue::fixed(0.0));
    // 10 at day 0, 2 + 1 (capped at 3 per day) on day 1, 2 on day 2.
    let expected = 10.0 * 0.5f64.powf(0.2) + 2.0 * 0.5f64.powf(0.1) + 1.0 * 0.5f64.powf(0.09) + 2.0;
    assert!((value.at(day(2.0)) - expected).abs() < 1e-9, "{value:?}");
    // the while rule starts at day 7 (5 days after the last event)
    assert_eq!(value.next_change, Some(day(7.0)));
    let later = rules
        .evaluate_score("intent", &contact, day(7.0))
        .unwrap_or(ScoreValue::fixed(0.0));
    assert_eq!(later.constant, -4.0);
    assert_eq!(
        later.decaying, value.decaying,
        "the decaying part is anchored on events, not on now"
    );
    let flat = rules
        .evaluate_score("flat", &contact, day(30.0))
        .unwrap_or(ScoreValue::fixed(0.0));
    assert_eq!(flat.at(day(30.0)), 4.0);
}

#[test]
fn a_decaying_score_crosses_its_threshold_at_the_exact_millisecond() {
    let rules = rules(SCORES);
    let mut contact = contact();
    let value = rules
        .evaluate_score("intent", &contact, day(2.0))
        .unwrap_or(ScoreValue::fixed(0.0));
    contact.scores.insert("intent".into(), value);
    let now = rules
        .evaluate_segment("warm", &contact, day(2.0))
        .unwrap_or_else(|| panic!("no segment"));
    assert!(now.value);
    let crossing = now.next_change.unwrap_or(0);
    assert!(crossing < day(7.0), "crossing {crossing}");
    assert!(value.at(crossing) < 12.0 && value.at(crossing - 1) >= 12.0);
    let after = rules
        .evaluate_segment("warm", &contact, crossing)
        .map(|e| e.value);
    let before = rules
        .evaluate_segment("warm", &contact, crossing - 1)
        .map(|e| e.value);
    assert_eq!((before, after), (Some(true), Some(false)));
}

#[test]
fn account_scores_roll_up_their_contacts() {
    let rules = rules(SCORES);
    let now = day(3.0);
    let mut account = subject(
        SubjectKind::Account,
        vec![track(2.5, "Deal Won", json!({}))],
        &[],
    );
    for (i, amount) in [30.0, 10.0, 20.0].into_iter().enumerate() {
        let mut c = subject(SubjectKind::Contact, vec![], &[]);
        c.id = format!("c{i}");
        let form = ScoreValue {
            constant: 0.0,
            decaying: amount,
            anchor: day(i as f64),
            half_life: Some(10 * DAY),
            next_change: None,
        };
        c.scores.insert("intent".into(), form);
        account.contacts.push(c);
    }
    let value = rules
        .evaluate_score("team", &account, now)
        .unwrap_or(ScoreValue::fixed(0.0));
    let contact_value = |amount: f64, at: f64| amount * 0.5f64.powf((3.0 - at) / 10.0);
    let expected = contact_value(30.0, 0.0) + contact_value(20.0, 2.0) + 5.0 * 0.5f64.powf(0.05);
    assert!(
        (value.at(now) - expected).abs() < 1e-9,
        "{} vs {expected}",
        value.at(now)
    );
    let explained = rules
        .explain_score("team", &account, now)
        .map(|e| e.rules.len());
    assert_eq!(explained, Some(2));
}

#[test]
fn top_n_changes_when_contacts_swap_places() {
    let rules = rules(SCORES);
    let now = day(0.0);
    let mut account = subject(SubjectKind::Account, vec![], &[]);
    let forms = [
        ScoreValue {
            constant: 0.0,
            decaying: 100.0,
            anchor: now,
            half_life: Some(10 * DAY),
            next_change: None,
        },
        ScoreValue {
            constant: 40.0,
            decaying: 0.0,
            anchor: now,
            half_life: Some(10 * DAY),
            next_change: None,
        },
        ScoreValue {
            constant: 30.0,
            decaying: 0.0,
            anchor: now,
            half_life: Some(10 * DAY),
            next_change: None,
        },
    ];
    for form in forms {
        let mut c = subject(SubjectKind::Contact, vec![], &[]);
        c.scores.insert("intent".into(), form);
        account.contacts.push(c);
    }
    let value = rules
        .evaluate_score("team", &account, now)
        .unwrap_or(ScoreValue::fixed(0.0));
    assert_eq!(value.at(now), 140.0);
    // 100·2^(−t/10d) falls below 30 at t = 10·log2(100/30) days.
    let swap = now + (10.0 * (100.0f64 / 30.0).log2() * DAY as f64).ceil() as i64;
    let next = value.next_change.unwrap_or(0);
    assert!((next - swap).abs() <= 1, "next {next} swap {swap}");
}

#[test]
fn caps_parse_and_reject() {
    let bad = SCORES.replace("3 per day", "3 per fortnight");
    let diagnostics = bellwether_rules::check_file("scores.toml", &bad);
    assert_eq!(diagnostics.diagnostics.len(), 1, "{}", diagnostics.render());
    for good in ["3 per week", "3 per 12h", "3"] {
        assert!(
            bellwether_rules::check_file("scores.toml", &SCORES.replace("3 per day", good))
                .is_empty()
        );
    }
}

#[test]
fn next_crossing_finds_a_threshold() {
    let form = ScoreValue {
        constant: 0.0,
        decaying: 100.0,
        anchor: 0,
        half_life: Some(10 * DAY),
        next_change: None,
    };
    let crossing = form.next_crossing(50.0, 0).unwrap_or(0);
    assert!(form.at(crossing) < 50.0 && form.at(crossing - 1) >= 50.0);
    assert_eq!(ScoreValue::fixed(3.0).next_crossing(1.0, 0), None);
}
