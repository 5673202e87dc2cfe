//! Score quality: how well a score, as of a reference instant, ranks the
//! subjects that went on to convert. Every subject of the score's kind
//! known at the reference instant counts; it converted when an outcome
//! event happened in `(at, at + horizon]` (cut short at `as_of`).

use std::sync::Arc;

use bellwether_rules::DefKind;
use serde::Serialize;

use super::stats::{auc, deciles, Decile, Proportion};
use super::{reduced_rules, OutcomeSpec, ReportError};
use crate::engine::{Replay, View};
use crate::message::Millis;

#[derive(Debug, Clone)]
pub struct QualityParams {
    pub score: String,
    pub outcome: OutcomeSpec,
    /// The reference instant the score is read at.
    pub at: Millis,
    pub as_of: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    pub score: String,
    pub subject: &'static str,
    /// Everyone's conversion (the base rate).
    pub overall: Proportion,
    /// Probability that a converter scored above a non-converter (ties
    /// half); `None` without both.
    pub auc: Option<f64>,
    /// Highest scores first.
    pub deciles: Vec<Decile>,
    /// Whether the window was cut short at `as_of`.
    pub open: bool,
}

pub fn score_quality(engine: &View, params: &QualityParams) -> Result<QualityReport, ReportError> {
    let subject = engine
        .rules()
        .definitions()
        .score
        .iter()
        .find(|s| s.name == params.score)
        .map(|s| s.subject)
        .ok_or_else(|| ReportError::UnknownScore(params.score.clone()))?;
    let selector = params
        .outcome
        .compile(engine, engine.rules(), subject)?
        .selector;
    let rules = reduced_rules(engine.rules(), &[(DefKind::Score, &params.score)])?;
    let mut replay = Replay::new(engine, Arc::new(rules));
    replay.advance(params.at);
    let (end, open) = params.outcome.window_end(params.at, params.as_of);
    let observations: Vec<(f64, bool)> = replay
        .scores(&params.score)
        .into_iter()
        .map(|(key, value)| {
            let converted = engine
                .first_outcome(&key, &selector, params.at, end)
                .is_some();
            (value, converted)
        })
        .collect();
    let converted = observations.iter().filter(|(_, c)| *c).count() as u64;
    Ok(QualityReport {
        score: params.score.clone(),
        subject: subject.as_str(),
        overall: Proportion::new(converted, observations.len() as u64),
        auc: auc(&observations),
        deciles: deciles(&observations),
        open,
    })
}
