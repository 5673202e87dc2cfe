//! Measurement: conversion and lift by segment, holdout lift, score
//! quality, overlap between segments, backtests and lint, computed from the
//! engine's timelines (as of any instant) and the recorded membership
//! history. Definitions of who counts are in `docs/reports.md`.
//!
//! Invariant: pure computations over what the caller hands in (an engine it
//! has locked, history it has read); no IO, no clock. Callers run them off
//! the async runtime. Every input that can make the work grow is bounded
//! here ([`MAX_INSTANTS`], [`MAX_HORIZON`]).

mod backtest;
mod conversion;
mod defaults;
mod lint;
mod overlap;
mod quality;
mod references;
pub mod stats;

use bellwether_rules::{
    DefKind, Definitions, Diagnostics, EventSelector, PropertyKeys, RuleSet, SubjectKind,
    ValueProperty,
};

pub use backtest::{backtest, BacktestParams, BacktestPoint, BacktestReport, BacktestTarget};
pub use conversion::{
    conversion, holdout_lift, ConversionParams, ConversionReport, Group, GroupValue, HoldoutReport,
};
pub use defaults::ReportsConfig;
pub use lint::{
    lint, without_activity_message, Finding, LintParams, LintReport, DEFAULT_MAX_OVERLAP,
    DEFAULT_MIN_SIZE,
};
pub use overlap::{overlap, OverlapPair, OverlapReport};
pub use quality::{score_quality, QualityParams, QualityReport};
pub use stats::{Decile, Proportion, Quartiles};

use crate::engine::{Engine, View};
use crate::message::Millis;
use crate::pipeline::EngineHandle;
use crate::store::StoreError;

/// Most instants one backtest evaluates.
pub const MAX_INSTANTS: usize = 1_000;
/// Longest conversion horizon (about two years).
pub const MAX_HORIZON: Millis = 730 * 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no segment named {0:?}")]
    UnknownSegment(String),
    #[error("no score named {0:?}")]
    UnknownScore(String),
    #[error("segment {0:?} has no holdout (set `holdout = 0.1` on it to withhold entrants)")]
    NoHoldout(String),
    #[error("{field}: {reason}")]
    InvalidParameter { field: &'static str, reason: String },
    /// An outcome selector or draft condition that does not check.
    #[error("{field}: {}", first_message(.diagnostics))]
    InvalidExpression {
        field: &'static str,
        diagnostics: Diagnostics,
    },
    /// The report reads event properties the engine does not hold in
    /// memory yet; the caller reloads them (`Engine::widen_properties`)
    /// and runs it again.
    #[error("the report reads event properties not loaded yet: {}", .0.iter().collect::<Vec<_>>().join(", "))]
    PropertiesNotKept(PropertyKeys),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs a report on an engine the caller owns; when it reads event
/// properties the engine does not hold yet, loads them from `store` and runs
/// it again (the server does the same on published views:
/// [`with_handle`]).
pub fn with_store<T>(
    engine: &mut Engine,
    store: &dyn crate::store::Store,
    run: impl Fn(&View) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    match run(engine) {
        Err(ReportError::PropertiesNotKept(keys)) => {
            engine.widen_properties(store, &keys)?;
            run(engine)
        }
        other => other,
    }
}

/// [`with_store`] for a running engine: the report runs on a published
/// view, so the writer is never blocked by it; only loading properties
/// the engine does not hold yet takes the writer's lock.
pub fn with_handle<T>(
    handle: &EngineHandle,
    store: &dyn crate::store::Store,
    run: impl Fn(&View) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    match run(&handle.view()) {
        Err(ReportError::PropertiesNotKept(keys)) => {
            handle.lock().widen_properties(store, &keys)?;
            run(&handle.view())
        }
        other => other,
    }
}

/// Fails with [`ReportError::PropertiesNotKept`] unless `engine` holds `keys`.
fn require_kept(engine: &View, keys: PropertyKeys) -> Result<(), ReportError> {
    match engine.keeps(&keys) {
        true => Ok(()),
        false => Err(ReportError::PropertiesNotKept(keys)),
    }
}

fn first_message(diagnostics: &Diagnostics) -> String {
    diagnostics
        .diagnostics
        .first()
        .map_or_else(|| "invalid".to_owned(), |d| d.message.clone())
}

/// An outcome: an event selector and how long after the reference instant
/// it may happen; optionally what its events are worth.
#[derive(Debug, Clone)]
pub struct OutcomeSpec {
    /// A selector in the rule language, e.g. `"Deal Won"`.
    pub selector: String,
    /// Milliseconds after the reference instant.
    pub horizon: Millis,
    /// A numeric property of the outcome's events (`amount`): revenue is
    /// its sum over each subject's window.
    pub value: Option<String>,
    /// A selector for the deals in play (`any where amount > 0`): pipeline
    /// is the sum of `value` over its events in each subject's window.
    pub pipeline: Option<String>,
}

/// An outcome checked against the rules.
pub(crate) struct CompiledOutcome {
    pub(crate) selector: EventSelector,
    pub(crate) value: Option<ValueProperty>,
    pub(crate) pipeline: Option<EventSelector>,
}

impl CompiledOutcome {
    fn property_keys(&self) -> PropertyKeys {
        let mut keys = self.selector.property_keys();
        if let Some(value) = &self.value {
            keys = keys.union(&value.property_keys());
        }
        if let Some(pipeline) = &self.pipeline {
            keys = keys.union(&pipeline.property_keys());
        }
        keys
    }
}

impl OutcomeSpec {
    /// An outcome counted, not valued.
    pub fn new(selector: impl Into<String>, horizon: Millis) -> Self {
        Self {
            selector: selector.into(),
            horizon,
            value: None,
            pipeline: None,
        }
    }

    fn compile(
        &self,
        engine: &View,
        rules: &RuleSet,
        subject: SubjectKind,
    ) -> Result<CompiledOutcome, ReportError> {
        let outcome = self.compile_with(rules, subject)?;
        require_kept(engine, outcome.property_keys())?;
        Ok(outcome)
    }

    /// The event properties the outcome reads (its selectors and value):
    /// a server measuring it by default keeps them from the start.
    pub fn property_keys(
        &self,
        rules: &RuleSet,
        subject: SubjectKind,
    ) -> Result<PropertyKeys, ReportError> {
        self.compile_with(rules, subject)
            .map(|outcome| outcome.property_keys())
    }

    /// Checks the selectors, the value and the horizon against `rules`
    /// for a subject kind (configuration checks at load).
    pub fn check(&self, rules: &RuleSet, subject: SubjectKind) -> Result<(), ReportError> {
        self.compile_with(rules, subject).map(|_| ())
    }

    fn compile_with(
        &self,
        rules: &RuleSet,
        subject: SubjectKind,
    ) -> Result<CompiledOutcome, ReportError> {
        if !(1..=MAX_HORIZON).contains(&self.horizon) {
            return Err(ReportError::InvalidParameter {
                field: "horizon",
                reason: "must be more than 0 and at most 730d".into(),
            });
        }
        let selector = event_selector(rules, subject, "outcome", &self.selector)?;
        let value = match self.value.as_deref() {
            None => None,
            Some(text) => Some(ValueProperty::parse(text).map_err(|reason| {
                ReportError::InvalidParameter {
                    field: "value",
                    reason,
                }
            })?),
        };
        let pipeline = match (self.pipeline.as_deref(), &value) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(ReportError::InvalidParameter {
                    field: "pipeline",
                    reason: "needs `value`, the event property to sum (e.g. amount)".into(),
                })
            }
            (Some(text), Some(_)) => Some(event_selector(rules, subject, "pipeline", text)?),
        };
        Ok(CompiledOutcome {
            selector,
            value,
            pipeline,
        })
    }

    /// The end of the window opened at `reference`: the horizon, cut short
    /// at `as_of`. Returns it and whether it was cut short.
    fn window_end(&self, reference: Millis, as_of: Millis) -> (Millis, bool) {
        let end = reference.saturating_add(self.horizon);
        (end.min(as_of), end > as_of)
    }
}

/// Checks `text` as an event selector; a plain event name (`Deal Won`
/// typed in a URL) is accepted too.
fn event_selector(
    rules: &RuleSet,
    subject: SubjectKind,
    field: &'static str,
    text: &str,
) -> Result<EventSelector, ReportError> {
    let text = text.trim();
    let invalid = |diagnostics| ReportError::InvalidExpression { field, diagnostics };
    match rules.selector(subject, text) {
        Ok(selector) => Ok(selector),
        Err(diagnostics) if !text.contains(['"', '\'', '(']) && !text.contains(" where ") => rules
            .selector(subject, &format!("\"{text}\""))
            .map_err(|_| invalid(diagnostics)),
        Err(diagnostics) => Err(invalid(diagnostics)),
    }
}

/// A half-open period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Millis,
    pub to: Millis,
}

impl Period {
    fn check(self) -> Result<Self, ReportError> {
        if self.from >= self.to {
            return Err(ReportError::InvalidParameter {
                field: "from",
                reason: "must be before `to`".into(),
            });
        }
        Ok(self)
    }
}

/// The given definitions and everything they read, alone: evaluating them
/// costs only what they need.
fn reduced_rules(rules: &RuleSet, keep: &[(DefKind, &str)]) -> Result<RuleSet, ReportError> {
    let mut wanted: std::collections::HashSet<(DefKind, String)> = keep
        .iter()
        .map(|(kind, name)| (*kind, (*name).to_owned()))
        .collect();
    // Dependencies come first in the order: walk it backwards.
    for def in rules.order().iter().rev() {
        if wanted.contains(&(def.kind, def.name.to_string())) {
            for (kind, name) in &def.depends_on {
                wanted.insert((*kind, name.to_string()));
            }
        }
    }
    let all = rules.definitions();
    let has = |kind: DefKind, name: &str| wanted.contains(&(kind, name.to_owned()));
    let definitions = Definitions {
        score: all
            .score
            .iter()
            .filter(|d| has(DefKind::Score, &d.name))
            .cloned()
            .collect(),
        segment: all
            .segment
            .iter()
            .filter(|d| has(DefKind::Segment, &d.name))
            .cloned()
            .collect(),
        tier: all
            .tier
            .iter()
            .filter(|d| has(DefKind::Tier, &d.name))
            .cloned()
            .collect(),
    };
    RuleSet::compile(&definitions).map_err(|diagnostics| ReportError::InvalidExpression {
        field: "definitions",
        diagnostics,
    })
}

#[cfg(test)]
mod tests;
