//! A timer re-evaluates only the definitions it concerns, and the values
//! stay those of a from-scratch evaluation.

use super::*;
use crate::engine::dirty::Due;

/// The definitions a timer at `at` would evaluate for the only contact.
fn dirty_at(engine: &mut Engine, at: i64) -> Vec<String> {
    let id = *engine.state.contacts.keys().next().expect("one contact");
    let rules = Arc::clone(&engine.view.rules);
    match engine.due_plan(&SubjectKey::Contact(id), at, None) {
        Due::Idle { .. } => Vec::new(),
        Due::Evaluate(Plan::Tracked(Some(dirty))) => rules
            .order()
            .iter()
            .zip(dirty.flags)
            .filter(|(_, flag)| *flag)
            .map(|(def, _)| def.name.to_string())
            .collect(),
        _ => vec!["everything".to_owned()],
    }
}

#[test]
fn a_window_edge_re_evaluates_its_definition_alone() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    engine.apply(&ops, T0 + HOUR);
    // `count("Pricing Viewed", last 7d)` changes when the first view
    // leaves the window; nothing else the contact has changes then.
    assert_eq!(dirty_at(&mut engine, T0 + 7 * DAY), ["pricing_twice"]);
    let before = evaluations(&engine);
    let changes = engine.process_due(T0 + 7 * DAY);
    assert_eq!(
        changes_of(&changes, "pricing_twice"),
        [("exited", T0 + 7 * DAY)]
    );
    assert_eq!(engine.live_memberships(), engine.evaluate_all(T0 + 7 * DAY));
    // Health counts what ran: the one definition (and those reading it).
    let after = evaluations(&engine);
    let grew: Vec<&str> = after
        .iter()
        .zip(&before)
        .filter(|(a, b)| a.1 > b.1)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert!(grew.contains(&"pricing_twice"), "{grew:?}");
    assert!(!grew.contains(&"intent"), "{grew:?}");
}

/// Each contact definition's health count, by name.
fn evaluations(engine: &Engine) -> Vec<(String, u64)> {
    engine
        .definition_health()
        .into_iter()
        .filter(|d| d.subject == bellwether_rules::SubjectKind::Contact)
        .map(|d| (d.name, d.evaluations))
        .collect()
}

#[test]
fn a_stored_event_re_evaluates_the_definitions_that_name_it() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    // Stored now, effective at its own (later) time: its timer is the
    // event's arrival.
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Demo Requested", T0 + DAY),
    ]);
    engine.apply(&ops, T0);
    let mut dirty = dirty_at(&mut engine, T0 + DAY);
    dirty.sort();
    // The demo earns intent points and is activity (`days_since(any)`);
    // `warm` and the tier read the score, so they follow if it changes.
    assert_eq!(dirty, ["dormant", "intent"]);
    let changes = engine.process_due(T0 + DAY);
    assert_eq!(changes_of(&changes, "warm"), [("entered", T0 + DAY)]);
    assert_eq!(engine.live_memberships(), engine.evaluate_all(T0 + DAY));
}

#[test]
fn an_edited_timeline_re_evaluates_everything() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[track("u", "Pricing Viewed", T0)]);
    engine.apply(&ops, T0);
    let id = *engine.state.contacts.keys().next().expect("one contact");
    if let Some(contact) = engine.view.state.contacts.get_mut(&id) {
        contact.timeline.drop_before(T0 + 1);
    }
    assert_eq!(dirty_at(&mut engine, T0 + 7 * DAY), ["everything"]);
}

/// An account's definition runs again after a contact's change only when it
/// reads what changed: a roll-up of `intent` not after a login that earns
/// no points, `busy` (the logins) after every login.
#[test]
fn an_account_re_evaluates_only_what_its_contacts_changed() {
    let rules = Arc::new(
        RuleSet::from_toml(
            "t.toml",
            r#"
            [[score]]
            name = "intent"
            subject = "contact"
            rules = [{ on = '"Demo Requested"', points = 10 }]
            [[score]]
            name = "team_intent"
            subject = "account"
            rules = [{ rollup = "intent", agg = "sum" }]
            [[segment]]
            name = "committee"
            subject = "account"
            when = 'count(contacts where score("intent") >= 10) >= 2'
            [[segment]]
            name = "busy"
            subject = "account"
            when = 'count("Logged In", last 7d) >= 2'
            "#,
        )
        .expect("valid rules"),
    );
    let mut engine = Engine::new(rules);
    let mut feed = Feed::new();
    let mut messages = Vec::new();
    for user in ["ann", "bob"] {
        let mut joined = message(MessageKind::Group, Some(user), None, "", T0);
        joined.group_id = Some("acme".into());
        joined.event = None;
        messages.push(joined);
    }
    // Stored now, effective at their own times: each is a timer.
    messages.extend([
        track("ann", "Logged In", T0 + HOUR),
        track("bob", "Logged In", T0 + 2 * HOUR),
        track("ann", "Demo Requested", T0 + 3 * HOUR),
        track("bob", "Demo Requested", T0 + 4 * HOUR),
    ]);
    let ops = feed.ops(&messages);
    engine.apply(&ops, T0);
    let account_runs = |engine: &Engine| -> Vec<(String, u64)> {
        engine
            .definition_health()
            .into_iter()
            .filter(|d| d.subject == SubjectKind::Account)
            .map(|d| (d.name, d.evaluations))
            .collect()
    };
    let grew = |before: &[(String, u64)], after: &[(String, u64)]| -> Vec<String> {
        let mut grew: Vec<String> = after
            .iter()
            .zip(before)
            .filter(|(a, b)| a.1 > b.1)
            .map(|(a, _)| a.0.clone())
            .collect();
        grew.sort();
        grew
    };

    let before = account_runs(&engine);
    let changes = engine.process_due(T0 + 2 * HOUR);
    assert_eq!(changes_of(&changes, "busy"), [("entered", T0 + 2 * HOUR)]);
    assert_eq!(grew(&before, &account_runs(&engine)), ["busy"]);

    let before = account_runs(&engine);
    let changes = engine.process_due(T0 + 4 * HOUR);
    assert_eq!(
        changes_of(&changes, "committee"),
        [("entered", T0 + 4 * HOUR)]
    );
    assert_eq!(
        grew(&before, &account_runs(&engine)),
        ["committee", "team_intent"]
    );
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(T0 + 4 * HOUR)
    );
    let acme = SubjectKey::Account("acme".into());
    let team = engine
        .values
        .get(&acme)
        .and_then(|v| v.score("team_intent"));
    assert_eq!(team.map(|s| s.at(T0 + 4 * HOUR)), Some(20.0));
}

/// An account gathers its contacts only for an evaluation that may compute
/// a definition reading them: flagged, or reading a flagged one's value.
#[test]
fn members_are_gathered_only_when_a_definition_reading_them_may_run() {
    let rules = RuleSet::from_toml(
        "t.toml",
        r#"
        [[score]]
        name = "intent"
        subject = "contact"
        rules = [{ on = '"Demo Requested"', points = 10 }]
        [[score]]
        name = "fit"
        subject = "account"
        rules = [{ while = 'trait.seats >= 10', points = 10 }]
        [[segment]]
        name = "fit_committee"
        subject = "account"
        when = 'score("fit") > 0 and count(contacts where score("intent") >= 10) >= 1'
        [[segment]]
        name = "busy"
        subject = "account"
        when = 'exists("Logged In", last 7d)'
        "#,
    )
    .expect("valid rules");
    let only =
        |name: &str| -> Vec<bool> { rules.order().iter().map(|d| &*d.name == name).collect() };
    assert!(!crate::engine::dirty::may_read_members(
        &rules,
        &only("busy")
    ));
    assert!(crate::engine::dirty::may_read_members(
        &rules,
        &only("fit_committee")
    ));
    assert!(
        crate::engine::dirty::may_read_members(&rules, &only("fit")),
        "fit_committee reads fit: it may run after it"
    );
}

#[test]
fn while_a_false_operand_decides_an_and_the_others_inputs_wait() {
    let rules = RuleSet::from_toml(
        "and.toml",
        r#"
[[segment]]
name = "pro_regular"
subject = "contact"
when = 'trait.plan = "pro" and count("Logged In") >= 2'
"#,
    )
    .expect("valid rules");
    let mut engine = Engine::new(Arc::new(rules));
    let mut feed = Feed::new();
    let plan = |plan: &str, at: i64| {
        let mut identify = message(MessageKind::Identify, Some("u"), None, "", at);
        identify.traits.insert("plan".into(), json!(plan));
        identify
    };
    let ops = feed.ops(&[
        plan("free", T0),
        track("u", "Logged In", T0 + HOUR),
        track("u", "Logged In", T0 + 2 * HOUR),
    ]);
    engine.apply(&ops, T0);
    // The logins reach `count("Logged In")` only: with a free plan the
    // answer stays false whatever they count.
    assert_eq!(dirty_at(&mut engine, T0 + HOUR), Vec::<String>::new());
    assert_eq!(
        changes_of(&engine.process_due(T0 + 2 * HOUR), "pro_regular"),
        []
    );
    // The plan is the deciding operand's input: it enters with both logins.
    let upgrade = feed.ops(&[plan("pro", T0 + 3 * HOUR)]);
    let changes = engine.apply(&upgrade, T0 + 3 * HOUR);
    assert_eq!(
        changes_of(&changes, "pro_regular"),
        [("entered", T0 + 3 * HOUR)]
    );
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(T0 + 3 * HOUR)
    );
}

#[test]
fn a_timer_that_reaches_no_definition_evaluates_nothing_and_keeps_the_next_one() {
    let rules = RuleSet::from_toml(
        "demo.toml",
        r#"
[[segment]]
name = "demo_this_week"
subject = "contact"
when = 'count("Demo Requested", last 7d) >= 1'
"#,
    )
    .expect("valid rules");
    let mut engine = Engine::new(Arc::new(rules));
    let mut feed = Feed::new();
    // Stored now, each effective at its own time: page views no definition
    // names, around a demo request.
    let ops = feed.ops(&[
        track("u", "Page Viewed", T0),
        track("u", "Demo Requested", T0 + HOUR),
        track("u", "Page Viewed", T0 + 2 * HOUR),
        track("u", "Page Viewed", T0 + 3 * HOUR),
    ]);
    engine.apply(&ops, T0);
    let evaluated = |engine: &Engine| evaluations(engine)[0].1;
    let before = evaluated(&engine);
    assert_eq!(
        changes_of(&engine.process_due(T0 + HOUR), "demo_this_week"),
        [("entered", T0 + HOUR)]
    );
    assert_eq!(evaluated(&engine), before + 1);
    // The views reach nothing: the values hold, nothing is computed, and
    // the timer goes to the next stored event, then to the demo's leaving
    // the window.
    assert_eq!(dirty_at(&mut engine, T0 + 2 * HOUR), Vec::<String>::new());
    engine.process_due(T0 + 2 * HOUR);
    assert_eq!(engine.next_deadline(), Some(T0 + 3 * HOUR));
    engine.process_due(T0 + 3 * HOUR);
    assert_eq!(engine.next_deadline(), Some(T0 + HOUR + 7 * DAY));
    assert_eq!(evaluated(&engine), before + 1);
    assert_eq!(engine.view.health.held_timers(), 2);
    assert_eq!(
        changes_of(&engine.process_due(T0 + 8 * DAY), "demo_this_week"),
        [("exited", T0 + HOUR + 7 * DAY)]
    );
    assert_eq!(engine.live_memberships(), engine.evaluate_all(T0 + 8 * DAY));
}
