//! Conversion by segment (members after entry vs non-members) and holdout
//! lift (treated vs held-out entrants).
//!
//! Over a period `[from, to)`, as of an instant `as_of` (now):
//! - **members** are the subjects that entered the segment during the
//!   period; each one's reference instant is its first entry in it. Entries
//!   are recomputed exactly from the stored events (the instants the live
//!   engine records, SPEC 6.1), so imported history counts too;
//! - **non-members** are the subjects of the segment's kind, known by `to`,
//!   that were not members at `from`, did not enter during the period, and
//!   had at least one behavior event in it; each one's reference instant is
//!   its first behavior event in the period;
//! - a subject **converted** when an outcome event happened in
//!   `(reference, reference + horizon]`, cut short at `as_of` (those cut
//!   short are counted as `open`).
//!
//! For those who converted, the days from the reference instant to the
//! first outcome (quartiles). With a value property (`amount`), each
//! group's revenue is the value summed over every outcome event in its
//! subjects' windows, and its pipeline the same sum over a second selector
//! (the deals in play).
//!
//! Subjects that were members at `from` are in neither group.

use std::collections::{BTreeMap, HashSet};

use bellwether_rules::{DefKind, SubjectKind};
use serde::Serialize;

use super::stats::{quartiles, two_proportion_p_value, Proportion, Quartiles};
use super::{reduced_rules, CompiledOutcome, OutcomeSpec, Period, ReportError};
use crate::actions::holdout::is_held_out;
use crate::engine::{SubjectKey, View};
use crate::message::Millis;

#[derive(Debug, Clone)]
pub struct ConversionParams {
    pub segment: String,
    pub outcome: OutcomeSpec,
    pub period: Period,
    /// The instant the report is computed at (windows end here at the latest).
    pub as_of: Millis,
}

/// One group's conversion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub conversion: Proportion,
    /// Subjects whose window was cut short at `as_of`.
    pub open: u64,
    /// Days from the reference instant (a member's entry) to the first
    /// outcome, over those who converted.
    pub days_to_outcome: Option<Quartiles>,
    /// What the group's outcomes were worth, when the outcome has a value.
    pub value: Option<GroupValue>,
}

/// Revenue and pipeline of a group: sums of the outcome's value property
/// over every matching event in each subject's window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupValue {
    /// The value summed over the outcome's events (`amount` of each `Deal Won`).
    pub revenue: f64,
    /// `revenue` over the group's size: what one member was worth.
    pub revenue_per_subject: Option<f64>,
    /// `revenue` over those who converted: the average won deal.
    pub revenue_per_conversion: Option<f64>,
    /// The value summed over the pipeline selector's events, when one is given.
    pub pipeline: Option<f64>,
    /// `pipeline` over the group's size.
    pub pipeline_per_subject: Option<f64>,
}

/// Members against non-members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionReport {
    pub segment: String,
    pub subject: &'static str,
    pub members: Group,
    pub non_members: Group,
    /// Members' rate over non-members'.
    pub lift: Option<f64>,
    /// Members' rate minus non-members'.
    pub difference: Option<f64>,
    /// Two-sided pooled two-proportion z test.
    pub p_value: Option<f64>,
}

/// Treated against held-out entrants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutReport {
    pub segment: String,
    pub subject: &'static str,
    /// The segment's holdout share.
    pub share: f64,
    pub treated: Group,
    pub held_out: Group,
    pub lift: Option<f64>,
    pub difference: Option<f64>,
    pub p_value: Option<f64>,
}

/// Members' conversion after entry against non-members' over the same period.
pub fn conversion(
    engine: &View,
    params: &ConversionParams,
) -> Result<ConversionReport, ReportError> {
    let period = params.period.check()?;
    let subject = segment_subject(engine, &params.segment)?;
    let outcome = params.outcome.compile(engine, engine.rules(), subject)?;
    let cohort = Cohort::of(engine, &params.segment, period)?;
    let mut members = Tally::default();
    for (key, entered) in &cohort.entrants {
        if let Some(key) = SubjectKey::from_store(subject, key) {
            members.add(
                engine,
                &key,
                &outcome,
                &params.outcome,
                *entered,
                params.as_of,
            );
        }
    }
    let mut non_members = Tally::default();
    let last = period.to - 1;
    for (key, _) in engine.known_subjects(subject, last) {
        let stored = key.store_key();
        if cohort.members_at_start.contains(&stored) || cohort.entrants.contains_key(&stored) {
            continue;
        }
        let Some(reference) = engine.first_activity(&key, period.from, period.to) else {
            continue;
        };
        non_members.add(
            engine,
            &key,
            &outcome,
            &params.outcome,
            reference,
            params.as_of,
        );
    }
    let (members, non_members) = (members.finish(&outcome), non_members.finish(&outcome));
    let (lift, difference, p_value) = compare(&members.conversion, &non_members.conversion);
    Ok(ConversionReport {
        segment: params.segment.clone(),
        subject: subject.as_str(),
        members,
        non_members,
        lift,
        difference,
        p_value,
    })
}

/// Treated entrants' conversion against held-out entrants' (the same
/// entrants and windows as [`conversion`]'s members, split by the
/// segment's holdout draw).
pub fn holdout_lift(
    engine: &View,
    params: &ConversionParams,
) -> Result<HoldoutReport, ReportError> {
    let period = params.period.check()?;
    let subject = segment_subject(engine, &params.segment)?;
    let share = engine
        .rules()
        .definitions()
        .segment
        .iter()
        .find(|s| s.name == params.segment)
        .and_then(|s| s.holdout)
        .filter(|share| *share > 0.0)
        .ok_or_else(|| ReportError::NoHoldout(params.segment.clone()))?;
    let outcome = params.outcome.compile(engine, engine.rules(), subject)?;
    let cohort = Cohort::of(engine, &params.segment, period)?;
    let (mut treated, mut held_out) = (Tally::default(), Tally::default());
    for (stored, entered) in &cohort.entrants {
        let Some(key) = SubjectKey::from_store(subject, stored) else {
            continue;
        };
        let group = match is_held_out(&params.segment, stored, share) {
            true => &mut held_out,
            false => &mut treated,
        };
        group.add(
            engine,
            &key,
            &outcome,
            &params.outcome,
            *entered,
            params.as_of,
        );
    }
    let (treated, held_out) = (treated.finish(&outcome), held_out.finish(&outcome));
    let (lift, difference, p_value) = compare(&treated.conversion, &held_out.conversion);
    Ok(HoldoutReport {
        segment: params.segment.clone(),
        subject: subject.as_str(),
        share,
        treated,
        held_out,
        lift,
        difference,
        p_value,
    })
}

fn segment_subject(engine: &View, segment: &str) -> Result<SubjectKind, ReportError> {
    engine
        .segment_subject(segment)
        .ok_or_else(|| ReportError::UnknownSegment(segment.to_owned()))
}

/// Lift, difference and p-value of `a` against `b`.
fn compare(a: &Proportion, b: &Proportion) -> (Option<f64>, Option<f64>, Option<f64>) {
    let lift = match (a.rate, b.rate) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let difference = a.rate.zip(b.rate).map(|(a, b)| a - b);
    let p_value = two_proportion_p_value(a.count, a.total, b.count, b.total);
    (lift, difference, p_value)
}

/// Who entered during a period (first entry each) and who was already in
/// at its start, by store key.
struct Cohort {
    entrants: BTreeMap<String, Millis>,
    members_at_start: HashSet<String>,
}

impl Cohort {
    fn of(engine: &View, segment: &str, period: Period) -> Result<Self, ReportError> {
        let rules = reduced_rules(engine.rules(), &[(DefKind::Segment, segment)])?;
        let mut cohort = Self {
            entrants: BTreeMap::new(),
            members_at_start: HashSet::new(),
        };
        for t in engine.segment_transitions(&rules, segment, period.from, period.to) {
            match (t.member_at_start, t.first_entry) {
                (true, _) => {
                    cohort.members_at_start.insert(t.key.store_key());
                }
                (false, Some(at)) => {
                    cohort.entrants.insert(t.key.store_key(), at);
                }
                (false, None) => {}
            }
        }
        Ok(cohort)
    }
}

#[derive(Default)]
struct Tally {
    total: u64,
    converted: u64,
    open: u64,
    days_to_outcome: Vec<f64>,
    revenue: f64,
    pipeline: f64,
}

const DAY: f64 = 86_400_000.0;

impl Tally {
    fn add(
        &mut self,
        engine: &View,
        key: &SubjectKey,
        outcome: &CompiledOutcome,
        spec: &OutcomeSpec,
        reference: Millis,
        as_of: Millis,
    ) {
        if engine.label_of(key).is_none() {
            // Merged away since: its events live on in the survivor.
            return;
        }
        let (end, cut_short) = spec.window_end(reference, as_of);
        self.total += 1;
        self.open += u64::from(cut_short);
        if let Some(at) = engine.first_outcome(key, &outcome.selector, reference, end) {
            self.converted += 1;
            self.days_to_outcome.push((at - reference) as f64 / DAY);
        }
        if let Some(value) = &outcome.value {
            let (_, revenue) = engine.outcome_value(key, &outcome.selector, value, reference, end);
            self.revenue += revenue;
            if let Some(pipeline) = &outcome.pipeline {
                self.pipeline += engine.outcome_value(key, pipeline, value, reference, end).1;
            }
        }
    }

    fn finish(mut self, outcome: &CompiledOutcome) -> Group {
        let per = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
        let value = outcome.value.as_ref().map(|_| GroupValue {
            revenue: self.revenue,
            revenue_per_subject: per(self.revenue, self.total),
            revenue_per_conversion: per(self.revenue, self.converted),
            pipeline: outcome.pipeline.as_ref().map(|_| self.pipeline),
            pipeline_per_subject: outcome
                .pipeline
                .as_ref()
                .and_then(|_| per(self.pipeline, self.total)),
        });
        Group {
            conversion: Proportion::new(self.converted, self.total),
            open: self.open,
            days_to_outcome: quartiles(&mut self.days_to_outcome),
            value,
        }
    }
}
