//! Re-homing one message (SPEC §7: a shared identifier's message belongs to
//! whoever held it at its time), and the start-up rebuild that splits
//! contacts a store merged under the old identity rule.

use bellwether_core::identity::{IdentityConfig, IdentityGraph};
use bellwether_core::ingest::rebuild_identity;
use bellwether_core::message::{ContactId, MessageKind, StoredEvent};
use bellwether_core::store::{IdKind, WriteOp};
use serde_json::{json, Value};

use crate::fixtures::{
    contact_traits, event, event_op, identity, message, new_contact, object, rejection, seqs,
};
use crate::harness::Harness;

fn rehome(seq: i64, from: ContactId, to: ContactId) -> WriteOp {
    WriteOp::Rehome {
        seq,
        from,
        to,
        at: 0,
        traits: serde_json::Map::new(),
    }
}

pub(crate) fn rehome_moves_one_event_and_its_traits(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 10),
            new_contact(2, 10),
            event_op(1, Some(1), 100),
            event_op(2, Some(1), 200),
            contact_traits(1, json!({"plan": "pro"}), 200, 2),
            contact_traits(1, json!({"name": "Ada"}), 100, 1),
        ])
        .unwrap();
    store
        .apply(&[
            rehome(2, 1, 2),
            event_op(3, Some(1), 300),
            contact_traits(1, json!({"seat": 3}), 300, 3),
            rehome(3, 1, 2),
        ])
        .unwrap();
    assert_eq!(seqs(&store.contact_events(1, 10, None).unwrap()), vec![1]);
    assert_eq!(
        seqs(&store.contact_events(2, 10, None).unwrap()),
        vec![3, 2]
    );
    let moved: Vec<String> = store
        .contact_trait_history(2)
        .unwrap()
        .into_iter()
        .map(|change| change.key)
        .collect();
    assert_eq!(
        moved,
        ["plan", "seat"],
        "stored and same-batch trait rows move"
    );
    assert_eq!(
        Value::Object(store.contact(1).unwrap().unwrap().traits),
        json!({"name": "Ada"})
    );
}

fn stored(seq: i64, contact: ContactId, user: Option<&str>, anon: &str, at: i64) -> WriteOp {
    let kind = if user.is_some() {
        MessageKind::Identify
    } else {
        MessageKind::Page
    };
    let mut message = message(kind, "web", &format!("m{seq}"), at);
    message.user_id = user.map(str::to_owned);
    message.anonymous_id = Some(anon.to_owned());
    if let Some(user) = user {
        message.traits = object(json!({"name": user}));
    }
    event(StoredEvent {
        seq,
        contact_id: Some(contact),
        message,
    })
}

/// Alice then Bob signed in on one browser; the old rule merged them into
/// contact 1. The next start splits them, and a second start changes
/// nothing.
pub(crate) fn rebuild_splits_contacts_the_old_rule_merged(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 100),
            identity(IdKind::User, "alice", 1, 100),
            identity(IdKind::Anonymous, "shared", 1, 100),
            identity(IdKind::User, "bob", 1, 300),
            stored(1, 1, Some("alice"), "shared", 100),
            contact_traits(1, json!({"name": "alice"}), 100, 1),
            stored(2, 1, None, "shared", 200),
            stored(3, 1, Some("bob"), "shared", 300),
            contact_traits(1, json!({"name": "bob"}), 300, 3),
            stored(4, 1, None, "shared", 400),
        ])
        .unwrap();
    let mut progress = Vec::new();
    rebuild_identity(
        store.as_ref(),
        IdentityConfig::default(),
        &mut |done, total| progress.push((done, total)),
    )
    .unwrap();
    assert_eq!(progress.last(), Some(&(4, 4)));
    let alice = store
        .contact_by_identity(IdKind::User, "alice")
        .unwrap()
        .unwrap();
    let bob = store
        .contact_by_identity(IdKind::User, "bob")
        .unwrap()
        .unwrap();
    assert_eq!(alice.id, 1, "the first user keeps the contact");
    assert_ne!(bob.id, 1);
    assert_eq!(alice.user_ids, ["alice"]);
    assert_eq!(bob.user_ids, ["bob"]);
    assert_eq!(
        seqs(&store.contact_events(alice.id, 10, None).unwrap()),
        vec![2, 1]
    );
    assert_eq!(
        seqs(&store.contact_events(bob.id, 10, None).unwrap()),
        vec![4, 3]
    );
    assert_eq!(alice.traits.get("name"), Some(&json!("alice")));
    assert_eq!(bob.traits.get("name"), Some(&json!("bob")));
    assert_eq!(
        store
            .contact_by_identity(IdKind::Anonymous, "shared")
            .unwrap()
            .map(|c| c.id),
        Some(bob.id),
        "the latest claimant holds the shared id now"
    );
    drop(store);
    let store = h.open();
    let (_, corrections) =
        IdentityGraph::rebuild(IdentityConfig::default(), store.as_ref(), &mut |_, _| {}).unwrap();
    assert_eq!(corrections, [], "a store under the new rule needs nothing");
}

/// A blocked identifier is stored as a warning row (migration 0005): the
/// message was kept, only the field was ignored.
pub(crate) fn rejection_warnings_round_trip(h: &dyn Harness) {
    let store = h.open();
    let mut warning = rejection(20, "anonymousId");
    warning.warning = true;
    store
        .apply(&[
            WriteOp::Rejection(rejection(10, "event")),
            WriteOp::Rejection(warning.clone()),
        ])
        .unwrap();
    assert_eq!(
        store.recent_rejections(10).unwrap(),
        [warning, rejection(10, "event")]
    );
}

/// A junk anonymous id fused two users under the old rule; the next start
/// splits them, and the message carrying only the junk id leaves every
/// contact (with the traits it set).
pub(crate) fn rebuild_detaches_messages_with_only_blocked_ids(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 100),
            identity(IdKind::User, "alice", 1, 100),
            identity(IdKind::Anonymous, "undefined", 1, 100),
            identity(IdKind::User, "bob", 1, 200),
            stored(1, 1, Some("alice"), "undefined", 100),
            stored(2, 1, Some("bob"), "undefined", 200),
            {
                let mut junk = message(MessageKind::Identify, "web", "m3", 300);
                junk.anonymous_id = Some("undefined".to_owned());
                junk.traits = object(json!({"plan": "junk"}));
                event(StoredEvent {
                    seq: 3,
                    contact_id: Some(1),
                    message: junk,
                })
            },
            contact_traits(1, json!({"plan": "junk"}), 300, 3),
            // A contact of junk alone, numbered after everything the replay makes.
            new_contact(9, 400),
            identity(IdKind::Anonymous, "null", 9, 400),
            stored(4, 9, None, "null", 400),
        ])
        .unwrap();
    let mut graph =
        rebuild_identity(store.as_ref(), IdentityConfig::default(), &mut |_, _| {}).unwrap();
    let mut carol = message(MessageKind::Track, "web", "m5", 500);
    carol.user_id = Some("carol".to_owned());
    carol.event = Some("Signed Up".to_owned());
    let mut ops = Vec::new();
    let contact_id = graph.resolve(&carol, 5, &mut ops);
    assert!(
        contact_id > Some(9),
        "new contacts never take a stored number"
    );
    ops.push(event(StoredEvent {
        seq: 5,
        contact_id,
        message: carol,
    }));
    store.apply(&ops).unwrap();
    let alice = store
        .contact_by_identity(IdKind::User, "alice")
        .unwrap()
        .unwrap();
    let bob = store
        .contact_by_identity(IdKind::User, "bob")
        .unwrap()
        .unwrap();
    assert_ne!(alice.id, bob.id);
    assert_eq!(
        seqs(&store.contact_events(alice.id, 10, None).unwrap()),
        vec![1]
    );
    assert_eq!(
        seqs(&store.contact_events(bob.id, 10, None).unwrap()),
        vec![2]
    );
    let junk = store.scan_events(2, 2).unwrap();
    assert_eq!(junk.len(), 2);
    assert!(
        junk.iter().all(|e| e.contact_id.is_none()),
        "a blocked id names no contact"
    );
    assert_eq!(
        alice.traits.get("plan"),
        None,
        "the junk message's traits left with it"
    );
}
