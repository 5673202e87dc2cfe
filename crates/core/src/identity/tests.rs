use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

fn message(kind: MessageKind, user: Option<&str>, anon: Option<&str>) -> Message {
    Message {
        source: "web".into(),
        message_id: format!("{kind:?}-{user:?}-{anon:?}"),
        kind,
        user_id: user.map(str::to_owned),
        anonymous_id: anon.map(str::to_owned),
        previous_id: None,
        group_id: None,
        event: None,
        properties: Map::new(),
        traits: Map::new(),
        context: Map::new(),
        timestamp: 1_000,
        received_at: 1_000,
        sent_at: None,
        original_timestamp: None,
    }
}

fn with_traits(mut message: Message, traits: Value) -> Message {
    if let Value::Object(map) = traits {
        message.traits = map;
    }
    message
}

fn graph() -> IdentityGraph {
    IdentityGraph::new(IdentityConfig::default())
}

#[test]
fn identify_with_both_ids_merges_anonymous_into_known() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let anon = graph
        .resolve(&message(MessageKind::Page, None, Some("a1")), &mut ops)
        .unwrap();
    let known = graph
        .resolve(&message(MessageKind::Identify, Some("u1"), None), &mut ops)
        .unwrap();
    assert_ne!(anon, known);
    let merged = graph
        .resolve(
            &message(MessageKind::Identify, Some("u1"), Some("a1")),
            &mut ops,
        )
        .unwrap();
    assert_eq!(merged, known, "the known contact survives");
    assert_eq!(graph.lookup(IdKind::Anonymous, "a1"), Some(known));
    assert!(ops.iter().any(|op| matches!(op, WriteOp::Merge { from, into, reason: MergeReason::Identify, .. } if *from == anon && *into == known)));
    assert_eq!(graph.live_contacts(), 1);
}

#[test]
fn alias_merges_previous_id_into_user() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let old = graph
        .resolve(&message(MessageKind::Track, Some("old"), None), &mut ops)
        .unwrap();
    let mut alias = message(MessageKind::Alias, Some("new"), None);
    alias.previous_id = Some("old".into());
    let contact = graph.resolve(&alias, &mut ops).unwrap();
    assert_eq!(contact, old);
    assert_eq!(graph.lookup(IdKind::User, "new"), Some(old));
}

#[test]
fn email_trait_links_contacts() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let a = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, None, Some("a")),
                json!({"email": "Jo@Acme.io"}),
            ),
            &mut ops,
        )
        .unwrap();
    let b = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, Some("jo"), None),
                json!({"email": "jo@acme.io"}),
            ),
            &mut ops,
        )
        .unwrap();
    assert_eq!(graph.lookup(IdKind::Anonymous, "a"), Some(b));
    assert_ne!(a, b, "the known contact survives");
    assert_eq!(graph.account_of(b), Some("acme.io"));
}

#[test]
fn email_linking_can_be_disabled() {
    let mut graph = IdentityGraph::new(IdentityConfig {
        email_trait: String::new(),
        ..IdentityConfig::default()
    });
    let mut ops = Vec::new();
    let traits = json!({"email": "jo@acme.io"});
    let a = graph.resolve(
        &with_traits(
            message(MessageKind::Identify, None, Some("a")),
            traits.clone(),
        ),
        &mut ops,
    );
    let b = graph.resolve(
        &with_traits(message(MessageKind::Identify, None, Some("b")), traits),
        &mut ops,
    );
    assert_ne!(a, b);
    assert_eq!(graph.account_of(a.unwrap()), None);
}

#[test]
fn free_mail_never_makes_an_account() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let c = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, Some("u"), None),
                json!({"email": "x@gmail.com"}),
            ),
            &mut ops,
        )
        .unwrap();
    assert_eq!(graph.account_of(c), None);
    assert!(!ops
        .iter()
        .any(|op| matches!(op, WriteOp::NewAccount { .. })));
}

#[test]
fn group_call_sets_account_and_its_domain() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let mut group = with_traits(
        message(MessageKind::Group, Some("u"), None),
        json!({"domain": "Initech.com"}),
    );
    group.group_id = Some("g-42".into());
    let c = graph.resolve(&group, &mut ops).unwrap();
    assert_eq!(graph.account_of(c), Some("g-42"));
    let peer = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, Some("p"), None),
                json!({"email": "p@initech.com"}),
            ),
            &mut ops,
        )
        .unwrap();
    assert_eq!(graph.account_of(peer), Some("g-42"));
}

#[test]
fn snapshot_round_trip_resolves_the_same() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let c = graph
        .resolve(
            &message(MessageKind::Identify, Some("u"), Some("a")),
            &mut ops,
        )
        .unwrap();
    let snapshot = IdentitySnapshot {
        contacts: vec![(c, None)],
        identities: vec![
            crate::store::IdentityRow {
                kind: IdKind::User,
                value: "u".into(),
                contact: c,
                first_seen: 1,
            },
            crate::store::IdentityRow {
                kind: IdKind::Anonymous,
                value: "a".into(),
                contact: c,
                first_seen: 1,
            },
        ],
        ..IdentitySnapshot::default()
    };
    let mut rebuilt = IdentityGraph::from_snapshot(IdentityConfig::default(), &snapshot);
    let mut more = Vec::new();
    let again = rebuilt.resolve(&message(MessageKind::Track, None, Some("a")), &mut more);
    assert_eq!(again, Some(c));
    let fresh = rebuilt
        .resolve(&message(MessageKind::Track, Some("other"), None), &mut more)
        .unwrap();
    assert!(fresh > c, "new ids continue after the snapshot's");
}

/// One identity-bearing call among a few users and anonymous ids.
fn arb_call() -> impl Strategy<Value = (u8, Option<u8>, Option<u8>)> {
    (
        0u8..3,
        proptest::option::of(0u8..4),
        proptest::option::of(0u8..5),
    )
}

fn to_message((kind, user, anon): (u8, Option<u8>, Option<u8>)) -> Message {
    let user = user.map(|u| format!("u{u}"));
    let anon = anon.map(|a| format!("a{a}"));
    let kind = match kind {
        0 => MessageKind::Identify,
        1 => MessageKind::Track,
        _ => MessageKind::Alias,
    };
    let mut message = message(kind, user.as_deref(), anon.as_deref());
    if kind == MessageKind::Alias {
        message.previous_id = message.anonymous_id.take();
    }
    message
}

/// The partition of identifiers into contacts, independent of contact numbers.
fn partition(graph: &IdentityGraph) -> Vec<Vec<String>> {
    let mut groups: std::collections::BTreeMap<ContactId, Vec<String>> = Default::default();
    for ((kind, value), contact) in &graph.index {
        groups
            .entry(*contact)
            .or_default()
            .push(format!("{}:{value}", kind.as_str()));
    }
    let mut parts: Vec<Vec<String>> = groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    parts.sort();
    parts
}

proptest! {
    /// SPEC 6.2 for identity: the same calls in any order give the same contacts.
    #[test]
    fn contacts_do_not_depend_on_arrival_order(calls in proptest::collection::vec(arb_call(), 1..30), seed in any::<u64>()) {
        let messages: Vec<Message> = calls.into_iter().map(to_message).collect();
        let mut shuffled = messages.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let run = |messages: &[Message]| {
            let mut graph = graph();
            let mut ops = Vec::new();
            for message in messages {
                graph.resolve(message, &mut ops);
            }
            partition(&graph)
        };
        prop_assert_eq!(run(&messages), run(&shuffled));
    }
}
