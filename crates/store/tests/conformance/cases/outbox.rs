//! The outbox: deliveries committed once per id, per-subject order, attempts,
//! dead letters and replay, disabled destinations, owner assignments.

use bellwether_core::store::{
    AssignmentRecord, AttemptOutcome, BackfilledAssignment, DeliveryFilter, DeliveryState,
    DigestSentRecord, OutboxRecord, WriteOp,
};

use crate::fixtures::contact;
use crate::harness::Harness;
use bellwether_core::subject::SubjectKey;

fn delivery(id: &str, destination: &str, subject: &str, at: i64) -> WriteOp {
    WriteOp::Outbox(OutboxRecord {
        id: id.into(),
        destination: destination.into(),
        subject_kind: "contact".into(),
        subject_key: subject.into(),
        label: format!("user-{subject}"),
        definition_kind: "segment".into(),
        definition: "hot_intent".into(),
        change: "entered".into(),
        at,
        body: format!("{{\"id\":\"{id}\",\"text\":\"héllo \\u0000 ✓\"}}"),
    })
}

fn ids(rows: &[(i64, bellwether_core::store::Delivery)]) -> Vec<&str> {
    rows.iter().map(|(_, d)| d.record.id.as_str()).collect()
}

pub(crate) fn an_outbox_id_is_stored_once_and_round_trips(h: &dyn Harness) {
    let store = h.open();
    store.apply(&[delivery("msg_a", "crm", "1", 10)]).unwrap();
    // A change recomputed after a crash brings the same id again.
    store
        .apply(&[
            delivery("msg_a", "crm", "1", 10),
            delivery("msg_b", "crm", "2", 11),
        ])
        .unwrap();
    let all = store.deliveries(&DeliveryFilter::default(), 10).unwrap();
    assert_eq!(ids(&all), ["msg_b", "msg_a"], "newest first");
    let (_, first) = &all[1];
    assert_eq!(first.state, DeliveryState::Pending);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.next_attempt_at, 10, "due at the change's instant");
    let WriteOp::Outbox(expected) = delivery("msg_a", "crm", "1", 10) else {
        unreachable!()
    };
    assert_eq!(first.record, expected);
}

pub(crate) fn only_the_head_of_each_subject_queue_is_due(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            delivery("a1", "crm", "1", 10),
            delivery("a2", "crm", "1", 11),
            delivery("b1", "crm", "2", 12),
            delivery("c1", "slack", "1", 13),
        ])
        .unwrap();
    assert_eq!(
        ids(&store.due_deliveries(100, &[], 10).unwrap()),
        ["a1", "b1", "c1"]
    );
    assert_eq!(
        ids(&store.due_deliveries(11, &[], 10).unwrap()),
        ["a1"],
        "not yet due"
    );
    let skip = ["slack".to_owned()];
    assert_eq!(
        ids(&store.due_deliveries(100, &skip, 10).unwrap()),
        ["a1", "b1"]
    );
    assert_eq!(ids(&store.due_deliveries(100, &[], 1).unwrap()), ["a1"]);

    // A retry scheduled later holds back the subject's next delivery.
    let retry = AttemptOutcome::Retry {
        at: 20,
        next_at: 500,
        status: Some(503),
        error: "service unavailable".into(),
    };
    store.record_attempts(&[("a1".into(), retry)]).unwrap();
    assert_eq!(
        ids(&store.due_deliveries(100, &[], 10).unwrap()),
        ["b1", "c1"]
    );
    let due = store.due_deliveries(500, &[], 10).unwrap();
    assert_eq!(ids(&due), ["a1", "b1", "c1"]);
    let (_, a1) = &due[0];
    assert_eq!((a1.attempts, a1.last_status), (1, Some(503)));
    assert_eq!(a1.last_error.as_deref(), Some("service unavailable"));

    store
        .record_attempts(&[(
            "a1".into(),
            AttemptOutcome::Delivered {
                at: 501,
                status: 204,
            },
        )])
        .unwrap();
    assert_eq!(
        ids(&store.due_deliveries(600, &[], 10).unwrap()),
        ["a2", "b1", "c1"]
    );
    let delivered = store
        .deliveries(
            &DeliveryFilter {
                state: Some(DeliveryState::Delivered),
                ..DeliveryFilter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(ids(&delivered), ["a1"]);
    assert_eq!(delivered[0].1.delivered_at, Some(501));
    assert_eq!(delivered[0].1.attempts, 2);
}

pub(crate) fn dead_letters_are_listed_and_replayed(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            delivery("a1", "crm", "1", 10),
            delivery("a2", "crm", "1", 11),
            delivery("b1", "crm", "2", 12),
        ])
        .unwrap();
    let dead = |at| AttemptOutcome::Dead {
        at,
        status: Some(500),
        error: "internal server error".into(),
    };
    store
        .record_attempts(&[("a1".into(), dead(20)), ("b1".into(), dead(21))])
        .unwrap();
    // A dead letter no longer holds its subject's queue.
    assert_eq!(ids(&store.due_deliveries(100, &[], 10).unwrap()), ["a2"]);
    let dead_filter = DeliveryFilter {
        state: Some(DeliveryState::Dead),
        ..DeliveryFilter::default()
    };
    assert_eq!(
        ids(&store.deliveries(&dead_filter, 10).unwrap()),
        ["b1", "a1"]
    );
    assert_eq!(store.outbox_depth().unwrap(), [("crm".into(), 1, 2)]);

    assert_eq!(store.replay_dead(Some(&["b1".to_owned()]), 30).unwrap(), 1);
    assert_eq!(
        store.replay_dead(Some(&["a2".to_owned()]), 30).unwrap(),
        0,
        "not dead"
    );
    let due = store.due_deliveries(30, &[], 10).unwrap();
    assert_eq!(ids(&due), ["a2", "b1"]);
    assert_eq!(due[1].1.attempts, 0, "attempts start over");
    assert_eq!(store.replay_dead(None, 40).unwrap(), 1);
    assert!(store.deliveries(&dead_filter, 10).unwrap().is_empty());
}

pub(crate) fn deliveries_filter_and_page(h: &dyn Harness) {
    let store = h.open();
    let mut other = delivery("x1", "slack", "3", 14);
    if let WriteOp::Outbox(record) = &mut other {
        record.definition = "churn_risk".into();
    }
    store
        .apply(&[
            delivery("a1", "crm", "1", 10),
            delivery("a2", "crm", "1", 11),
            other,
        ])
        .unwrap();
    let by = |filter: DeliveryFilter| ids(&store.deliveries(&filter, 10).unwrap()).join(",");
    let filter = DeliveryFilter {
        destination: Some("crm".into()),
        ..DeliveryFilter::default()
    };
    assert_eq!(by(filter), "a2,a1");
    let filter = DeliveryFilter {
        definition: Some("churn_risk".into()),
        ..DeliveryFilter::default()
    };
    assert_eq!(by(filter), "x1");
    let filter = DeliveryFilter {
        subject: Some(("contact".into(), "1".into())),
        ..DeliveryFilter::default()
    };
    assert_eq!(by(filter), "a2,a1", "one subject's deliveries");
    let filter = DeliveryFilter {
        subject: Some(("account".into(), "1".into())),
        ..DeliveryFilter::default()
    };
    assert_eq!(by(filter), "", "the kind counts too");
    let page = store.deliveries(&DeliveryFilter::default(), 2).unwrap();
    assert_eq!(ids(&page), ["x1", "a2"]);
    let next = DeliveryFilter {
        before: Some(page[1].0),
        ..DeliveryFilter::default()
    };
    assert_eq!(by(next), "a1");
}

pub(crate) fn destinations_are_disabled_and_enabled(h: &dyn Harness) {
    let store = h.open();
    assert!(store.disabled_destinations().unwrap().is_empty());
    store
        .set_destination_disabled("crm", Some((50, "410 Gone")))
        .unwrap();
    store
        .set_destination_disabled("crm", Some((60, "410 Gone again")))
        .unwrap();
    assert_eq!(
        store.disabled_destinations().unwrap(),
        [("crm".into(), 60, "410 Gone again".into())]
    );
    store.set_destination_disabled("crm", None).unwrap();
    assert!(store.disabled_destinations().unwrap().is_empty());
}

fn assignment(segment: &str, key: &str, owner: &str, round_robin: bool, at: i64) -> WriteOp {
    WriteOp::Assign(AssignmentRecord {
        segment: segment.into(),
        subject: contact(key),
        label: format!("user-{key}"),
        owner: owner.into(),
        pool: round_robin.then(|| "sdr-pool".to_owned()),
        round_robin,
        at,
    })
}

pub(crate) fn assignments_keep_current_owners_and_pool_turns(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            assignment("hot_intent", "1", "ana", true, 10),
            assignment("hot_intent", "2", "ben", true, 11),
            assignment("churn_risk", "1", "dana", false, 12),
            WriteOp::Unassign {
                segment: "hot_intent".into(),
                subject: contact("1"),
                at: 20,
            },
        ])
        .unwrap();
    let recorded = store.assignments().unwrap();
    let (current, turns) = (recorded.current, recorded.turns);
    let owners: Vec<(&str, &SubjectKey, &str)> = current
        .iter()
        .map(|a| (a.segment.as_str(), &a.subject, a.owner.as_str()))
        .collect();
    assert_eq!(
        owners,
        [
            ("hot_intent", &contact("2"), "ben"),
            ("churn_risk", &contact("1"), "dana")
        ]
    );
    assert_eq!(
        turns,
        [("sdr-pool".to_owned(), 2)],
        "ended assignments still used a turn"
    );
    // Entering again replaces nothing but the ended row.
    store
        .apply(&[assignment("hot_intent", "1", "chloe", true, 30)])
        .unwrap();
    let recorded = store.assignments().unwrap();
    let (current, turns) = (recorded.current, recorded.turns);
    assert_eq!(current.len(), 3);
    assert_eq!(turns, [("sdr-pool".to_owned(), 3)]);
}

/// A first start writes its history's assignments whole (more than one
/// multi-row insert's worth here): the ended ones are history, the open
/// ones current, every round-robin one a turn used; a live assignment
/// after them ends the open one as usual.
pub(crate) fn backfilled_assignments_are_history_or_current_by_their_end(h: &dyn Harness) {
    let store = h.open();
    let ops: Vec<WriteOp> = (0..150)
        .map(|n: i64| {
            let WriteOp::Assign(assignment) =
                assignment("hot_intent", &n.to_string(), "ana", n % 2 == 0, n)
            else {
                unreachable!("assignment() makes an Assign");
            };
            // Every third is still open.
            let ended_at = (n % 3 != 0).then_some(n + 1_000);
            WriteOp::BackfilledAssignment(BackfilledAssignment {
                assignment,
                ended_at,
            })
        })
        .collect();
    store.apply(&ops).unwrap();
    let recorded = store.assignments().unwrap();
    let current: Vec<(String, i64)> = recorded
        .current
        .iter()
        .map(|a| (a.subject.store_key(), a.at))
        .collect();
    let open: Vec<(String, i64)> = (0..150)
        .filter(|n| n % 3 == 0)
        .map(|n| (n.to_string(), n))
        .collect();
    assert_eq!(current, open, "the open ones, oldest first");
    assert_eq!(recorded.turns, [("sdr-pool".to_owned(), 75)]);
    store
        .apply(&[assignment("hot_intent", "0", "ben", false, 2_000)])
        .unwrap();
    let recorded = store.assignments().unwrap();
    let owners_of_0: Vec<&str> = recorded
        .current
        .iter()
        .filter(|a| a.subject == contact("0"))
        .map(|a| a.owner.as_str())
        .collect();
    assert_eq!(owners_of_0, ["ben"], "the backfilled open one was ended");
}

fn digest_sent(name: &str, period_end: i64, sent_at: i64) -> WriteOp {
    WriteOp::DigestSent(DigestSentRecord {
        name: name.into(),
        period_end,
        sent_at,
    })
}

pub(crate) fn a_digest_period_commits_with_its_delivery_and_only_moves_forward(h: &dyn Harness) {
    let store = h.open();
    assert!(store.digests_sent().unwrap().is_empty());
    store
        .apply(&[
            delivery("msg_d1", "crm", "weekly", 100),
            digest_sent("weekly", 100, 105),
        ])
        .unwrap();
    store.apply(&[digest_sent("monthly", 50, 51)]).unwrap();
    // A stale writer (an older period) does not move it back.
    store.apply(&[digest_sent("weekly", 90, 200)]).unwrap();
    let expected = vec![
        DigestSentRecord {
            name: "monthly".into(),
            period_end: 50,
            sent_at: 51,
        },
        DigestSentRecord {
            name: "weekly".into(),
            period_end: 100,
            sent_at: 105,
        },
    ];
    assert_eq!(store.digests_sent().unwrap(), expected);
    store.apply(&[digest_sent("weekly", 200, 201)]).unwrap();
    drop(store);
    let reopened = h.open();
    let sent = reopened.digests_sent().unwrap();
    assert_eq!(
        (sent[1].period_end, sent[1].sent_at),
        (200, 201),
        "survives a reopen"
    );
    assert_eq!(
        ids(&reopened.deliveries(&DeliveryFilter::default(), 10).unwrap()),
        ["msg_d1"]
    );
}
