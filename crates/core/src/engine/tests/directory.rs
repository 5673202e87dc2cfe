//! The directory: search by id, email, name or domain, filters, score
//! order and keyset pages that neither skip nor repeat.

use super::*;
use crate::engine::{DirectoryOrder, DirectoryQuery};

fn identify(user: &str, traits: Value, at: i64) -> Message {
    let mut message = message(MessageKind::Identify, Some(user), None, "", at);
    message.event = None;
    message.traits = traits.as_object().cloned().unwrap_or_default();
    message
}

/// ann (30 intent), bob (10), cyd (20), dee (no demo, not warm).
fn engine_with_people() -> Engine {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut messages = vec![
        identify(
            "ann",
            json!({"email": "Ann@Acme.io", "name": "Ann Archer"}),
            T0,
        ),
        identify(
            "bob",
            json!({"email": "bob@globex.com", "firstName": "Bob", "lastName": "Stone"}),
            T0,
        ),
        identify("dee", json!({"email": "dee@acme.io"}), T0),
    ];
    for (user, demos) in [("ann", 3), ("bob", 1), ("cyd", 2)] {
        for n in 0..demos {
            messages.push(track(user, "Demo Requested", T0 + 1 + n));
        }
    }
    let mut ops = feed.ops(&messages);
    // The writer stages identify traits as their own op.
    for op in ops.clone() {
        if let WriteOp::Event(stored) = op {
            if stored.message.kind == MessageKind::Identify {
                ops.push(WriteOp::ContactTraits {
                    contact: stored.contact_id.expect("a contact"),
                    traits: stored.message.traits.clone(),
                    at: stored.message.timestamp,
                    seq: stored.seq,
                });
            }
        }
    }
    engine.apply(&ops, T0 + 10);
    engine
}

fn query<'a>(search: Option<&'a str>, order: DirectoryOrder<'a>) -> DirectoryQuery<'a> {
    DirectoryQuery {
        kind: bellwether_rules::SubjectKind::Contact,
        search,
        segment: None,
        tier: None,
        order,
        after: None,
        limit: 10,
        now: T0 + 10,
    }
}

fn ids(page: &crate::engine::DirectoryPage) -> Vec<&str> {
    page.entries.iter().map(|e| e.id.as_str()).collect()
}

#[test]
fn search_matches_ids_emails_names_and_domains_case_insensitively() {
    let engine = engine_with_people();
    let by = |needle| ids(&engine.directory(&query(Some(needle), DirectoryOrder::Id))).join(",");
    assert_eq!(by("ACME.IO"), "ann,dee");
    assert_eq!(by("stone"), "bob", "first and last names");
    assert_eq!(by("archer"), "ann");
    assert_eq!(by("cy"), "cyd");
    assert_eq!(by("nobody"), "");
    let page = engine.directory(&query(Some("bob"), DirectoryOrder::Id));
    let bob = &page.entries[0];
    assert_eq!(bob.email.as_deref(), Some("bob@globex.com"));
    assert_eq!(bob.name.as_deref(), Some("Bob Stone"));
}

#[test]
fn filters_by_segment_and_tier_level() {
    let engine = engine_with_people();
    let mut warm = query(None, DirectoryOrder::Id);
    warm.segment = Some("warm");
    let page = engine.directory(&warm);
    assert_eq!((ids(&page), page.matched), (vec!["ann", "bob", "cyd"], 3));
    let mut high = query(None, DirectoryOrder::Id);
    high.tier = Some(("intent_level", "high"));
    assert_eq!(ids(&engine.directory(&high)), ["ann", "cyd"]);
}

#[test]
fn score_order_pages_follow_each_other_without_gaps_or_repeats() {
    let engine = engine_with_people();
    let mut page_query = query(None, DirectoryOrder::Score("intent"));
    page_query.limit = 2;
    let mut seen = Vec::new();
    loop {
        let page = engine.directory(&page_query);
        assert_eq!(page.matched, 4);
        seen.extend(page.entries.iter().map(|e| e.id.clone()));
        let Some(last) = page.entries.last().filter(|_| page.more) else {
            break;
        };
        page_query.after = Some(last.position());
    }
    // dee has no intent score event: 0 points, last.
    assert_eq!(seen, ["ann", "cyd", "bob", "dee"]);
}

#[test]
fn member_chunks_cover_every_member_once_with_scores() {
    let engine = engine_with_people();
    let scores = vec!["intent".to_owned(), "missing".to_owned()];
    let mut after = None;
    let mut rows = Vec::new();
    loop {
        let chunk = engine.member_chunk("warm", after.as_ref(), 2, &scores, T0 + 10);
        assert!(chunk.rows.len() <= 2);
        rows.extend(chunk.rows);
        match chunk.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["ann", "bob", "cyd"]);
    let ann = rows.iter().find(|r| r.id == "ann").expect("ann");
    assert!((ann.scores[0].expect("an intent score") - 30.0).abs() < 0.01);
    assert_eq!(ann.scores[1], None);
    assert!(engine
        .member_chunk("nope", None, 2, &scores, T0)
        .rows
        .is_empty());
}
