use proptest::prelude::*;
use serde_json::{json, Map, Value};

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::message::StoredEvent;

pub(super) fn message(kind: MessageKind, user: Option<&str>, anon: Option<&str>) -> Message {
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

/// Distinct sequence numbers, like the writer's.
fn next_seq() -> i64 {
    static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn graph() -> IdentityGraph {
    IdentityGraph::new(IdentityConfig::default())
}

#[test]
fn identify_with_both_ids_merges_anonymous_into_known() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let anon = graph
        .resolve(
            &message(MessageKind::Page, None, Some("a1")),
            next_seq(),
            &mut ops,
        )
        .unwrap();
    let known = graph
        .resolve(
            &message(MessageKind::Identify, Some("u1"), None),
            next_seq(),
            &mut ops,
        )
        .unwrap();
    assert_ne!(anon, known);
    let merged = graph
        .resolve(
            &message(MessageKind::Identify, Some("u1"), Some("a1")),
            next_seq(),
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
        .resolve(
            &message(MessageKind::Track, Some("old"), None),
            next_seq(),
            &mut ops,
        )
        .unwrap();
    let mut alias = message(MessageKind::Alias, Some("new"), None);
    alias.previous_id = Some("old".into());
    let contact = graph.resolve(&alias, next_seq(), &mut ops).unwrap();
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
            next_seq(),
            &mut ops,
        )
        .unwrap();
    let b = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, Some("jo"), None),
                json!({"email": "jo@acme.io"}),
            ),
            next_seq(),
            &mut ops,
        )
        .unwrap();
    assert_eq!(graph.lookup(IdKind::Anonymous, "a"), Some(b));
    assert_eq!(a, b, "the known user takes over the anonymous contact");
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
        next_seq(),
        &mut ops,
    );
    let b = graph.resolve(
        &with_traits(message(MessageKind::Identify, None, Some("b")), traits),
        next_seq(),
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
            next_seq(),
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
    let c = graph.resolve(&group, next_seq(), &mut ops).unwrap();
    assert_eq!(graph.account_of(c), Some("g-42"));
    let peer = graph
        .resolve(
            &with_traits(
                message(MessageKind::Identify, Some("p"), None),
                json!({"email": "p@initech.com"}),
            ),
            next_seq(),
            &mut ops,
        )
        .unwrap();
    assert_eq!(graph.account_of(peer), Some("g-42"));
}

/// One identity-bearing call among a few users, anonymous ids and emails,
/// some of them blocked values, at a few instants (ties included).
type Call = (u8, Option<u8>, Option<u8>, Option<u8>, i64);

fn arb_call() -> impl Strategy<Value = Call> {
    (
        0u8..4,
        proptest::option::of(0u8..4),
        proptest::option::of(0u8..6),
        proptest::option::of(0u8..3),
        0i64..6,
    )
}

fn to_message(index: usize, (kind, user, anon, email, at): Call) -> Message {
    let user = user.map(|u| format!("u{u}"));
    // a4 and a5 are junk values every broken integration sends.
    let anon = anon.map(|a| match a {
        4 => "undefined".to_owned(),
        5 => "NULL".to_owned(),
        a => format!("a{a}"),
    });
    let kind = match kind {
        0 => MessageKind::Identify,
        1 => MessageKind::Track,
        2 => MessageKind::Page,
        _ => MessageKind::Alias,
    };
    let mut message = message(kind, user.as_deref(), anon.as_deref());
    message.message_id = format!("m{index}");
    message.timestamp = at * 1_000;
    if kind == MessageKind::Alias {
        message.previous_id = message.anonymous_id.take();
    }
    if let (MessageKind::Identify, Some(email)) = (kind, email) {
        message.traits = json!({"email": format!("e{email}@acme.io")})
            .as_object()
            .cloned()
            .unwrap_or_default();
    }
    message
}

/// Applies the graph's writes the way a store does: where each message
/// lives, and which identifiers point where.
#[derive(Default)]
struct Model {
    events: BTreeMap<i64, ContactId>,
    users: BTreeMap<String, ContactId>,
}

impl Model {
    fn apply(&mut self, ops: &[WriteOp]) {
        for op in ops {
            match op {
                WriteOp::Event(event) => {
                    if let Some(contact) = event.contact_id {
                        self.events.insert(event.seq, contact);
                    }
                }
                WriteOp::Rehome { seq, from, to, .. } => {
                    assert_eq!(
                        self.events.get(seq),
                        Some(from),
                        "re-homed from where it is"
                    );
                    self.events.insert(*seq, *to);
                }
                WriteOp::Merge { from, into, .. } => {
                    for contact in self.events.values_mut().chain(self.users.values_mut()) {
                        if contact == from {
                            *contact = *into;
                        }
                    }
                }
                WriteOp::Identity {
                    kind: IdKind::User,
                    value,
                    contact,
                    ..
                } => {
                    self.users.insert(value.clone(), *contact);
                }
                _ => {}
            }
        }
    }

    /// Contacts as (their user ids, the messages they hold), numbering aside.
    fn contacts(&self, ids: &BTreeMap<i64, String>) -> BTreeSet<(Vec<String>, Vec<String>)> {
        let mut by_contact: BTreeMap<ContactId, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for (user, contact) in &self.users {
            by_contact.entry(*contact).or_default().0.push(user.clone());
        }
        for (seq, contact) in &self.events {
            by_contact
                .entry(*contact)
                .or_default()
                .1
                .push(ids[seq].clone());
        }
        by_contact
            .into_values()
            .map(|(mut users, mut messages)| {
                users.sort();
                messages.sort();
                (users, messages)
            })
            .collect()
    }
}

fn run(messages: &[Message]) -> BTreeSet<(Vec<String>, Vec<String>)> {
    let mut graph = graph();
    let mut model = Model::default();
    let mut ids = BTreeMap::new();
    for (seq, message) in messages.iter().enumerate() {
        let seq = seq as i64 + 1;
        let mut ops = Vec::new();
        let contact_id = graph.resolve(message, seq, &mut ops);
        ops.push(WriteOp::Event(StoredEvent {
            seq,
            contact_id,
            message: message.clone(),
        }));
        ids.insert(seq, message.message_id.clone());
        model.apply(&ops);
    }
    for (users, _) in model.contacts(&ids) {
        let persons: BTreeSet<&str> = users.iter().map(String::as_str).collect();
        assert!(
            persons.len() <= 1 || aliased(messages, &users),
            "two user ids in one contact without an alias: {users:?}"
        );
    }
    model.contacts(&ids)
}

/// Whether `users` are tied by alias calls.
fn aliased(messages: &[Message], users: &[String]) -> bool {
    messages.iter().any(|m| {
        m.kind == MessageKind::Alias && m.previous_id.as_ref().is_some_and(|p| users.contains(p))
    })
}

proptest! {
    /// SPEC 6.2 and §7: the same messages in any order give the same
    /// contacts holding the same messages, shared ids and blocked values
    /// included.
    #[test]
    fn contacts_do_not_depend_on_arrival_order(calls in proptest::collection::vec(arb_call(), 1..30), seed in any::<u64>()) {
        let messages: Vec<Message> = calls.into_iter().enumerate().map(|(i, c)| to_message(i, c)).collect();
        let mut shuffled = messages.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(run(&messages), run(&shuffled));
    }
}

pub(super) fn at(mut message: Message, time: i64, id: &str) -> Message {
    message.timestamp = time;
    message.message_id = id.to_owned();
    message
}

/// Resolves each message with its own seq; returns the contacts.
fn resolve_all(
    graph: &mut IdentityGraph,
    messages: &[Message],
    ops: &mut Vec<WriteOp>,
) -> Vec<Option<ContactId>> {
    messages
        .iter()
        .map(|m| graph.resolve(m, next_seq(), ops))
        .collect()
}

#[test]
fn a_shared_browser_never_joins_two_users() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let found = resolve_all(
        &mut graph,
        &[
            at(
                message(MessageKind::Page, None, Some("shared")),
                100,
                "before",
            ),
            at(
                message(MessageKind::Identify, Some("alice"), Some("shared")),
                200,
                "alice-in",
            ),
            at(
                message(MessageKind::Page, None, Some("shared")),
                300,
                "alice-page",
            ),
            at(
                message(MessageKind::Identify, Some("bob"), Some("shared")),
                400,
                "bob-in",
            ),
            at(
                message(MessageKind::Page, None, Some("shared")),
                500,
                "bob-page",
            ),
        ],
        &mut ops,
    );
    let alice = graph.lookup(IdKind::User, "alice").unwrap();
    let bob = graph.lookup(IdKind::User, "bob").unwrap();
    assert_ne!(alice, bob, "two users stay two contacts");
    assert_eq!(found[2], Some(alice), "held by alice at 300");
    assert_eq!(found[4], Some(bob), "held by bob at 500");
    assert_eq!(
        graph.lookup(IdKind::Anonymous, "shared"),
        Some(bob),
        "the latest claimant holds it now"
    );
    assert!(!ops.iter().any(|op| matches!(op, WriteOp::Merge { from, into, .. } if (*from, *into) == (alice, bob) || (*from, *into) == (bob, alice))));
    assert_eq!(graph.refused_links(), 1);
    let report = graph.report();
    assert_eq!(report.conflicts.len(), 1);
    let holders: Vec<(&str, i64)> = report.conflicts[0]
        .holders
        .iter()
        .map(|h| (h.user_id.as_str(), h.from))
        .collect();
    assert_eq!(holders, [("alice", 200), ("bob", 400)]);
}

#[test]
fn a_late_claim_rehomes_the_messages_of_its_period() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let messages = [
        at(
            message(MessageKind::Identify, Some("alice"), Some("shared")),
            200,
            "alice-in",
        ),
        at(
            message(MessageKind::Page, None, Some("shared")),
            500,
            "late-page",
        ),
        at(
            message(MessageKind::Page, None, Some("shared")),
            100,
            "early-page",
        ),
    ];
    let found = resolve_all(&mut graph, &messages, &mut ops);
    let alice = graph.lookup(IdKind::User, "alice").unwrap();
    assert_eq!(found[1], Some(alice));
    assert_eq!(
        found[2],
        Some(alice),
        "before any other claim: the first claimant"
    );
    let mut more = Vec::new();
    let bob = graph
        .resolve(
            &at(
                message(MessageKind::Identify, Some("bob"), Some("shared")),
                50,
                "bob-earlier",
            ),
            next_seq(),
            &mut more,
        )
        .unwrap();
    // Bob claimed it first (at 50): the page at 100 is his; the one at 500 stays alice's.
    let moved: Vec<(i64, ContactId, ContactId)> = more
        .iter()
        .filter_map(|op| match op {
            WriteOp::Rehome { at, from, to, .. } => Some((*at, *from, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(moved, [(100, alice, bob)]);
}

#[test]
fn a_shared_email_is_held_by_time_too() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let inbox = json!({"email": "team@acme.io"});
    resolve_all(
        &mut graph,
        &[
            at(
                with_traits(
                    message(MessageKind::Identify, Some("alice"), None),
                    inbox.clone(),
                ),
                100,
                "a",
            ),
            at(
                with_traits(message(MessageKind::Identify, Some("bob"), None), inbox),
                200,
                "b",
            ),
        ],
        &mut ops,
    );
    let alice = graph.lookup(IdKind::User, "alice");
    let bob = graph.lookup(IdKind::User, "bob");
    assert_ne!(alice, bob);
    assert_eq!(graph.lookup(IdKind::Email, "team@acme.io"), bob);
}

#[test]
fn blocked_values_are_never_identifiers() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let found = resolve_all(
        &mut graph,
        &[
            message(MessageKind::Identify, Some("alice"), Some("undefined")),
            message(MessageKind::Identify, Some("bob"), Some("Undefined")),
            message(MessageKind::Track, Some("null"), None),
            message(MessageKind::Page, None, Some("[object Object]")),
        ],
        &mut ops,
    );
    assert_ne!(found[0], found[1]);
    assert_eq!(
        found[2], None,
        "a blocked id as the only id names no contact"
    );
    assert_eq!(found[3], None);
    assert_eq!(graph.lookup(IdKind::Anonymous, "undefined"), None);
    assert_eq!(graph.refused_links(), 0);
    assert!(IdentityConfig::default().is_blocked(" NULL "));
    assert!(!IdentityConfig {
        blocked_ids: vec![],
        ..IdentityConfig::default()
    }
    .is_blocked("null"));
}

#[test]
fn alias_still_merges_two_users() {
    let mut graph = graph();
    let mut ops = Vec::new();
    resolve_all(
        &mut graph,
        &[
            message(MessageKind::Track, Some("old"), None),
            message(MessageKind::Track, Some("new"), None),
        ],
        &mut ops,
    );
    let mut alias = message(MessageKind::Alias, Some("new"), None);
    alias.previous_id = Some("old".into());
    graph.resolve(&alias, next_seq(), &mut ops);
    assert_eq!(
        graph.lookup(IdKind::User, "old"),
        graph.lookup(IdKind::User, "new")
    );
    assert_eq!(graph.live_contacts(), 1);
}

/// SDKs send the browser's anonymous id with every call: each identified
/// message claims it. Another user's claim between two of them holds the
/// browser exactly until the first user's next message.
#[test]
fn a_claim_between_two_of_a_users_messages_holds_until_the_next() {
    let mut graph = graph();
    let mut ops = Vec::new();
    let mut messages: Vec<Message> = (0..50)
        .map(|i| {
            at(
                message(MessageKind::Track, Some("alice"), Some("browser")),
                1_000 + i * 100,
                &format!("alice-{i}"),
            )
        })
        .collect();
    messages.push(at(
        message(MessageKind::Identify, Some("bob"), Some("browser")),
        3_050,
        "bob-in",
    ));
    for (time, id) in [
        (3_060, "page-bob"),
        (3_100, "page-alice"),
        (900, "page-before"),
    ] {
        messages.push(at(
            message(MessageKind::Page, None, Some("browser")),
            time,
            id,
        ));
    }
    let found = resolve_all(&mut graph, &messages, &mut ops);
    let alice = graph.lookup(IdKind::User, "alice").unwrap();
    let bob = graph.lookup(IdKind::User, "bob").unwrap();
    assert_eq!(found[51], Some(bob), "3060: bob claimed at 3050");
    assert_eq!(
        found[52],
        Some(alice),
        "3100: alice's next message claims it back"
    );
    assert_eq!(
        found[53],
        Some(alice),
        "before any claim: the first claimant"
    );
    let holders: Vec<(String, i64)> = graph.report().conflicts[0]
        .holders
        .iter()
        .map(|h| (h.user_id.clone(), h.from))
        .collect();
    assert_eq!(
        holders,
        [
            ("alice".to_owned(), 1_000),
            ("bob".to_owned(), 3_050),
            ("alice".to_owned(), 3_100)
        ]
    );
}
