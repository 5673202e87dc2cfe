//! Score history: closed forms in recording order, and the latest per score.

use bellwether_core::store::{ScoreRecord, WriteOp};

use crate::fixtures::subject;
use crate::harness::Harness;

fn record(at: i64, kind: &str, key: &str, score: &str, constant: f64, decaying: f64) -> WriteOp {
    WriteOp::Score(ScoreRecord {
        at,
        subject: subject(kind, key),
        label: format!("label-{key}"),
        score: score.into(),
        value: constant + decaying,
        constant,
        decaying,
        anchor: at,
        half_life: (decaying != 0.0).then_some(1_209_600_000),
    })
}

pub(crate) fn score_history_round_trips_exactly_in_recording_order(h: &dyn Harness) {
    let store = h.open();
    assert!(store
        .score_history(&subject("contact", "1"))
        .unwrap()
        .is_empty());
    // A value that is not a short decimal must come back bit for bit.
    let odd = 0.1 + 0.2;
    store
        .apply(&[
            record(30, "contact", "1", "intent", 0.0, odd),
            record(10, "contact", "1", "fit", 40.0, 0.0),
            record(30, "account", "1", "intent", 0.0, 12.5),
        ])
        .unwrap();
    store
        .apply(&[record(20, "contact", "1", "intent", -15.0, 7.25)])
        .unwrap();
    let history = store.score_history(&subject("contact", "1")).unwrap();
    let summary: Vec<(i64, &str, f64, f64)> = history
        .iter()
        .map(|r| (r.at, r.score.as_str(), r.constant, r.decaying))
        .collect();
    assert_eq!(
        summary,
        [
            (30, "intent", 0.0, odd),
            (10, "fit", 40.0, 0.0),
            (20, "intent", -15.0, 7.25)
        ],
        "recording order, not time order, and exact floats"
    );
    assert_eq!(history[0].half_life, Some(1_209_600_000));
    assert_eq!(history[1].half_life, None);
    assert_eq!(history[0].label, "label-1");
    assert_eq!(
        store.score_history(&subject("account", "1")).unwrap().len(),
        1
    );
}

pub(crate) fn latest_scores_keep_the_last_recorded_form_per_subject_and_score(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            record(10, "contact", "1", "intent", 0.0, 5.0),
            record(10, "contact", "1", "fit", 40.0, 0.0),
            record(10, "account", "1", "intent", 0.0, 9.0),
        ])
        .unwrap();
    // Recorded later with an earlier instant: recording order decides.
    store
        .apply(&[record(5, "contact", "1", "intent", 0.0, 3.0)])
        .unwrap();
    let mut latest: Vec<(String, String, String, f64)> = store
        .latest_scores()
        .unwrap()
        .into_iter()
        .map(|r| {
            let kind = r.subject.kind().as_str().to_owned();
            (kind, r.subject.store_key(), r.score, r.decaying)
        })
        .collect();
    latest.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    assert_eq!(
        latest,
        [
            ("account".into(), "1".into(), "intent".into(), 9.0),
            ("contact".into(), "1".into(), "fit".into(), 0.0),
            ("contact".into(), "1".into(), "intent".into(), 3.0),
        ]
    );
}

/// A first start hands the store tens of thousands of history rows per
/// batch (SQLite inserts runs of them many rows per statement): every row
/// keeps its order and fields, around other ops and past a run's end.
pub(crate) fn long_runs_of_history_rows_keep_their_order_and_fields(h: &dyn Harness) {
    use bellwether_core::store::MembershipRecord;
    use bellwether_core::subject::{DefKind, Transition};
    let store = h.open();
    let membership = |at: i64, key: &str| {
        WriteOp::Membership(MembershipRecord {
            at,
            subject: subject("contact", key),
            label: format!("label-{key}"),
            change: Transition::Entered,
            definition_kind: DefKind::Tier,
            definition: "lifecycle".into(),
            level: Some(format!("level-{at}")),
        })
    };
    let mut ops = Vec::new();
    for at in 0..150 {
        let key = (at % 3).to_string();
        ops.push(record(at, "contact", &key, "intent", at as f64, 0.5));
    }
    ops.push(WriteOp::Checkpoint { at: 1 });
    ops.extend((200..330).map(|at| membership(at, &(at % 2).to_string())));
    ops.push(record(400, "account", "a", "fit", 1.0, 0.0));
    ops.extend((500..570).map(|at| membership(at, "0")));
    store.apply(&ops).unwrap();

    for key in ["0", "1", "2"] {
        let scores: Vec<(i64, f64, String)> = store
            .score_history(&subject("contact", key))
            .unwrap()
            .into_iter()
            .map(|r| (r.at, r.constant, r.label))
            .collect();
        let expected: Vec<(i64, f64, String)> = (0..150)
            .filter(|at| (at % 3).to_string() == key)
            .map(|at| (at, at as f64, format!("label-{key}")))
            .collect();
        assert_eq!(scores, expected, "contact {key}'s score forms");
    }
    let fit = store.score_history(&subject("account", "a")).unwrap();
    assert_eq!((fit.len(), fit[0].at, fit[0].half_life), (1, 400, None));
    let changes: Vec<(i64, Option<String>)> = store
        .subject_history(&subject("contact", "0"))
        .unwrap()
        .into_iter()
        .map(|r| (r.at, r.level))
        .collect();
    let expected: Vec<(i64, Option<String>)> = (200..330)
        .filter(|at| at % 2 == 0)
        .chain(500..570)
        .map(|at| (at, Some(format!("level-{at}"))))
        .collect();
    assert_eq!(changes, expected, "contact 0's membership changes");
    assert_eq!(
        store
            .subject_history(&subject("contact", "1"))
            .unwrap()
            .len(),
        65
    );
}
