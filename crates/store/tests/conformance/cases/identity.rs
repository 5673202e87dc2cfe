//! Contacts and identifiers: records, lookups, the start-up snapshot.

use bellwether_core::store::{AccountLink, IdKind, IdentityRow, WriteOp};
use serde_json::json;

use crate::fixtures::{contact_traits, event_op, identity, link, merge, new_account, new_contact};
use crate::harness::Harness;

pub(crate) fn contact_lists_identities_by_first_seen_then_value(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 42),
            identity(IdKind::User, "u-b", 1, 200),
            identity(IdKind::User, "u-a", 1, 200),
            identity(IdKind::User, "u-z", 1, 100),
            identity(IdKind::Anonymous, "anon-2", 1, 60),
            identity(IdKind::Anonymous, "anon-1", 1, 70),
            identity(IdKind::Email, "a@acme.com", 1, 80),
            contact_traits(1, json!({"plan": "pro"}), 80, 1),
        ])
        .unwrap();
    let contact = store.contact(1).unwrap().unwrap();
    assert_eq!(contact.id, 1);
    assert_eq!(contact.created_at, 42);
    assert_eq!(
        contact.user_ids,
        ["u-z", "u-a", "u-b"],
        "first_seen, then value"
    );
    assert_eq!(contact.anonymous_ids, ["anon-2", "anon-1"]);
    assert_eq!(contact.emails, ["a@acme.com"]);
    assert_eq!(contact.account_id, None);
    assert_eq!(
        serde_json::Value::Object(contact.traits.clone()),
        json!({"plan": "pro"})
    );
    assert_eq!(
        store.contact_by_identity(IdKind::User, "u-a").unwrap(),
        Some(contact)
    );
}

pub(crate) fn identity_kinds_are_distinct(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            identity(IdKind::User, "same", 1, 0),
            identity(IdKind::Anonymous, "same", 2, 0),
        ])
        .unwrap();
    let by = |kind, value| {
        store
            .contact_by_identity(kind, value)
            .unwrap()
            .map(|c| c.id)
    };
    assert_eq!(by(IdKind::User, "same"), Some(1));
    assert_eq!(by(IdKind::Anonymous, "same"), Some(2));
    assert_eq!(by(IdKind::Email, "same"), None);
    assert_eq!(
        by(IdKind::User, "SAME"),
        None,
        "identifiers are case-sensitive"
    );
    assert_eq!(store.contact(3).unwrap(), None);
}

pub(crate) fn identity_op_repoints_a_known_identifier(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            identity(IdKind::Anonymous, "a", 1, 10),
        ])
        .unwrap();
    store
        .apply(&[identity(IdKind::Anonymous, "a", 2, 20)])
        .unwrap();
    assert_eq!(
        store
            .contact_by_identity(IdKind::Anonymous, "a")
            .unwrap()
            .unwrap()
            .id,
        2
    );
    assert!(store.contact(1).unwrap().unwrap().anonymous_ids.is_empty());
    // Twice in one batch: the last op wins, as if applied one by one.
    store
        .apply(&[
            identity(IdKind::Email, "e@x.io", 1, 30),
            identity(IdKind::Email, "e@x.io", 2, 31),
            identity(IdKind::Email, "e@x.io", 1, 32),
        ])
        .unwrap();
    let rows = store.load_identity().unwrap().identities;
    let email = rows.iter().find(|row| row.kind == IdKind::Email).unwrap();
    assert_eq!((email.contact, email.first_seen), (1, 32));
    let anon = rows
        .iter()
        .find(|row| row.kind == IdKind::Anonymous)
        .unwrap();
    assert_eq!(
        (anon.contact, anon.first_seen),
        (2, 20),
        "the op's values are applied verbatim"
    );
}

pub(crate) fn new_contact_with_a_taken_id_is_an_error(h: &dyn Harness) {
    let store = h.open();
    store.apply(&[new_contact(1, 10)]).unwrap();
    assert!(store.apply(&[new_contact(1, 20)]).is_err());
    assert!(store
        .apply(&[new_contact(2, 20), new_contact(2, 20)])
        .is_err());
    assert_eq!(store.contact(1).unwrap().unwrap().created_at, 10);
    assert_eq!(store.contact(2).unwrap(), None);
}

pub(crate) fn load_identity_returns_the_whole_graph(h: &dyn Harness) {
    let store = h.open();
    assert_eq!(store.load_identity().unwrap(), Default::default());
    assert_eq!(store.max_seq().unwrap(), 0, "no message stored");
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            new_contact(3, 0),
            identity(IdKind::User, "u1", 1, 5),
            identity(IdKind::Anonymous, "a2", 2, 3),
            identity(IdKind::Email, "c@initech.com", 3, 4),
            new_account("acme", 0),
            new_account("initech", 0),
            link(1, "acme", 5),
            link(2, "acme", 6),
            WriteOp::ContactAccount {
                contact: 3,
                group_id: "initech".to_owned(),
                link: AccountLink::EmailDomain,
                via: None,
                at: 7,
            },
            event_op(9, Some(1), 100),
            event_op(4, Some(2), 100),
        ])
        .unwrap();
    store.apply(&[merge(2, 1, 50)]).unwrap();
    let snapshot = store.load_identity().unwrap();
    assert_eq!(snapshot.contacts, vec![(1, None), (2, Some(1)), (3, None)]);
    let row = |kind, value: &str, contact, first_seen| IdentityRow {
        kind,
        value: value.to_owned(),
        contact,
        first_seen,
    };
    assert_eq!(
        snapshot.identities,
        vec![
            row(IdKind::Anonymous, "a2", 1, 3),
            row(IdKind::User, "u1", 1, 5),
            row(IdKind::Email, "c@initech.com", 3, 4),
        ]
    );
    assert_eq!(
        snapshot.contact_accounts,
        vec![
            (1, "acme".to_owned(), AccountLink::Group, 5),
            (3, "initech".to_owned(), AccountLink::EmailDomain, 7),
        ],
        "only live contacts have an account"
    );
    assert_eq!(
        snapshot.accounts,
        vec![("acme".to_owned(), None), ("initech".to_owned(), None)]
    );
    assert_eq!(snapshot.max_seq, 9);
    assert_eq!(store.max_seq().unwrap(), 9, "read alone, the same");
}
