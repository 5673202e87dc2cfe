//! Score thresholds the action layer watches: a destination can ask for
//! "intent crossed 50". Each is tracked per subject like a segment, so a
//! decaying score dropping below its threshold is noticed by a timer at the
//! exact instant, never by polling.

use std::sync::Arc;

use bellwether_rules::threshold_crossing;

use super::values::Values;

/// `score ≥ threshold`, watched for crossings in both directions.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreWatch {
    pub score: Arc<str>,
    pub threshold: f64,
}

impl ScoreWatch {
    /// How the threshold is named in changes (`level`).
    pub fn label(&self) -> String {
        format!("{}", self.threshold)
    }
}

/// Sets `values.above` as of `at` and brings `next_change` forward to the
/// next crossing of any watched threshold.
pub(super) fn observe(watches: &[ScoreWatch], values: &mut Values, at: i64) {
    values.above = watches
        .iter()
        .map(|watch| {
            values
                .score(&watch.score)
                .is_some_and(|score| score.at(at) >= watch.threshold)
        })
        .collect();
    for watch in watches {
        if let Some(score) = values.score(&watch.score) {
            let crossing = threshold_crossing(&score, watch.threshold, at);
            values.note_change(crossing);
        }
    }
}
