//! Accounts: creation, traits, linked contacts, the domain in the snapshot.

use bellwether_core::store::{AccountLink, WriteOp};
use serde_json::{json, Value};

use crate::fixtures::{account_traits, link, new_account, new_contact};
use crate::harness::Harness;

pub(crate) fn new_account_is_insert_if_absent(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[new_account("acme", 100), new_account("acme", 50)])
        .unwrap();
    store.apply(&[new_account("acme", 10)]).unwrap();
    let account = store.account("acme").unwrap().unwrap();
    assert_eq!(account.group_id, "acme");
    assert_eq!(account.created_at, 100, "the first creation stands");
    assert!(account.traits.is_empty());
    assert!(account.contact_ids.is_empty());
}

pub(crate) fn account_record_has_current_traits_and_linked_contacts(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(3, 0),
            new_contact(1, 0),
            new_contact(2, 0),
            new_account("acme", 7),
            new_account("globex", 8),
            account_traits("acme", json!({"name": "Acme", "plan": "enterprise"}), 10, 1),
            link(3, "acme", 10),
            link(1, "acme", 11),
            link(2, "globex", 12),
        ])
        .unwrap();
    let acme = store.account("acme").unwrap().unwrap();
    assert_eq!(acme.created_at, 7);
    assert_eq!(acme.contact_ids, vec![1, 3], "ascending contact ids");
    assert_eq!(
        Value::Object(acme.traits),
        json!({"name": "Acme", "plan": "enterprise"})
    );
    assert_eq!(
        store.account("globex").unwrap().unwrap().contact_ids,
        vec![2]
    );
    assert_eq!(
        store.contact(3).unwrap().unwrap().account_id.as_deref(),
        Some("acme")
    );
}

pub(crate) fn contact_account_link_is_replaced(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_account("acme.com", 0),
            new_account("acme", 0),
            WriteOp::ContactAccount {
                contact: 1,
                group_id: "acme.com".to_owned(),
                link: AccountLink::EmailDomain,
                via: None,
                at: 5,
            },
        ])
        .unwrap();
    store.apply(&[link(1, "acme", 9)]).unwrap();
    assert_eq!(
        store.contact(1).unwrap().unwrap().account_id.as_deref(),
        Some("acme")
    );
    assert!(store
        .account("acme.com")
        .unwrap()
        .unwrap()
        .contact_ids
        .is_empty());
    assert_eq!(
        store.load_identity().unwrap().contact_accounts,
        vec![(1, "acme".to_owned(), AccountLink::Group, 9)]
    );
    // Several in one batch: the last wins.
    store
        .apply(&[
            link(1, "acme.com", 10),
            link(1, "acme", 11),
            link(1, "acme.com", 12),
        ])
        .unwrap();
    assert_eq!(
        store.contact(1).unwrap().unwrap().account_id.as_deref(),
        Some("acme.com")
    );
    assert_eq!(
        store.account("acme.com").unwrap().unwrap().contact_ids,
        vec![1]
    );
}

pub(crate) fn unknown_account_is_none(h: &dyn Harness) {
    let store = h.open();
    store.apply(&[new_account("acme", 0)]).unwrap();
    assert_eq!(
        store.account("Acme").unwrap(),
        None,
        "group ids are case-sensitive"
    );
    assert_eq!(store.account("").unwrap(), None);
}

pub(crate) fn snapshot_accounts_carry_the_current_string_domain(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_account("acme", 0),
            new_account("globex", 0),
            new_account("initech", 0),
            new_account("umbrella", 0),
            account_traits("acme", json!({"domain": "acme.com"}), 100, 1),
            account_traits("acme", json!({"domain": "acme.io"}), 300, 2),
            account_traits("globex", json!({"domain": 42}), 100, 3),
            account_traits("initech", json!({"name": "Initech"}), 100, 4),
            account_traits("umbrella", json!({"domain": "umbrella.com"}), 100, 5),
        ])
        .unwrap();
    store
        .apply(&[
            account_traits("acme", json!({"domain": "old.acme.com"}), 200, 6),
            account_traits("umbrella", json!({"domain": null}), 150, 7),
        ])
        .unwrap();
    assert_eq!(
        store.load_identity().unwrap().accounts,
        vec![
            ("acme".to_owned(), Some("acme.io".to_owned())),
            ("globex".to_owned(), None),
            ("initech".to_owned(), None),
            ("umbrella".to_owned(), None),
        ]
    );
}
