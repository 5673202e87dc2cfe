//! Whole-store behavior: emptiness, reopening, migrations, rejections,
//! atomic visibility under concurrent reads, large batches.

use std::sync::atomic::{AtomicBool, Ordering};

use bellwether_core::store::{IdKind, Store, WriteOp};
use serde_json::json;

use crate::fixtures::{
    account_traits, contact_traits, event_op, identity, link, merge, new_account, new_contact,
    rejection, seqs,
};
use crate::harness::Harness;

pub(crate) fn backend_reports_its_name(h: &dyn Harness) {
    assert_eq!(h.open().backend(), h.backend());
}

pub(crate) fn empty_store_answers_empty(h: &dyn Harness) {
    let store = h.open();
    assert_eq!(store.load_identity().unwrap(), Default::default());
    assert_eq!(store.event_count().unwrap(), 0);
    assert!(store.scan_events(0, 10).unwrap().is_empty());
    assert!(store.contact_events(1, 10, None).unwrap().is_empty());
    assert!(store.recent_rejections(10).unwrap().is_empty());
    assert!(store.merges_into(1).unwrap().is_empty());
    assert_eq!(store.contact(1).unwrap(), None);
    assert_eq!(store.account("acme").unwrap(), None);
    assert_eq!(store.contact_by_identity(IdKind::User, "u").unwrap(), None);
    assert!(store.seen_message_ids("web", &["m1"]).unwrap().is_empty());
}

pub(crate) fn empty_apply_is_ok(h: &dyn Harness) {
    let store = h.open();
    store.apply(&[]).unwrap();
    assert_eq!(store.event_count().unwrap(), 0);
}

/// A little of everything, so a reopen has something to lose.
fn everything() -> Vec<WriteOp> {
    vec![
        new_contact(1, 1),
        new_contact(2, 2),
        identity(IdKind::User, "u1", 1, 1),
        identity(IdKind::Anonymous, "a2", 2, 2),
        event_op(1, Some(1), 10),
        event_op(2, Some(2), 20),
        contact_traits(1, json!({"plan": "pro"}), 10, 1),
        new_account("acme", 3),
        account_traits("acme", json!({"domain": "acme.com"}), 3, 1),
        link(2, "acme", 20),
        merge(2, 1, 30),
        WriteOp::Rejection(rejection(40, "batch[0].event")),
    ]
}

/// Every read of the trait, for comparing two opens of one store.
fn everything_read(store: &dyn Store) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.load_identity().unwrap(),
        store.contact(1).unwrap(),
        store.contact_by_identity(IdKind::Anonymous, "a2").unwrap(),
        store.account("acme").unwrap(),
        store.scan_events(0, 100).unwrap(),
        store.contact_trait_history(1).unwrap(),
        store.account_trait_history("acme").unwrap(),
        store.merges_into(1).unwrap(),
        store.recent_rejections(10).unwrap(),
    )
}

pub(crate) fn data_survives_reopen(h: &dyn Harness) {
    let before = {
        let store = h.open();
        store.apply(&everything()).unwrap();
        everything_read(&*store)
    };
    let store = h.open();
    assert_eq!(everything_read(&*store), before);
    assert_eq!(store.event_count().unwrap(), 2);
    assert_eq!(store.load_identity().unwrap().max_seq, 2);
    store.apply(&[event_op(3, Some(1), 50)]).unwrap();
    drop(store);
    assert_eq!(
        seqs(&h.open().contact_events(1, 10, None).unwrap()),
        vec![3, 2, 1]
    );
}

pub(crate) fn migrations_are_idempotent_on_reopen(h: &dyn Harness) {
    let first = h.applied_migrations();
    assert!(!first.is_empty());
    let expected: Vec<u32> = (1..=u32::try_from(first.len()).unwrap()).collect();
    assert_eq!(first, expected, "every migration applied once, in order");
    h.open().apply(&everything()).unwrap();
    assert_eq!(h.applied_migrations(), first);
    assert_eq!(h.applied_migrations(), first);
    assert_eq!(
        h.open().event_count().unwrap(),
        2,
        "reopening keeps the data"
    );
}

pub(crate) fn rejections_are_listed_most_recent_first(h: &dyn Harness) {
    let store = h.open();
    let mut bare = rejection(200, "batch");
    bare.source = None;
    bare.message_id = None;
    bare.index = None;
    bare.excerpt = "ünïcødé ✂ \"quoted\"".to_owned();
    store
        .apply(&[
            WriteOp::Rejection(rejection(300, "batch[0].userId")),
            WriteOp::Rejection(bare.clone()),
        ])
        .unwrap();
    store
        .apply(&[
            WriteOp::Rejection(rejection(100, "batch[1].event")),
            WriteOp::Rejection(rejection(300, "batch[2].event")),
        ])
        .unwrap();
    let fields = |limit| -> Vec<String> {
        store
            .recent_rejections(limit)
            .unwrap()
            .into_iter()
            .map(|r| r.field)
            .collect()
    };
    assert_eq!(
        fields(10),
        [
            "batch[2].event",
            "batch[0].userId",
            "batch",
            "batch[1].event"
        ],
        "by received_at, the later stored first on a tie"
    );
    assert_eq!(fields(2), ["batch[2].event", "batch[0].userId"]);
    assert!(fields(0).is_empty());
    let listed = store.recent_rejections(10).unwrap();
    assert_eq!(listed[2], bare);
    assert_eq!(listed[1], rejection(300, "batch[0].userId"));
    assert_eq!(store.event_count().unwrap(), 0, "rejections are not events");
}

pub(crate) fn rejections_are_pruned_by_count_and_age(h: &dyn Harness) {
    let store = h.open();
    let batch: Vec<WriteOp> = (0..6)
        .map(|i| WriteOp::Rejection(rejection(1_000 + i, &format!("batch[{i}]"))))
        .collect();
    store.apply(&batch).unwrap();
    // Keep the newest four (by insertion), and nothing received before 1_001.
    store
        .apply(&[
            WriteOp::Rejection(rejection(1_010, "late")),
            WriteOp::PruneRejections {
                keep_newest: 4,
                before: 1_001,
            },
        ])
        .unwrap();
    let fields: Vec<String> = store
        .recent_rejections(100)
        .unwrap()
        .into_iter()
        .map(|r| r.field)
        .collect();
    assert_eq!(fields, ["late", "batch[5]", "batch[4]", "batch[3]"]);
    store
        .apply(&[WriteOp::PruneRejections {
            keep_newest: 10,
            before: 1_005,
        }])
        .unwrap();
    assert_eq!(store.recent_rejections(100).unwrap().len(), 2, "aged out");
}

pub(crate) fn concurrent_readers_see_whole_batches(h: &dyn Harness) {
    const BATCHES: i64 = 20;
    const PER_BATCH: i64 = 200;
    let store = h.open();
    store.apply(&[new_contact(1, 0)]).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut reads = 0;
                    while !done.load(Ordering::SeqCst) || reads == 0 {
                        let count = store.event_count().unwrap();
                        assert_eq!(count % PER_BATCH as u64, 0, "saw half a batch");
                        let timeline = store.contact_events(1, 1000, None).unwrap();
                        assert_eq!(timeline.len() as i64 % PER_BATCH, 0);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for batch in 0..BATCHES {
            let ops: Vec<WriteOp> = (0..PER_BATCH)
                .map(|i| event_op(batch * PER_BATCH + i + 1, Some(1), i))
                .collect();
            store.apply(&ops).unwrap();
        }
        done.store(true, Ordering::SeqCst);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
    });
    assert_eq!(store.event_count().unwrap(), (BATCHES * PER_BATCH) as u64);
}

/// The shape of an ingestion group commit: thousands of ops in one call.
pub(crate) fn a_large_mixed_batch_applies_in_one_call(h: &dyn Harness) {
    let store = h.open();
    let mut ops = Vec::new();
    for contact in 1..=500 {
        ops.push(new_contact(contact, contact));
        ops.push(identity(
            IdKind::Anonymous,
            &format!("anon-{contact}"),
            contact,
            contact,
        ));
        ops.push(contact_traits(
            contact,
            json!({"n": contact, "plan": "free"}),
            contact,
            contact,
        ));
    }
    for seq in 1..=5_000 {
        ops.push(event_op(seq, Some(seq % 500 + 1), seq));
    }
    for contact in (2..=500).step_by(2) {
        ops.push(merge(contact, contact - 1, 10_000));
    }
    store.apply(&ops).unwrap();
    assert_eq!(store.event_count().unwrap(), 5_000);
    let snapshot = store.load_identity().unwrap();
    assert_eq!(
        snapshot
            .contacts
            .iter()
            .filter(|(_, into)| into.is_none())
            .count(),
        250
    );
    assert_eq!(snapshot.identities.len(), 500);
    assert_eq!(snapshot.max_seq, 5_000);
    let contact = store
        .contact_by_identity(IdKind::Anonymous, "anon-2")
        .unwrap()
        .unwrap();
    assert_eq!(contact.id, 1);
    assert_eq!(contact.anonymous_ids, ["anon-1", "anon-2"]);
    assert_eq!(store.contact_events(1, 100_000, None).unwrap().len(), 20);
}
