//! What a digest says about its period: per segment, the size at the end
//! and its change since the start, entries and exits, entries acted on,
//! conversion against the period before; the rule set's lint warnings;
//! and the segments nobody acted on.
//!
//! Sizes, entries and exits come from the recorded membership history
//! (like `GET /api/v1/segments/{name}/trend`): the size at an instant is
//! the current size walked back over the changes recorded since.
//! Conversion is the conversion report's members (entrants of the period,
//! converted within the horizon after entry, `docs/reports.md`), for this
//! period and the one before.
//!
//! **Acted on**: an entry (a recorded `entered` change of a subject at an
//! instant) is acted on when the outbox holds a `segment.entered` delivery
//! of that subject at that instant, to any destination, that the receiver
//! acknowledged (2xx: state `delivered`). A segment is **not acted on**
//! when it had entries in the period and none of them was acted on
//! (no destination subscribes to it, its holdout took every entrant, or
//! every delivery is still pending or dead).

use std::collections::{BTreeMap, HashSet};

use bellwether_rules::format_instant;
use serde::Serialize;

use super::config::DigestConfig;
use super::schedule::Window;
use crate::engine::View;
use crate::message::Millis;
use crate::reports::{self, ConversionParams, Finding, OutcomeSpec, Period, ReportError};
use crate::store::MembershipRecord;
use crate::subject::{SubjectKey, SubjectKind, Transition};

/// One digest, before it is encoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub name: String,
    /// `week` or `month`.
    pub every: &'static str,
    pub timezone: String,
    /// The period summarised, `[from, to)` (RFC 3339).
    pub from: String,
    pub to: String,
    /// The period compared with, `[previous_from, from)`.
    pub previous_from: String,
    /// The outcome conversion is measured on, when the digest has one.
    pub outcome: Option<String>,
    pub segments: Vec<SegmentSummary>,
    /// Lint findings of the current definitions (`docs/reports.md#lint`).
    pub lint: Vec<Finding>,
    /// Segments with entries in the period, none of them acted on.
    pub not_acted_on: Vec<String>,
}

/// One segment over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentSummary {
    pub name: String,
    pub subject: SubjectKind,
    /// Members at the end of the period.
    pub size: u64,
    /// Members at its start.
    pub size_at_start: u64,
    /// `size − size_at_start`.
    pub size_change: i64,
    pub entered: u64,
    pub exited: u64,
    /// Entries with a delivered `segment.entered` webhook.
    pub entries_acted_on: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion: Option<ConversionSummary>,
}

/// Entrants' conversion in the period against the period before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionSummary {
    pub converted: u64,
    pub entrants: u64,
    pub rate: Option<f64>,
    /// Entrants whose horizon has not ended yet (they may still convert).
    pub open: u64,
    pub previous_converted: u64,
    pub previous_entrants: u64,
    pub previous_rate: Option<f64>,
    /// `rate − previous_rate`, in rate units.
    pub change: Option<f64>,
}

/// What a digest is built from, read by the caller.
pub struct Inputs<'a> {
    pub view: &'a View,
    /// The instant the digest is computed at.
    pub now: Millis,
    /// Per summarised segment: its recorded changes at or after the
    /// window's `from`, in recording order.
    pub history: &'a BTreeMap<String, Vec<MembershipRecord>>,
    /// Delivered entries: (segment, subject kind, subject key, instant).
    pub delivered: &'a HashSet<(String, SubjectKey, Millis)>,
    pub lint: Vec<Finding>,
}

/// The segments a digest summarises, in definition order.
pub fn segment_names(config: &DigestConfig, view: &View) -> Vec<String> {
    view.rules()
        .definitions()
        .segment
        .iter()
        .map(|s| s.name.clone())
        .filter(|name| config.segments.is_empty() || config.segments.contains(name))
        .collect()
}

/// Builds the digest of `window`.
pub fn build(
    config: &DigestConfig,
    window: Window,
    inputs: Inputs<'_>,
) -> Result<Digest, ReportError> {
    let sizes: BTreeMap<String, usize> = inputs.view.segment_sizes().into_iter().collect();
    let mut segments = Vec::new();
    for name in segment_names(config, inputs.view) {
        let records = inputs.history.get(&name).map_or(&[][..], Vec::as_slice);
        let size_now = sizes.get(&name).copied().unwrap_or(0) as u64;
        let mut summary = summarize(&name, records, size_now, window, inputs.delivered);
        summary.subject = inputs.view.segment_subject(&name).unwrap_or_default();
        if let Some(outcome) = &config.outcome {
            summary.conversion = Some(conversion(
                inputs.view,
                config,
                outcome,
                &name,
                window,
                inputs.now,
            )?);
        }
        segments.push(summary);
    }
    let not_acted_on = segments
        .iter()
        .filter(|s| s.entered > 0 && s.entries_acted_on == 0)
        .map(|s| s.name.clone())
        .collect();
    let schedule = config
        .schedule()
        .map_err(|reason| ReportError::InvalidParameter {
            field: "digest",
            reason,
        })?;
    Ok(Digest {
        name: config.name.clone(),
        every: config.every.as_str(),
        timezone: schedule.timezone().to_owned(),
        from: format_instant(window.from),
        to: format_instant(window.to),
        previous_from: format_instant(window.previous_from),
        outcome: config.outcome.clone(),
        segments,
        lint: inputs.lint,
        not_acted_on,
    })
}

/// Sizes, entries, exits and entries acted on of one segment from its
/// recorded changes at or after `window.from` and its size now.
pub fn summarize(
    name: &str,
    records: &[MembershipRecord],
    size_now: u64,
    window: Window,
    delivered: &HashSet<(String, SubjectKey, Millis)>,
) -> SegmentSummary {
    // Net change in [t, now): walked back from the size now.
    let net_since = |t: Millis| -> i64 {
        records
            .iter()
            .filter(|r| r.at >= t)
            .map(|r| {
                if r.change == Transition::Entered {
                    1
                } else {
                    -1
                }
            })
            .sum()
    };
    let size_at = |t: Millis| (size_now as i64 - net_since(t)).max(0) as u64;
    let in_period = |r: &&MembershipRecord| (window.from..window.to).contains(&r.at);
    let entries: Vec<&MembershipRecord> = records
        .iter()
        .filter(in_period)
        .filter(|r| r.change == Transition::Entered)
        .collect();
    let exited = records
        .iter()
        .filter(in_period)
        .filter(|r| r.change == Transition::Exited)
        .count() as u64;
    let acted = entries
        .iter()
        .filter(|r| delivered.contains(&(name.to_owned(), r.subject.clone(), r.at)))
        .count() as u64;
    let (size, size_at_start) = (size_at(window.to), size_at(window.from));
    SegmentSummary {
        name: name.to_owned(),
        subject: SubjectKind::Contact,
        size,
        size_at_start,
        size_change: size as i64 - size_at_start as i64,
        entered: entries.len() as u64,
        exited,
        entries_acted_on: acted,
        conversion: None,
    }
}

/// The conversion report's members, for the period and the one before.
fn conversion(
    view: &View,
    config: &DigestConfig,
    outcome: &str,
    segment: &str,
    window: Window,
    now: Millis,
) -> Result<ConversionSummary, ReportError> {
    let run = |from, to| {
        reports::conversion(
            view,
            &ConversionParams {
                segment: segment.to_owned(),
                outcome: OutcomeSpec::new(outcome, config.horizon_ms()),
                period: Period { from, to },
                as_of: now,
            },
        )
    };
    let current = run(window.from, window.to)?.members;
    let previous = run(window.previous_from, window.from)?.members;
    let (rate, previous_rate) = (current.conversion.rate, previous.conversion.rate);
    Ok(ConversionSummary {
        converted: current.conversion.count,
        entrants: current.conversion.total,
        rate,
        open: current.open,
        previous_converted: previous.conversion.count,
        previous_entrants: previous.conversion.total,
        previous_rate,
        change: rate.zip(previous_rate).map(|(now, before)| now - before),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: Millis, key: &str, change: &str) -> MembershipRecord {
        MembershipRecord {
            at,
            subject: SubjectKey::Contact(key.parse().expect("a contact number")),
            label: format!("user-{key}"),
            change: Transition::parse(change).expect("a transition"),
            definition_kind: crate::subject::DefKind::Segment,
            definition: "hot".into(),
            level: None,
        }
    }

    #[test]
    fn sizes_entries_exits_and_acted_on_entries_of_a_period() {
        // Period [100, 200); now 300 with 3 members.
        let window = Window {
            previous_from: 0,
            from: 100,
            to: 200,
        };
        let records = [
            record(100, "1", "entered"), // at `from`: in the period
            record(150, "2", "entered"),
            record(160, "3", "exited"),
            record(199, "4", "entered"),
            record(200, "5", "entered"), // at `to`: next period
            record(250, "2", "exited"),
        ];
        let delivered = HashSet::from([
            ("hot".to_owned(), SubjectKey::Contact(2), 150),
            // Another instant of the same subject: not this entry.
            ("hot".to_owned(), SubjectKey::Contact(4), 1),
        ]);
        let summary = summarize("hot", &records, 3, window, &delivered);
        assert_eq!(
            (summary.entered, summary.exited, summary.entries_acted_on),
            (3, 1, 1)
        );
        // Now 3; at 200: 3 − (+1 −1) = 3; at 100: 3 − (3 − 1 + 1 − 1) = 1.
        assert_eq!(
            (summary.size, summary.size_at_start, summary.size_change),
            (3, 1, 2)
        );
    }

    #[test]
    fn a_segment_without_changes_keeps_its_size() {
        let window = Window {
            previous_from: 0,
            from: 100,
            to: 200,
        };
        let summary = summarize("hot", &[], 7, window, &HashSet::new());
        assert_eq!(
            (summary.size, summary.size_at_start, summary.entered),
            (7, 7, 0)
        );
    }
}
