//! Contact deletion, the purge of recorded history, suppressions and the
//! deletion audit log (`WriteOp::DeleteContact`).

use bellwether_core::store::{
    AssignmentRecord, ContactDeletion, DeletionCounts, IdKind, MembershipRecord, OutboxRecord,
    ScoreRecord, Suppression, WriteOp,
};
use serde_json::json;

use crate::fixtures::contact;
use crate::fixtures::{contact_traits, event_op, identity, link, merge, new_account, new_contact};
use crate::harness::Harness;
use bellwether_core::subject::{DefKind, Transition};

fn membership(key: &str, at: i64) -> WriteOp {
    WriteOp::Membership(MembershipRecord {
        at,
        subject: contact(key),
        label: format!("user-{key}"),
        change: Transition::Entered,
        definition_kind: DefKind::Segment,
        definition: "hot".into(),
        level: None,
    })
}

fn score(key: &str, at: i64) -> WriteOp {
    WriteOp::Score(ScoreRecord {
        at,
        subject: contact(key),
        label: format!("user-{key}"),
        score: "intent".into(),
        value: 1.0,
        constant: 1.0,
        decaying: 0.0,
        anchor: at,
        half_life: None,
    })
}

/// A first start's run of `forms` score forms, written as one row.
fn score_run(key: &str, from: i64, forms: i64) -> WriteOp {
    let records = (from..from + forms)
        .map(|at| match score(key, at) {
            WriteOp::Score(record) => record,
            _ => unreachable!("score makes a score op"),
        })
        .collect();
    WriteOp::ScoreRun(bellwether_core::store::ScoreRun::split(records).remove(0))
}

fn outbox(id: &str, key: &str, at: i64) -> WriteOp {
    WriteOp::Outbox(OutboxRecord {
        id: id.into(),
        destination: "crm".into(),
        subject_kind: "contact".into(),
        subject_key: key.into(),
        label: format!("user-{key}"),
        definition_kind: "segment".into(),
        definition: "hot".into(),
        change: "entered".into(),
        at,
        body: "{}".into(),
    })
}

fn assign(key: &str, at: i64) -> WriteOp {
    WriteOp::Assign(AssignmentRecord {
        segment: "hot".into(),
        subject: contact(key),
        label: format!("user-{key}"),
        owner: "ana".into(),
        pool: Some("sdr".into()),
        round_robin: true,
        at,
    })
}

/// Contact 1 (user "gone", anonymous "gone-anon" merged in from 2) and
/// contact 3 (user "kept"), both at acme, each with history.
fn two_people(h: &dyn Harness) -> std::sync::Arc<dyn bellwether_core::Store> {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 10),
            identity(IdKind::User, "gone", 1, 10),
            new_contact(2, 10),
            identity(IdKind::Anonymous, "gone-anon", 2, 10),
            event_op(1, Some(2), 100),
            event_op(2, Some(1), 200),
            contact_traits(1, json!({"email": "gone@acme.io"}), 200, 2),
            new_account("acme", 10),
            link(1, "acme", 200),
            merge(2, 1, 300),
            new_contact(3, 10),
            identity(IdKind::User, "kept", 3, 10),
            event_op(3, Some(3), 250),
            link(3, "acme", 250),
            membership("1", 200),
            membership("2", 150),
            membership("3", 250),
            score("1", 200),
            score("3", 250),
            outbox("d1", "1", 200),
            outbox("d3", "3", 250),
            assign("1", 200),
        ])
        .expect("seed");
    store
}

fn deletion() -> ContactDeletion {
    ContactDeletion {
        id: "del_1".into(),
        at: 500,
        actor: "admin".into(),
        contacts: vec![1, 2],
        suppress: vec![
            Suppression {
                value: "gone".into(),
                kind: IdKind::User,
                at: 500,
            },
            Suppression {
                value: "gone-anon".into(),
                kind: IdKind::Anonymous,
                at: 500,
            },
        ],
    }
}

pub(crate) fn deleting_a_contact_removes_every_row_about_it_and_logs_counts(h: &dyn Harness) {
    let store = two_people(h);
    store
        .apply(&[WriteOp::DeleteContact(deletion())])
        .expect("delete");
    assert_eq!(
        store.contact_by_identity(IdKind::User, "gone").unwrap(),
        None
    );
    assert_eq!(
        store
            .contact_by_identity(IdKind::Anonymous, "gone-anon")
            .unwrap(),
        None
    );
    assert!(store.contact(1).unwrap().is_none() && store.contact(2).unwrap().is_none());
    assert!(store.contact_events(1, 10, None).unwrap().is_empty());
    assert!(store.contact_trait_history(1).unwrap().is_empty());
    assert!(store.merges_into(1).unwrap().is_empty());
    assert!(store.subject_history(&contact("1")).unwrap().is_empty());
    assert!(store.subject_history(&contact("2")).unwrap().is_empty());
    assert!(store.score_history(&contact("1")).unwrap().is_empty());
    assert_eq!(store.event_count().unwrap(), 1, "only kept's event");
    let snapshot = store.load_identity().unwrap();
    assert_eq!(
        snapshot
            .contacts
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [3]
    );
    // The other contact and the account are untouched.
    let kept = store.contact(3).unwrap().expect("kept");
    assert_eq!(kept.account_id.as_deref(), Some("acme"));
    assert_eq!(
        store.account("acme").unwrap().expect("acme").contact_ids,
        [3]
    );
    assert_eq!(store.subject_history(&contact("3")).unwrap().len(), 1);
    let deliveries = store
        .deliveries(&bellwether_core::store::DeliveryFilter::default(), 10)
        .unwrap();
    assert_eq!(deliveries.len(), 1, "only kept's delivery");
    // The assignment stays anonymous, so the pool's turn still counts.
    let assignments = store.assignments().unwrap();
    assert!(assignments.current.is_empty());
    assert_eq!(assignments.turns, [("sdr".to_owned(), 1)]);

    let suppressed: Vec<String> = store
        .suppressions()
        .unwrap()
        .into_iter()
        .map(|s| s.value)
        .collect();
    assert_eq!(suppressed, ["gone", "gone-anon"]);
    let log = store.deletions(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].id.as_str(), log[0].actor.as_str()),
        ("del_1", "admin")
    );
    assert_eq!(log[0].contacts, [1, 2]);
    assert_eq!(
        log[0].counts,
        DeletionCounts {
            events: 2,
            traits: 1,
            identities: 2,
            memberships: 2,
            scores: 1,
            deliveries: 1,
            assignments: 1,
        }
    );
    assert!(!log[0].complete);
}

pub(crate) fn a_purge_removes_late_records_counts_them_and_completes(h: &dyn Harness) {
    let store = two_people(h);
    store
        .apply(&[WriteOp::DeleteContact(deletion())])
        .expect("delete");
    // Records the engine made before it forgot the contact, written after
    // the deletion, in the same batch as the purge (a run of a first
    // start's forms counts each form).
    store
        .apply(&[
            membership("1", 600),
            score("1", 600),
            score_run("2", 601, 3),
            outbox("late", "1", 600),
            WriteOp::PurgeContactRecords {
                deletion: "del_1".into(),
                contacts: vec![1, 2],
            },
        ])
        .expect("purge");
    assert!(store.subject_history(&contact("1")).unwrap().is_empty());
    assert!(store.score_history(&contact("1")).unwrap().is_empty());
    let log = store.deletions(10).unwrap();
    assert!(log[0].complete);
    assert_eq!(
        (
            log[0].counts.memberships,
            log[0].counts.scores,
            log[0].counts.deliveries
        ),
        (3, 5, 2)
    );
    // Idempotent: a second purge (a restart finishing it) changes nothing.
    store
        .apply(&[WriteOp::PurgeContactRecords {
            deletion: "del_1".into(),
            contacts: vec![1, 2],
        }])
        .expect("purge again");
    assert_eq!(store.deletions(10).unwrap()[0].counts, log[0].counts);
}

pub(crate) fn suppressions_are_removed_one_by_one_and_survive_reopen(h: &dyn Harness) {
    let store = two_people(h);
    store
        .apply(&[WriteOp::DeleteContact(deletion())])
        .expect("delete");
    store
        .apply(&[WriteOp::Unsuppress {
            value: "gone".into(),
        }])
        .expect("unsuppress");
    drop(store);
    let reopened = h.open();
    let left = reopened.suppressions().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].value.as_str(), left[0].kind, left[0].at),
        ("gone-anon", IdKind::Anonymous, 500)
    );
    assert_eq!(reopened.deletions(10).unwrap().len(), 1);
}
