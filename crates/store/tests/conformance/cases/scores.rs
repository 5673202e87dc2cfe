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
