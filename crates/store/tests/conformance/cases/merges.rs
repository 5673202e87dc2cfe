//! Merges: re-homing, account precedence, chains, ordering inside a batch.

use bellwether_core::store::{IdKind, MergeReason, MergeRecord, WriteOp};
use serde_json::{json, Value};

use crate::fixtures::{
    contact_traits, event_op, identity, link, merge, new_account, new_contact, seqs,
};
use crate::harness::Harness;

pub(crate) fn merge_rehomes_identities_events_traits_and_account(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 10),
            identity(IdKind::Anonymous, "anon", 1, 10),
            event_op(1, Some(1), 100),
            event_op(2, Some(1), 300),
            contact_traits(1, json!({"plan": "pro", "seen": true}), 100, 1),
            new_account("acme", 10),
            link(1, "acme", 100),
            new_contact(2, 20),
            identity(IdKind::User, "user", 2, 20),
            event_op(3, Some(2), 200),
            contact_traits(2, json!({"plan": "free", "name": "Ada"}), 50, 3),
        ])
        .unwrap();
    store
        .apply(&[WriteOp::Merge {
            from: 1,
            into: 2,
            at: 400,
            reason: MergeReason::Alias,
            message_id: "alias-1".to_owned(),
        }])
        .unwrap();

    let survivor = store
        .contact_by_identity(IdKind::Anonymous, "anon")
        .unwrap()
        .unwrap();
    assert_eq!(survivor.id, 2);
    assert_eq!(survivor.created_at, 20);
    assert_eq!(survivor.user_ids, ["user"]);
    assert_eq!(survivor.anonymous_ids, ["anon"]);
    assert_eq!(
        survivor.account_id.as_deref(),
        Some("acme"),
        "took from's account"
    );
    assert_eq!(
        Value::Object(survivor.traits.clone()),
        json!({"plan": "pro", "seen": true, "name": "Ada"}),
        "from's later plan wins by time"
    );
    assert_eq!(
        store.contact(1).unwrap(),
        Some(survivor),
        "a merged-away id shows its survivor"
    );
    assert_eq!(
        seqs(&store.contact_events(2, 10, None).unwrap()),
        vec![2, 3, 1]
    );
    assert!(store.contact_events(1, 10, None).unwrap().is_empty());
    assert!(store
        .scan_events(0, 10)
        .unwrap()
        .iter()
        .all(|e| e.contact_id == Some(2)));
    assert_eq!(store.contact_trait_history(2).unwrap().len(), 4);
    assert!(store.contact_trait_history(1).unwrap().is_empty());
    assert_eq!(store.account("acme").unwrap().unwrap().contact_ids, vec![2]);
    assert_eq!(
        store.merges_into(2).unwrap(),
        vec![MergeRecord {
            from: 1,
            into: 2,
            at: 400,
            reason: MergeReason::Alias,
            message_id: "alias-1".to_owned(),
        }]
    );
    assert!(store.merges_into(1).unwrap().is_empty());
    let snapshot = store.load_identity().unwrap();
    assert_eq!(snapshot.contacts, vec![(1, Some(2)), (2, None)]);
    assert_eq!(snapshot.contact_accounts.len(), 1);
}

pub(crate) fn merge_keeps_the_survivors_own_account(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            new_account("acme", 0),
            new_account("globex", 0),
            link(1, "acme", 10),
            link(2, "globex", 5),
            merge(1, 2, 20),
        ])
        .unwrap();
    assert_eq!(
        store.contact(2).unwrap().unwrap().account_id.as_deref(),
        Some("globex")
    );
    assert!(store
        .account("acme")
        .unwrap()
        .unwrap()
        .contact_ids
        .is_empty());
    assert_eq!(
        store.account("globex").unwrap().unwrap().contact_ids,
        vec![2]
    );
    let snapshot = store.load_identity().unwrap();
    assert_eq!(
        snapshot.contact_accounts,
        vec![(
            2,
            "globex".to_owned(),
            bellwether_core::store::AccountLink::Group,
            5
        )]
    );
}

fn three_contacts() -> Vec<WriteOp> {
    vec![
        new_contact(1, 0),
        new_contact(2, 0),
        new_contact(3, 0),
        identity(IdKind::Anonymous, "a", 1, 1),
        identity(IdKind::Anonymous, "b", 2, 2),
        identity(IdKind::User, "c", 3, 3),
        event_op(1, Some(1), 10),
        event_op(2, Some(2), 20),
        event_op(3, Some(3), 30),
        contact_traits(1, json!({"from_a": 1}), 10, 1),
    ]
}

fn assert_chain_ends_at_three(h: &dyn Harness) {
    let store = h.open();
    for value in ["a", "b"] {
        let contact = store
            .contact_by_identity(IdKind::Anonymous, value)
            .unwrap()
            .unwrap();
        assert_eq!(contact.id, 3);
        assert_eq!(contact.anonymous_ids, ["a", "b"]);
        assert_eq!(contact.user_ids, ["c"]);
        assert_eq!(contact.traits["from_a"], json!(1));
    }
    assert_eq!(store.contact(1).unwrap().unwrap().id, 3);
    assert_eq!(
        seqs(&store.contact_events(3, 10, None).unwrap()),
        vec![3, 2, 1]
    );
    assert_eq!(
        store.load_identity().unwrap().contacts,
        vec![(1, Some(3)), (2, Some(3)), (3, None)],
        "every merged-away contact names the live survivor"
    );
    let pairs =
        |records: Vec<MergeRecord>| records.iter().map(|m| (m.from, m.into)).collect::<Vec<_>>();
    assert_eq!(pairs(store.merges_into(3).unwrap()), vec![(2, 3)]);
    assert_eq!(
        pairs(store.merges_into(2).unwrap()),
        vec![(1, 2)],
        "merge history is kept"
    );
}

pub(crate) fn merge_chain_ends_at_the_last_survivor(h: &dyn Harness) {
    let store = h.open();
    store.apply(&three_contacts()).unwrap();
    store.apply(&[merge(1, 2, 100)]).unwrap();
    store.apply(&[merge(2, 3, 200)]).unwrap();
    assert_chain_ends_at_three(h);
}

pub(crate) fn merge_chain_within_one_batch(h: &dyn Harness) {
    let store = h.open();
    let mut ops = three_contacts();
    ops.extend([merge(1, 2, 100), merge(2, 3, 200)]);
    store.apply(&ops).unwrap();
    assert_chain_ends_at_three(h);
}

/// The core emits a merge between the ops of earlier and later messages.
pub(crate) fn ops_around_a_merge_in_one_batch_apply_in_order(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 10),
            identity(IdKind::Anonymous, "anon", 1, 10),
            event_op(1, Some(1), 10),
            contact_traits(1, json!({"step": "anonymous"}), 10, 1),
            new_account("acme", 10),
            link(1, "acme", 10),
            new_contact(2, 20),
            identity(IdKind::User, "user", 2, 20),
            merge(1, 2, 30),
            event_op(2, Some(2), 30),
            contact_traits(2, json!({"step": "identified"}), 30, 2),
            identity(IdKind::Email, "ada@acme.com", 2, 30),
        ])
        .unwrap();
    let contact = store
        .contact_by_identity(IdKind::Email, "ada@acme.com")
        .unwrap()
        .unwrap();
    assert_eq!(contact.id, 2);
    assert_eq!(contact.anonymous_ids, ["anon"]);
    assert_eq!(contact.account_id.as_deref(), Some("acme"));
    assert_eq!(contact.traits["step"], json!("identified"));
    assert_eq!(
        seqs(&store.contact_events(2, 10, None).unwrap()),
        vec![2, 1]
    );
    assert_eq!(
        store.load_identity().unwrap().contacts,
        vec![(1, Some(2)), (2, None)]
    );
}

/// `from` has rows stored by an earlier batch and rows written earlier in
/// the merging batch; all of them move.
pub(crate) fn merge_rehomes_stored_and_same_batch_rows(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            new_contact(3, 0),
            identity(IdKind::Anonymous, "stored", 1, 1),
            event_op(1, Some(1), 10),
            contact_traits(1, json!({"stored": true}), 10, 1),
            merge(3, 1, 15),
            new_account("acme", 0),
            new_account("globex", 0),
            link(2, "globex", 1),
        ])
        .unwrap();
    store
        .apply(&[
            identity(IdKind::Anonymous, "fresh", 1, 20),
            event_op(2, Some(1), 20),
            contact_traits(1, json!({"fresh": true}), 20, 2),
            link(1, "acme", 20),
            new_contact(4, 20),
            merge(4, 1, 20),
            merge(1, 2, 30),
            event_op(3, Some(2), 30),
        ])
        .unwrap();
    let contact = store
        .contact_by_identity(IdKind::Anonymous, "fresh")
        .unwrap()
        .unwrap();
    assert_eq!(contact.id, 2);
    assert_eq!(contact.anonymous_ids, ["stored", "fresh"]);
    assert_eq!(
        contact.account_id.as_deref(),
        Some("globex"),
        "2 kept its own account"
    );
    assert_eq!(
        Value::Object(contact.traits),
        json!({"stored": true, "fresh": true})
    );
    assert_eq!(
        seqs(&store.contact_events(2, 10, None).unwrap()),
        vec![3, 2, 1]
    );
    assert!(store
        .account("acme")
        .unwrap()
        .unwrap()
        .contact_ids
        .is_empty());
    assert_eq!(
        store.load_identity().unwrap().contacts,
        vec![(1, Some(2)), (2, None), (3, Some(2)), (4, Some(2))]
    );
    let pairs: Vec<_> = store
        .merges_into(1)
        .unwrap()
        .iter()
        .map(|m| (m.from, m.at))
        .collect();
    assert_eq!(pairs, vec![(3, 15), (4, 20)]);
}

pub(crate) fn merging_a_contact_into_itself_is_an_error(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[new_contact(1, 0), identity(IdKind::User, "u", 1, 0)])
        .unwrap();
    assert!(store.apply(&[new_contact(2, 0), merge(1, 1, 5)]).is_err());
    assert_eq!(store.load_identity().unwrap().contacts, vec![(1, None)]);
    assert!(store.merges_into(1).unwrap().is_empty());
}
