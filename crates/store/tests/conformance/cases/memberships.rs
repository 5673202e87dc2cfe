//! Membership history, the latest memberships and the engine checkpoint.

use bellwether_core::store::{MembershipRecord, WriteOp};

use crate::fixtures::{contact, subject};
use crate::harness::Harness;
use bellwether_core::subject::{DefKind, Transition};

fn record(at: i64, key: &str, change: &str, definition: &str, level: Option<&str>) -> WriteOp {
    WriteOp::Membership(MembershipRecord {
        at,
        subject: contact(key),
        label: format!("user-{key}"),
        change: Transition::parse(change).expect("a transition"),
        definition_kind: if level.is_some() {
            DefKind::Tier
        } else {
            DefKind::Segment
        },
        definition: definition.into(),
        level: level.map(str::to_owned),
    })
}

pub(crate) fn latest_memberships_keep_each_last_change_in_recording_order(h: &dyn Harness) {
    let store = h.open();
    assert_eq!(store.latest_memberships().unwrap(), (Vec::new(), None));
    store
        .apply(&[
            record(20, "1", "entered", "hot", None),
            record(10, "2", "entered", "lifecycle", Some("trial")),
            WriteOp::Checkpoint { at: 20 },
        ])
        .unwrap();
    store
        .apply(&[
            record(30, "1", "exited", "hot", None),
            record(40, "2", "exited", "lifecycle", Some("trial")),
            record(40, "2", "entered", "lifecycle", Some("customer")),
            record(25, "1", "entered", "cold", None),
            WriteOp::Checkpoint { at: 45 },
        ])
        .unwrap();
    let (records, checkpoint) = store.latest_memberships().unwrap();
    assert_eq!(checkpoint, Some(45), "the latest checkpoint wins");
    let summary: Vec<(i64, String, &str, &str, Option<&str>)> = records
        .iter()
        .map(|r| {
            (
                r.at,
                r.subject.store_key(),
                r.change.as_str(),
                r.definition.as_str(),
                r.level.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (30, "1".into(), "exited", "hot", None),
            (40, "2".into(), "entered", "lifecycle", Some("customer")),
            (25, "1".into(), "entered", "cold", None),
        ],
        "each subject's last change per definition, in recording order (not time order)"
    );
    assert_eq!(records[1].definition_kind, DefKind::Tier);
    assert_eq!(records[0].label, "user-1");

    let one: Vec<(i64, Transition)> = store
        .subject_history(&contact("1"))
        .unwrap()
        .into_iter()
        .map(|r| (r.at, r.change))
        .collect();
    assert_eq!(
        one,
        [
            (20, Transition::Entered),
            (30, Transition::Exited),
            (25, Transition::Entered)
        ],
        "every change of the subject, in recording order"
    );
    assert!(
        store
            .subject_history(&subject("account", "1"))
            .unwrap()
            .is_empty(),
        "kinds are distinct"
    );
}

pub(crate) fn definition_history_lists_one_definition_since_an_instant(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            record(10, "1", "entered", "hot", None),
            record(20, "2", "entered", "hot", None),
            record(25, "1", "entered", "cold", None),
            record(30, "1", "exited", "hot", None),
        ])
        .unwrap();
    // Recorded later with an earlier instant (another account's history).
    store
        .apply(&[record(22, "3", "entered", "hot", None)])
        .unwrap();
    let since_20: Vec<(i64, String)> = store
        .definition_history("hot", 20)
        .unwrap()
        .into_iter()
        .map(|r| (r.at, r.subject.store_key()))
        .collect();
    assert_eq!(
        since_20,
        [
            (20, "2".to_owned()),
            (22, "3".to_owned()),
            (30, "1".to_owned())
        ]
    );
    assert_eq!(store.definition_history("hot", 0).unwrap().len(), 4);
    assert!(store.definition_history("warm", 0).unwrap().is_empty());
}

/// A first start writes score forms before its checkpoint: what one that
/// stopped half way left is discarded; once a checkpoint exists, nothing is.
pub(crate) fn history_without_a_checkpoint_is_discarded_and_with_one_kept(h: &dyn Harness) {
    let store = h.open();
    let score = |at: i64| {
        WriteOp::Score(bellwether_core::store::ScoreRecord {
            at,
            subject: contact("1"),
            label: "user-1".into(),
            score: "intent".into(),
            value: 5.0,
            constant: 5.0,
            decaying: 0.0,
            anchor: at,
            half_life: None,
        })
    };
    store
        .apply(&[score(10), record(10, "1", "entered", "hot", None)])
        .unwrap();
    assert_eq!(store.discard_unconfirmed_history().unwrap(), 2);
    assert_eq!(store.latest_memberships().unwrap(), (Vec::new(), None));
    assert!(store.latest_scores().unwrap().is_empty());
    assert_eq!(store.discard_unconfirmed_history().unwrap(), 0);

    store
        .apply(&[
            score(20),
            record(20, "1", "entered", "hot", None),
            WriteOp::Checkpoint { at: 20 },
        ])
        .unwrap();
    assert_eq!(store.discard_unconfirmed_history().unwrap(), 0);
    let (memberships, checkpoint) = store.latest_memberships().unwrap();
    assert_eq!((memberships.len(), checkpoint), (1, Some(20)));
    assert_eq!(store.score_history(&contact("1")).unwrap().len(), 1);
}
