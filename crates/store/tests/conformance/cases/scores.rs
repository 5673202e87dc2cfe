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

/// A first start writes each subject's run of forms of a score as one row
/// (`WriteOp::ScoreRun`): read back, a run is its forms, oldest first,
/// bit for bit, where its row is among the live ones; its last form is the
/// latest; enough runs for SQLite's many-row statements, and one alone.
pub(crate) fn score_runs_read_back_as_the_forms_they_hold(h: &dyn Harness) {
    use bellwether_core::store::ScoreRun;
    let store = h.open();
    let form = |at: i64, key: &str, score: &str| {
        let WriteOp::Score(mut record) = record(at, "contact", key, score, at as f64, 0.1 + 0.2)
        else {
            unreachable!("record makes a score op")
        };
        record.anchor = at - 7;
        record
    };
    // 100 contacts, two scores each, forms interleaved in time as a walk
    // records them; contact 0's intent has one form only.
    let mut walked = Vec::new();
    for at in 0..30 {
        for key in 0..100 {
            if key != 0 || at == 0 {
                walked.push(form(at * 10, &key.to_string(), "intent"));
            }
            walked.push(form(at * 10 + 1, &key.to_string(), "fit"));
        }
    }
    let runs = ScoreRun::split(walked);
    assert_eq!(runs.len(), 200);
    let live = record(1_000, "contact", "5", "intent", 1.0, 0.0);
    store
        .apply(&[record(0, "contact", "5", "fit", 2.0, 0.0)])
        .unwrap();
    let ops: Vec<WriteOp> = runs.into_iter().map(WriteOp::ScoreRun).collect();
    store.apply(&ops).unwrap();
    store.apply(&[live]).unwrap();
    store
        .apply(&[WriteOp::ScoreRun(
            ScoreRun::split(vec![form(2_000, "5", "fit"), form(2_010, "5", "fit")]).remove(0),
        )])
        .unwrap();

    let of = |key: &str| -> Vec<(i64, String, u64, i64)> {
        store
            .score_history(&subject("contact", key))
            .unwrap()
            .into_iter()
            .map(|r| (r.at, r.score, r.decaying.to_bits(), r.anchor))
            .collect()
    };
    let forms = |score: &str, ats: &mut dyn Iterator<Item = i64>| -> Vec<(i64, String, u64, i64)> {
        ats.map(|at| (at, score.to_owned(), (0.1f64 + 0.2).to_bits(), at - 7))
            .collect()
    };
    // Contact 5: its live fit, its walked fit run, intent run, the live
    // intent, then a run written alone.
    let mut expected = vec![(0, "fit".to_owned(), 0f64.to_bits(), 0)];
    expected.extend(forms("fit", &mut (0..30).map(|at| at * 10 + 1)));
    expected.extend(forms("intent", &mut (0..30).map(|at| at * 10)));
    expected.push((1_000, "intent".to_owned(), 0f64.to_bits(), 1_000));
    expected.extend(forms("fit", &mut [2_000, 2_010].into_iter()));
    assert_eq!(of("5"), expected);
    let mut expected = forms("fit", &mut (0..30).map(|at| at * 10 + 1));
    expected.extend(forms("intent", &mut std::iter::once(0)));
    assert_eq!(of("0"), expected);

    let latest: Vec<(String, String, i64)> = store
        .latest_scores()
        .unwrap()
        .into_iter()
        .filter(|r| ["5", "0"].contains(&r.subject.store_key().as_str()))
        .map(|r| (r.subject.store_key(), r.score, r.at))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        latest,
        [
            ("0".into(), "fit".into(), 291),
            ("0".into(), "intent".into(), 0),
            ("5".into(), "fit".into(), 2_010),
            ("5".into(), "intent".into(), 1_000),
        ]
    );
}
