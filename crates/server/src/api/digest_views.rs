//! The digest as the API shows it: the same fields as the standard body's
//! `data` (`bellwether_core::digest::Digest`), typed for the OpenAPI
//! document.

use bellwether_core::digest::{ConversionSummary, Digest, SegmentSummary};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DigestView {
    pub(crate) name: String,
    /// `week` or `month`.
    pub(crate) every: String,
    pub(crate) timezone: String,
    /// The period summarised, `[from, to)` (RFC 3339).
    pub(crate) from: String,
    pub(crate) to: String,
    /// The period compared with, `[previous_from, from)`.
    pub(crate) previous_from: String,
    pub(crate) outcome: Option<String>,
    pub(crate) segments: Vec<SegmentSummaryView>,
    /// Lint findings of the current definitions.
    pub(crate) lint: Vec<FindingView>,
    /// Segments with entries in the period and no delivered entry webhook.
    pub(crate) not_acted_on: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentSummaryView {
    pub(crate) name: String,
    /// `contact` or `account`.
    pub(crate) subject: String,
    /// Members at the end of the period.
    pub(crate) size: u64,
    /// Members at its start.
    pub(crate) size_at_start: u64,
    pub(crate) size_change: i64,
    pub(crate) entered: u64,
    pub(crate) exited: u64,
    /// Entries with a delivered `segment.entered` webhook.
    pub(crate) entries_acted_on: u64,
    /// With an `outcome`: entrants' conversion against the period before.
    pub(crate) conversion: Option<ConversionSummaryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversionSummaryView {
    pub(crate) converted: u64,
    pub(crate) entrants: u64,
    pub(crate) rate: Option<f64>,
    /// Entrants whose horizon has not ended yet.
    pub(crate) open: u64,
    pub(crate) previous_converted: u64,
    pub(crate) previous_entrants: u64,
    pub(crate) previous_rate: Option<f64>,
    /// `rate − previous_rate`.
    pub(crate) change: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingView {
    pub(crate) code: String,
    pub(crate) definition: String,
    pub(crate) message: String,
}

impl From<Digest> for DigestView {
    fn from(d: Digest) -> Self {
        Self {
            name: d.name,
            every: d.every.to_owned(),
            timezone: d.timezone,
            from: d.from,
            to: d.to,
            previous_from: d.previous_from,
            outcome: d.outcome,
            segments: d.segments.into_iter().map(Into::into).collect(),
            lint: d
                .lint
                .into_iter()
                .map(|f| FindingView {
                    code: f.code.to_owned(),
                    definition: f.definition,
                    message: f.message,
                })
                .collect(),
            not_acted_on: d.not_acted_on,
        }
    }
}

impl From<SegmentSummary> for SegmentSummaryView {
    fn from(s: SegmentSummary) -> Self {
        Self {
            name: s.name,
            subject: s.subject.as_str().to_owned(),
            size: s.size,
            size_at_start: s.size_at_start,
            size_change: s.size_change,
            entered: s.entered,
            exited: s.exited,
            entries_acted_on: s.entries_acted_on,
            conversion: s.conversion.map(Into::into),
        }
    }
}

impl From<ConversionSummary> for ConversionSummaryView {
    fn from(c: ConversionSummary) -> Self {
        Self {
            converted: c.converted,
            entrants: c.entrants,
            rate: c.rate,
            open: c.open,
            previous_converted: c.previous_converted,
            previous_entrants: c.previous_entrants,
            previous_rate: c.previous_rate,
            change: c.change,
        }
    }
}
