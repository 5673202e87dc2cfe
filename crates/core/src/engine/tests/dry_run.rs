//! The cheap dry run of a definitions change equals the from-scratch
//! evaluation under the new definitions, also when timers are due.

use super::*;

const CHANGED: &str = r#"
[[score]]
name = "intent"
subject = "contact"
half_life = "14d"
rules = [ { on = '"Demo Requested"', points = 10 } ]

[[segment]]
name = "pricing_twice"
subject = "contact"
when = 'count("Pricing Viewed", last 7d) >= 2'

[[segment]]
name = "warm"
subject = "contact"
when = 'score("intent") >= 15'

[[segment]]
name = "asked_for_demo"
subject = "contact"
when = 'exists("Demo Requested")'

[[segment]]
name = "active_account"
subject = "account"
when = 'count(contacts where in_segment("warm")) >= 1'
"#;

/// The test rules plus one contact segment: accounts keep their values.
fn one_more_contact_segment() -> RuleSet {
    let text = format!(
        "{RULES}\n[[segment]]\nname = \"logged_in\"\nsubject = \"contact\"\nwhen = 'exists(\"Logged In\", last 10d)'\n"
    );
    RuleSet::from_toml("more.toml", &text).expect("valid")
}

fn engine() -> Engine {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut messages = vec![
        track("ann", "Pricing Viewed", T0),
        track("ann", "Pricing Viewed", T0 + HOUR),
        track("bob", "Demo Requested", T0),
        track("bob", "Demo Requested", T0 + 1),
        track("cyd", "Demo Requested", T0),
        track("dan", "Logged In", T0),
    ];
    let mut joined = message(MessageKind::Group, Some("ann"), None, "", T0);
    joined.group_id = Some("acme".into());
    joined.event = None;
    messages.push(joined);
    let mut joined = message(MessageKind::Group, Some("bob"), None, "", T0);
    joined.group_id = Some("acme".into());
    joined.event = None;
    messages.push(joined);
    engine.apply(&feed.ops(&messages), T0 + HOUR);
    engine
}

#[test]
fn the_dry_run_equals_a_full_evaluation_under_the_new_definitions() {
    let engine = engine();
    let changed = RuleSet::from_toml("changed.toml", CHANGED).expect("valid");
    for at in [T0 + HOUR, T0 + 8 * DAY, T0 + 30 * DAY] {
        // Later instants have timers due that were never processed.
        assert_eq!(
            engine.memberships_under(&changed, at),
            engine.evaluate_all_with(&changed, at),
            "at T0 + {} h",
            (at - T0) / HOUR
        );
        assert_eq!(
            engine.memberships_under(&engine.rules, at),
            engine.evaluate_all(at)
        );
    }
    let now = engine.memberships_under(&changed, T0 + HOUR);
    let asked: Vec<&str> = now
        .iter()
        .filter(|m| m.segment == "asked_for_demo")
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(asked, ["bob", "cyd"]);
    assert!(
        now.iter().all(|m| m.segment != "dormant"),
        "dropped segments have no members"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Whatever the events and however late the dry run (timers due or
    /// not), it equals the full evaluation under the new definitions.
    #[test]
    fn the_dry_run_equals_a_full_evaluation_for_any_events(
        raw in proptest::collection::vec(arb_message(), 1..40),
        extra_hours in 0i64..(60 * 24),
    ) {
        let messages: Vec<Message> = raw.into_iter().map(to_message).collect();
        let mut seen = std::collections::HashSet::new();
        let fresh: Vec<Message> = messages.into_iter().filter(|m| seen.insert(m.message_id.clone())).collect();
        let now = fresh.iter().map(|m| m.timestamp).max().unwrap_or(T0);
        let mut engine = Engine::new(rules());
        let mut feed = Feed::new();
        engine.apply(&feed.ops(&fresh), now);
        let changed = RuleSet::from_toml("changed.toml", CHANGED).expect("valid");
        let at = now + extra_hours * HOUR;
        prop_assert_eq!(engine.memberships_under(&changed, at), engine.evaluate_all_with(&changed, at));
        prop_assert_eq!(engine.memberships_under(&engine.rules, at), engine.evaluate_all(at));
        let more = one_more_contact_segment();
        prop_assert_eq!(engine.memberships_under(&more, at), engine.evaluate_all_with(&more, at));
    }
}
