//! Backtests: a saved segment or a draft condition evaluated as of the
//! instants `from`, `from + every`, … up to `to` on the stored history
//! (events after each instant ignored, today's identity graph): its size at
//! each instant, who entered and exited since the previous instant, and
//! how those entrants converted within the horizon after the instant they
//! were first seen in.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use bellwether_rules::{DefKind, RuleSet, SegmentDef, SubjectKind};
use serde::Serialize;

use super::stats::Proportion;
use super::{reduced_rules, OutcomeSpec, ReportError, MAX_INSTANTS};
use crate::engine::{Replay, SubjectKey, View};
use crate::message::Millis;

/// The name a draft condition is evaluated under.
pub(super) const DRAFT: &str = "__backtest_draft";

#[derive(Debug, Clone)]
pub enum BacktestTarget {
    /// A segment in force.
    Segment(String),
    /// A condition not saved yet.
    Draft { when: String, subject: SubjectKind },
}

#[derive(Debug, Clone)]
pub struct BacktestParams {
    pub target: BacktestTarget,
    pub from: Millis,
    pub to: Millis,
    pub every: Millis,
    pub outcome: Option<OutcomeSpec>,
    pub as_of: Millis,
    /// Keep the members at each instant in the report (tests, small
    /// exports: memory grows with instants × members).
    pub keep_members: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestPoint {
    pub at: Millis,
    pub size: u64,
    /// Members now that were not at the previous instant (0 at the first).
    pub entered: u64,
    pub exited: u64,
    /// Of those entrants, how many converted (with an outcome).
    pub converted: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    pub segment: Option<String>,
    pub subject: &'static str,
    pub points: Vec<BacktestPoint>,
    /// Distinct subjects that entered at some instant after the first.
    pub entrants: u64,
    /// Their conversion, with an outcome.
    pub conversion: Option<Proportion>,
    /// Subject evaluations the replay needed.
    pub evaluations: u64,
    /// Members at each instant, with `keep_members` (else empty).
    #[serde(skip)]
    pub members: Vec<BTreeSet<SubjectKey>>,
}

/// The instants of a backtest, checked against [`MAX_INSTANTS`].
pub(super) fn instants(
    from: Millis,
    to: Millis,
    every: Millis,
) -> Result<Vec<Millis>, ReportError> {
    let invalid = |field, reason: &str| ReportError::InvalidParameter {
        field,
        reason: reason.to_owned(),
    };
    if every <= 0 {
        return Err(invalid("every", "must be positive"));
    }
    if from > to {
        return Err(invalid("from", "must not be after `to`"));
    }
    let count = (to - from) / every + 1;
    if count > MAX_INSTANTS as i64 {
        return Err(ReportError::InvalidParameter {
            field: "every",
            reason: format!("{count} instants; at most {MAX_INSTANTS} (use a longer step)"),
        });
    }
    Ok((0..count).map(|i| from + i * every).collect())
}

pub fn backtest(engine: &View, params: &BacktestParams) -> Result<BacktestReport, ReportError> {
    let instants = instants(params.from, params.to, params.every)?;
    let (name, subject, rules) = target_rules(engine, &params.target)?;
    let selector = match &params.outcome {
        Some(outcome) => Some(outcome.compile(engine, &rules, subject)?.selector),
        None => None,
    };
    let mut replay = Replay::new(engine, Arc::new(rules));
    let mut points = Vec::with_capacity(instants.len());
    let mut members = Vec::new();
    let mut previous: Option<BTreeSet<SubjectKey>> = None;
    let mut seen: HashSet<SubjectKey> = HashSet::new();
    let (mut entrants, mut converted_total) = (0u64, 0u64);
    for at in instants {
        replay.advance(at);
        let now = replay.members(&name);
        let (entered, exited): (Vec<&SubjectKey>, u64) = match &previous {
            None => (Vec::new(), 0),
            Some(before) => (
                now.difference(before).collect(),
                before.difference(&now).count() as u64,
            ),
        };
        let converted = match (&selector, &params.outcome) {
            (Some(selector), Some(outcome)) => {
                let (end, _) = outcome.window_end(at, params.as_of);
                let hits = entered
                    .iter()
                    .filter(|key| engine.first_outcome(key, selector, at, end).is_some())
                    .collect::<Vec<_>>();
                for key in &hits {
                    if !seen.contains(**key) {
                        converted_total += 1;
                    }
                }
                Some(hits.len() as u64)
            }
            _ => None,
        };
        for key in &entered {
            if seen.insert((*key).clone()) {
                entrants += 1;
            }
        }
        points.push(BacktestPoint {
            at,
            size: now.len() as u64,
            entered: entered.len() as u64,
            exited,
            converted,
        });
        if params.keep_members {
            members.push(now.clone());
        }
        previous = Some(now);
    }
    Ok(BacktestReport {
        segment: match &params.target {
            BacktestTarget::Segment(name) => Some(name.clone()),
            BacktestTarget::Draft { .. } => None,
        },
        subject: subject.as_str(),
        points,
        entrants,
        conversion: selector.map(|_| Proportion::new(converted_total, entrants)),
        evaluations: replay.evaluations(),
        members,
    })
}

/// The segment's name, subject and the definitions it needs, alone.
fn target_rules(
    engine: &View,
    target: &BacktestTarget,
) -> Result<(String, SubjectKind, RuleSet), ReportError> {
    match target {
        BacktestTarget::Segment(name) => {
            let subject = engine
                .segment_subject(name)
                .ok_or_else(|| ReportError::UnknownSegment(name.clone()))?;
            let rules = reduced_rules(engine.rules(), &[(DefKind::Segment, name)])?;
            Ok((name.clone(), subject, rules))
        }
        BacktestTarget::Draft { when, subject } => {
            engine
                .rules()
                .condition(*subject, when)
                .map_err(|diagnostics| ReportError::InvalidExpression {
                    field: "when",
                    diagnostics,
                })?;
            let mut definitions = engine.rules().definitions().clone();
            definitions.segment.retain(|s| s.name != DRAFT);
            definitions.segment.push(SegmentDef {
                name: DRAFT.into(),
                subject: *subject,
                when: when.clone(),
                ..SegmentDef::default()
            });
            let all = RuleSet::compile(&definitions).map_err(|diagnostics| {
                ReportError::InvalidExpression {
                    field: "when",
                    diagnostics,
                }
            })?;
            let rules = reduced_rules(&all, &[(DefKind::Segment, DRAFT)])?;
            super::require_kept(engine, rules.property_keys())?;
            Ok((DRAFT.to_owned(), *subject, rules))
        }
    }
}
