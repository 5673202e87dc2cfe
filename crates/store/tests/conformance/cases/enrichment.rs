//! Enrichment: its trait changes join the account's history (told apart
//! from a message's), its record of each account is replaced, provider
//! answers are kept, and an IP reveal keeps its network.

use bellwether_core::store::{AccountLink, WriteOp};
use serde_json::{json, Map, Value};

use crate::fixtures::{account_traits, new_account, new_contact};
use crate::harness::Harness;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn enrich(group_id: &str, changes: Value, applied: Value, at: i64) -> WriteOp {
    WriteOp::AccountEnrichment {
        group_id: group_id.into(),
        domain: "acme.com".into(),
        changes: object(changes),
        applied: object(applied),
        at,
        seq: 1,
    }
}

pub(crate) fn enrichment_changes_join_the_trait_history_and_are_told_apart(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_account("acme", 0),
            account_traits("acme", json!({"name": "Acme"}), 10, 1),
            enrich(
                "acme",
                json!({"employees": 250, "industry": "Software"}),
                json!({"employees": 250, "industry": "Software"}),
                10,
            ),
        ])
        .unwrap();
    store
        .apply(&[enrich(
            "acme",
            json!({"employees": 300, "industry": null}),
            json!({"employees": 300}),
            20,
        )])
        .unwrap();
    let account = store.account("acme").unwrap().unwrap();
    assert_eq!(account.traits["name"], "Acme");
    assert_eq!(account.traits["employees"], 300);
    let mut enriched: Vec<(String, Value, i64)> = store
        .enriched_traits()
        .unwrap()
        .into_iter()
        .map(|row| (row.key, row.value, row.at))
        .collect();
    enriched.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    assert_eq!(
        enriched,
        vec![
            ("employees".into(), json!(250), 10),
            ("industry".into(), json!("Software"), 10),
            ("employees".into(), json!(300), 20),
            ("industry".into(), Value::Null, 20),
        ],
        "the message's `name` is not enrichment's"
    );
    let records = store.account_enrichments().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        Value::Object(records[0].traits.clone()),
        json!({"employees": 300})
    );
    assert_eq!(records[0].domain, "acme.com");
}

pub(crate) fn provider_answers_are_kept_and_replaced(h: &dyn Harness) {
    let store = h.open();
    for (traits, at) in [
        (json!({"industry": "Retail"}), 5),
        (json!({"industry": "Software"}), 9),
    ] {
        store
            .apply(&[WriteOp::EnrichmentAnswer {
                domain: "acme.com".into(),
                traits: object(traits),
                fetched_at: at,
            }])
            .unwrap();
    }
    let answers = store.enrichment_answers().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].fetched_at, 9);
    assert_eq!(
        Value::Object(answers[0].traits.clone()),
        json!({"industry": "Software"})
    );
}

pub(crate) fn an_ip_reveal_keeps_its_network(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_account("globex.io", 0),
            WriteOp::ContactAccount {
                contact: 1,
                group_id: "globex.io".into(),
                link: AccountLink::Ip,
                via: Some("203.0.113.0/24".into()),
                at: 5,
            },
        ])
        .unwrap();
    let contact = store.contact(1).unwrap().unwrap();
    assert_eq!(contact.account_id.as_deref(), Some("globex.io"));
    assert_eq!(contact.account_link, Some(AccountLink::Ip));
    assert_eq!(contact.revealed_by.as_deref(), Some("203.0.113.0/24"));
    let (_, _, link, _) = &store.load_identity().unwrap().contact_accounts[0];
    assert_eq!(*link, AccountLink::Ip);
}
