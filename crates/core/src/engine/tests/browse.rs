//! Ranked members with search and tier level counts (the web UI's queries).

use super::*;
use crate::engine::MemberQuery;

fn engine_with_intents() -> Engine {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    // ann: 3 demos (30), bob: 1 (10), cyd: 2 (20); all are "warm" (>= 5).
    let mut messages = Vec::new();
    for (user, demos) in [("ann", 3), ("bob", 1), ("cyd", 2)] {
        for n in 0..demos {
            messages.push(track(user, "Demo Requested", T0 + n));
        }
    }
    let ops = feed.ops(&messages);
    engine.apply(&ops, T0 + 10);
    engine
}

fn query<'a>(score: Option<&'a str>, search: Option<&'a str>, offset: usize) -> MemberQuery<'a> {
    MemberQuery {
        segment: "warm",
        score,
        search,
        offset,
        limit: 2,
        now: T0 + 10,
    }
}

#[test]
fn members_rank_by_score_highest_first_in_pages() {
    let engine = engine_with_intents();
    let first = engine.ranked_members(query(Some("intent"), None, 0));
    let ids: Vec<&str> = first.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["ann", "cyd"]);
    assert_eq!(first.matched, 3);
    assert!((first.members[0].score.unwrap() - 30.0).abs() < 0.01);
    let second = engine.ranked_members(query(Some("intent"), None, 2));
    let ids: Vec<&str> = second.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["bob"]);
}

#[test]
fn search_filters_ids_case_insensitively_and_counts_matches() {
    let engine = engine_with_intents();
    let page = engine.ranked_members(query(Some("intent"), Some(" B "), 0));
    let ids: Vec<&str> = page.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!((ids, page.matched), (vec!["bob"], 1));
    let without_score = engine.ranked_members(query(None, None, 0));
    let ids: Vec<&str> = without_score
        .members
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, ["ann", "bob"], "no score: by id");
    assert!(engine
        .ranked_members(MemberQuery {
            segment: "nope",
            ..query(None, None, 0)
        })
        .members
        .is_empty());
}

#[test]
fn tier_levels_are_counted_in_level_order() {
    let engine = engine_with_intents();
    let counts = engine.tier_level_counts();
    assert_eq!(counts.len(), 1);
    let tier = &counts[0];
    assert_eq!(
        (tier.name.as_str(), tier.subject),
        ("intent_level", "contact")
    );
    assert_eq!(
        tier.levels,
        [("high".to_owned(), 2), ("low".to_owned(), 1)],
        "ann 30 and cyd 20 are high, bob 10 is low"
    );
    assert_eq!(tier.unplaced, 0);
}

#[test]
fn tier_explanations_list_every_level() {
    let engine = engine_with_intents();
    let contact = engine
        .state
        .contacts
        .iter()
        .find(|(_, c)| c.label == "bob")
        .map(|(id, _)| *id)
        .expect("bob");
    let levels = engine
        .explain_contact_tier(contact, "intent_level", T0 + 10)
        .expect("a tier explanation");
    let names: Vec<&str> = levels.iter().map(|l| l.level.as_str()).collect();
    // `low` is the literal `true`: literals have no explanation tree.
    assert_eq!(names, ["high"]);
    assert_eq!(levels[0].explanation.holds, Some(false));
    assert!(engine.explain_contact_tier(contact, "nope", T0).is_none());
}

#[test]
fn event_counts_are_by_kind_and_name_most_frequent_first() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[
        track("ann", "Demo Requested", T0),
        track("bob", "Demo Requested", T0 + 1),
        message(MessageKind::Page, Some("ann"), None, "Pricing", T0 + 2),
        track("cyd", "Signed Up", T0 + 3),
    ]);
    engine.apply(&ops, T0 + 10);
    let counts: Vec<(bellwether_rules::EventKind, String, u64)> = engine
        .event_counts()
        .into_iter()
        .map(|c| (c.kind, c.name, c.count))
        .collect();
    use bellwether_rules::EventKind::{Page, Track};
    assert_eq!(
        counts,
        [
            (Track, "Demo Requested".to_owned(), 2),
            (Page, "Pricing".to_owned(), 1),
            (Track, "Signed Up".to_owned(), 1),
        ]
    );
}
