//! Trait history and precedence: the latest event time wins, not arrival.

use bellwether_core::store::TraitChange;
use serde_json::{json, Value};

use crate::fixtures::{account_traits, contact_traits, new_account, new_contact};
use crate::harness::Harness;

fn change(key: &str, value: Value, at: i64, seq: i64) -> TraitChange {
    TraitChange {
        key: key.to_owned(),
        value,
        at,
        seq,
    }
}

pub(crate) fn current_traits_follow_event_time_not_arrival(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            contact_traits(1, json!({"plan": "pro"}), 200, 7),
        ])
        .unwrap();
    // An older message arrives late: it must not override the newer value.
    store
        .apply(&[contact_traits(
            1,
            json!({"plan": "free", "name": "Ada"}),
            100,
            9,
        )])
        .unwrap();
    let traits = |store: &dyn bellwether_core::store::Store| {
        Value::Object(store.contact(1).unwrap().unwrap().traits)
    };
    assert_eq!(traits(&*store), json!({"plan": "pro", "name": "Ada"}));
    // Same event time: the higher seq wins, whatever the arrival order.
    store
        .apply(&[
            contact_traits(1, json!({"plan": "enterprise"}), 200, 8),
            contact_traits(1, json!({"plan": "team"}), 200, 6),
        ])
        .unwrap();
    assert_eq!(
        traits(&*store),
        json!({"plan": "enterprise", "name": "Ada"})
    );
}

pub(crate) fn trait_history_is_ordered_by_time_then_seq(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            contact_traits(1, json!({"b": 2, "a": 1}), 300, 3),
            contact_traits(1, json!({"a": 0}), 100, 5),
            contact_traits(1, json!({"c": 3}), 300, 1),
        ])
        .unwrap();
    assert_eq!(
        store.contact_trait_history(1).unwrap(),
        vec![
            change("a", json!(0), 100, 5),
            change("c", json!(3), 300, 1),
            change("b", json!(2), 300, 3),
            change("a", json!(1), 300, 3),
        ],
        "one op's keys in the order of its map"
    );
}

pub(crate) fn trait_values_keep_their_json_type(h: &dyn Harness) {
    let store = h.open();
    let values = json!({
        "null": null,
        "bool": false,
        "int": -42,
        "big": u64::MAX,
        "float": 2.5,
        "string": "text",
        "numeric string": "007",
        "array": [1, "two", {"three": 3}],
        "object": {"nested": {"deep": [null]}},
    });
    store
        .apply(&[new_contact(1, 0), contact_traits(1, values.clone(), 1, 1)])
        .unwrap();
    assert_eq!(
        Value::Object(store.contact(1).unwrap().unwrap().traits),
        values
    );
    // Setting a trait to null is a change like any other.
    store
        .apply(&[contact_traits(1, json!({"string": null}), 2, 2)])
        .unwrap();
    assert_eq!(
        store.contact(1).unwrap().unwrap().traits["string"],
        Value::Null
    );
}

pub(crate) fn account_traits_follow_event_time_not_arrival(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_account("acme", 0),
            account_traits(
                "acme",
                json!({"employees": 500, "tech": ["salesforce"]}),
                300,
                3,
            ),
        ])
        .unwrap();
    store
        .apply(&[account_traits(
            "acme",
            json!({"employees": 50, "industry": "retail"}),
            100,
            9,
        )])
        .unwrap();
    let account = store.account("acme").unwrap().unwrap();
    assert_eq!(
        Value::Object(account.traits),
        json!({"employees": 500, "tech": ["salesforce"], "industry": "retail"})
    );
    assert_eq!(
        store.account_trait_history("acme").unwrap(),
        vec![
            change("employees", json!(50), 100, 9),
            change("industry", json!("retail"), 100, 9),
            change("employees", json!(500), 300, 3),
            change("tech", json!(["salesforce"]), 300, 3),
        ]
    );
}

pub(crate) fn trait_history_of_an_unknown_subject_is_empty(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[new_contact(1, 0), new_account("acme", 0)])
        .unwrap();
    assert!(store.contact_trait_history(1).unwrap().is_empty());
    assert!(store.contact_trait_history(2).unwrap().is_empty());
    assert!(store.account_trait_history("acme").unwrap().is_empty());
    assert!(store.account_trait_history("nobody").unwrap().is_empty());
    assert!(store.contact(1).unwrap().unwrap().traits.is_empty());
}
