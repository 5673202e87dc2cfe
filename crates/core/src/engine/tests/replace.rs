//! Replacing definitions while running: only what changed is evaluated, and
//! the result equals evaluating everything under the new definitions.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::engine::evaluate::{evaluate_account, evaluate_contact, Plan};

fn engine_with(messages: &[Message], now: i64) -> Engine {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    engine.apply(&feed.ops(messages), now);
    engine
}

fn evaluations(engine: &Engine) -> HashMap<String, u64> {
    engine
        .definition_health()
        .into_iter()
        .map(|h| (h.name, h.evaluations))
        .collect()
}

fn replaced(text: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::from_toml("new.toml", text).expect("valid rules"))
}

/// How many more times each definition was evaluated after `work`.
fn evaluated_during(engine: &mut Engine, work: impl FnOnce(&mut Engine)) -> HashMap<String, u64> {
    let before = evaluations(engine);
    work(engine);
    evaluations(engine)
        .into_iter()
        .map(|(name, after)| {
            let delta = after - before.get(&name).copied().unwrap_or(0);
            (name, delta)
        })
        .filter(|(_, delta)| *delta > 0)
        .collect()
}

/// Every subject's values recomputed from scratch at `at`, compared with the
/// live ones (scores by closed form: the live one may predate `at`).
fn assert_live_equals_fresh(engine: &Engine, at: i64) {
    let rules = engine.rules.clone();
    let mut fresh: HashMap<SubjectKey, Values> = HashMap::new();
    for (id, contact) in &engine.state.contacts {
        let account = contact
            .account
            .as_ref()
            .and_then(|a| engine.state.accounts.get(a));
        let values = evaluate_contact(&rules, contact, account, at, Plan::Everything, None);
        fresh.insert(SubjectKey::Contact(*id), values);
    }
    for (group_id, account) in &engine.state.accounts {
        let members: Vec<_> =
            crate::engine::evaluate::sorted_members(account.contacts.iter().copied())
                .into_iter()
                .filter_map(|id| {
                    Some((
                        engine.state.contacts.get(&id)?,
                        fresh.get(&SubjectKey::Contact(id))?,
                        None,
                    ))
                })
                .collect();
        let values = evaluate_account(&rules, group_id, account, &members, at, Plan::Everything);
        fresh.insert(SubjectKey::Account(group_id.clone()), values);
    }
    for (key, expected) in &fresh {
        let live = engine.values.get(key).cloned().unwrap_or_default();
        let segments = |v: &Values| -> BTreeMap<String, bool> {
            v.segments().map(|(n, m)| (n.to_string(), m)).collect()
        };
        let tiers = |v: &Values| -> BTreeMap<String, String> {
            v.tiers()
                .map(|(n, l)| (n.to_string(), l.to_string()))
                .collect()
        };
        assert_eq!(segments(&live), segments(expected), "segments of {key:?}");
        assert_eq!(tiers(&live), tiers(expected), "tiers of {key:?}");
        assert_eq!(
            live.scores().count(),
            expected.scores().count(),
            "scores of {key:?}"
        );
        for (name, score) in expected.scores() {
            let same = live.score(name).is_some_and(|l| l.same_form(score));
            assert!(
                same,
                "score {name} of {key:?}: {:?} vs {score:?}",
                live.score(name)
            );
        }
    }
}

#[test]
fn changing_only_an_owner_evaluates_nothing() {
    let mut engine = engine_with(&[track("u", "Pricing Viewed", T0)], T0);
    let with_owner = RULES.replace(
        "name = \"dormant\"\nsubject = \"contact\"",
        "name = \"dormant\"\nsubject = \"contact\"\nowner = \"cs-team\"\naction = \"call\"",
    );
    assert_ne!(with_owner, RULES, "the owner was added");
    let evaluated = evaluated_during(&mut engine, |engine| {
        let changes = engine.replace_rules(replaced(&with_owner), T0 + 1);
        assert!(changes.is_empty(), "{changes:?}");
    });
    assert!(evaluated.is_empty(), "{evaluated:?}");
}

#[test]
fn a_changed_segment_is_evaluated_alone() {
    let mut engine = engine_with(
        &[
            track("u", "Demo Requested", T0),
            track("v", "Pricing Viewed", T0),
        ],
        T0,
    );
    let stricter = RULES.replace("score(\"intent\") >= 5'", "score(\"intent\") >= 50'");
    let mut changes = Vec::new();
    let evaluated = evaluated_during(&mut engine, |engine| {
        changes = engine.replace_rules(replaced(&stricter), T0 + 1);
    });
    assert_eq!(evaluated, HashMap::from([("warm".to_owned(), 2)]));
    assert_eq!(changes_of(&changes, "warm"), [("exited", T0 + 1)]);
    assert_live_equals_fresh(&engine, T0 + 1);
}

#[test]
fn a_changed_score_carries_its_dependents_along() {
    let mut engine = engine_with(
        &[
            track("u", "Demo Requested", T0),
            track("v", "Pricing Viewed", T0),
            track("v", "Pricing Viewed", T0 + 1),
        ],
        T0 + 1,
    );
    let doubled = RULES.replace("points = 10", "points = 20");
    let mut changes = Vec::new();
    let evaluated = evaluated_during(&mut engine, |engine| {
        changes = engine.replace_rules(replaced(&doubled), T0 + 2);
    });
    let mut names: Vec<&str> = evaluated.keys().map(String::as_str).collect();
    names.sort_unstable();
    // `warm` and `intent_level` read the score; `pricing_twice`, `dormant`
    // and the account segment do not.
    assert_eq!(names, ["intent", "intent_level", "warm"]);
    assert_eq!(
        changes_of(&changes, "intent_level"),
        [("exited", T0 + 2), ("entered", T0 + 2)],
        "u moves from low to high"
    );
    assert_live_equals_fresh(&engine, T0 + 2);
}

#[test]
fn a_dropped_tier_exits_its_members_and_a_new_segment_fills() {
    let mut engine = engine_with(&[track("u", "Demo Requested", T0)], T0);
    let start = RULES.find("[[tier]]").expect("the test rules have a tier");
    let without_tier = format!(
        "{}\n[[segment]]\nname = \"demo_seen\"\nsubject = \"contact\"\nwhen = 'exists(\"Demo Requested\")'\n",
        &RULES[..start]
    );
    let changes = engine.replace_rules(replaced(&without_tier), T0 + 5);
    assert_eq!(changes_of(&changes, "intent_level").len(), 1, "{changes:?}");
    assert_eq!(changes_of(&changes, "intent_level")[0].0, "exited");
    assert_eq!(changes_of(&changes, "demo_seen"), [("entered", T0 + 5)]);
    assert!(engine.values.values().all(|v| v.tiers().next().is_none()));
    assert_live_equals_fresh(&engine, T0 + 5);
}

/// Variants of the test definitions a user might switch between.
fn variant(n: u8) -> String {
    match n % 4 {
        0 => RULES.to_owned(),
        1 => RULES.replace("points = 10", "points = 3"),
        2 => RULES
            .replace("last 7d) >= 2", "last 3d) >= 1")
            .replace(">= 15'", ">= 8'"),
        _ => RULES.replace(
            "count(contacts where in_segment(\"pricing_twice\")) >= 1",
            "count(contacts where in_segment(\"warm\")) >= 1",
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Whatever was stored and whichever definitions come and go, the live
    /// values after a replacement equal a from-scratch evaluation under the
    /// new definitions, and stay equal as timers fire afterwards.
    #[test]
    fn replaced_definitions_agree_with_full_evaluation(
        raw in proptest::collection::vec(arb_message(), 1..30),
        switches in proptest::collection::vec((0u8..4, 0i64..(20 * 24)), 1..4),
        extra_hours in 0i64..(30 * 24),
    ) {
        let messages: Vec<Message> = raw.into_iter().map(to_message).collect();
        let mut engine = Engine::new(rules());
        let mut feed = Feed::new();
        let mut seen = std::collections::HashSet::new();
        let fresh: Vec<Message> = messages.into_iter().filter(|m| seen.insert(m.message_id.clone())).collect();
        let mut now = fresh.iter().map(|m| m.timestamp).max().unwrap_or(T0);
        engine.apply(&feed.ops(&fresh), now);
        for (n, hours) in switches {
            now += hours * HOUR;
            engine.replace_rules(replaced(&variant(n)), now);
            assert_live_equals_fresh(&engine, now);
        }
        let at = now + extra_hours * HOUR;
        engine.process_due(at);
        assert_live_equals_fresh(&engine, at);
        prop_assert_eq!(engine.live_memberships(), engine.evaluate_all(at));
    }
}
