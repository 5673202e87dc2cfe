//! Wire shapes of the reports (`/api/v1/reports/…`) and the parsing of
//! their shared query parameters.

use bellwether_core::reports::{
    BacktestReport, ConversionReport, Decile, Finding, Group, HoldoutReport, OverlapPair,
    Proportion, QualityReport,
};
use bellwether_core::Millis;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::segment::{format_timestamp, parse_timestamp};

/// A conversion rate with its Wilson 95 % interval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RateView {
    pub(crate) converted: u64,
    pub(crate) total: u64,
    /// `null` when `total` is 0.
    pub(crate) rate: Option<f64>,
    pub(crate) low: Option<f64>,
    pub(crate) high: Option<f64>,
}

impl From<Proportion> for RateView {
    fn from(p: Proportion) -> Self {
        Self {
            converted: p.count,
            total: p.total,
            rate: p.rate,
            low: p.low,
            high: p.high,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct GroupView {
    #[serde(flatten)]
    pub(crate) conversion: RateView,
    /// Subjects whose window was cut short at `as_of`.
    pub(crate) open: u64,
    /// Days from the reference instant (a member's entry) to the first
    /// outcome, over those who converted; `null` when nobody did.
    pub(crate) days_to_outcome: Option<QuartilesView>,
    /// With `value`: what the group's outcomes were worth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<ValueView>,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        Self {
            conversion: g.conversion.into(),
            open: g.open,
            days_to_outcome: g.days_to_outcome.map(|q| QuartilesView {
                p25: q.p25,
                median: q.median,
                p75: q.p75,
            }),
            value: g.value.map(|v| ValueView {
                revenue: v.revenue,
                revenue_per_member: v.revenue_per_subject,
                revenue_per_conversion: v.revenue_per_conversion,
                pipeline: v.pipeline,
                pipeline_per_member: v.pipeline_per_subject,
            }),
        }
    }
}

/// Lower quartile, median and upper quartile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct QuartilesView {
    pub(crate) p25: f64,
    pub(crate) median: f64,
    pub(crate) p75: f64,
}

/// Revenue and pipeline of a group, in the units of the value property.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ValueView {
    /// The value summed over every outcome event in the group's windows.
    pub(crate) revenue: f64,
    /// `revenue` over the group's size (`null` for an empty group).
    pub(crate) revenue_per_member: Option<f64>,
    /// `revenue` over those who converted: the average won deal.
    pub(crate) revenue_per_conversion: Option<f64>,
    /// With `pipeline`: the value summed over its events in the windows.
    pub(crate) pipeline: Option<f64>,
    pub(crate) pipeline_per_member: Option<f64>,
}

/// The period, outcome and instant a report was computed for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Frame {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) as_of: String,
    pub(crate) outcome: String,
    pub(crate) horizon: String,
    /// The outcome's value property, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
    /// The pipeline selector, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pipeline: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ConversionView {
    pub(crate) segment: String,
    pub(crate) subject: &'static str,
    #[serde(flatten)]
    pub(crate) frame: Frame,
    pub(crate) members: GroupView,
    pub(crate) non_members: GroupView,
    pub(crate) lift: Option<f64>,
    pub(crate) difference: Option<f64>,
    pub(crate) p_value: Option<f64>,
}

impl ConversionView {
    pub(crate) fn new(report: ConversionReport, frame: Frame) -> Self {
        Self {
            segment: report.segment,
            subject: report.subject,
            frame,
            members: report.members.into(),
            non_members: report.non_members.into(),
            lift: report.lift,
            difference: report.difference,
            p_value: report.p_value,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldoutView {
    segment: String,
    subject: &'static str,
    #[serde(flatten)]
    frame: Frame,
    share: f64,
    treated: GroupView,
    held_out: GroupView,
    lift: Option<f64>,
    difference: Option<f64>,
    p_value: Option<f64>,
}

impl HoldoutView {
    pub(crate) fn new(report: HoldoutReport, frame: Frame) -> Self {
        Self {
            segment: report.segment,
            subject: report.subject,
            frame,
            share: report.share,
            treated: report.treated.into(),
            held_out: report.held_out.into(),
            lift: report.lift,
            difference: report.difference,
            p_value: report.p_value,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DecileView {
    decile: u32,
    min_score: f64,
    max_score: f64,
    #[serde(flatten)]
    conversion: RateView,
}

impl From<Decile> for DecileView {
    fn from(d: Decile) -> Self {
        Self {
            decile: d.decile,
            min_score: d.min_score,
            max_score: d.max_score,
            conversion: d.conversion.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QualityView {
    score: String,
    subject: &'static str,
    /// The reference instant the score was read at.
    at: String,
    as_of: String,
    outcome: String,
    horizon: String,
    overall: RateView,
    auc: Option<f64>,
    /// Highest scores first.
    deciles: Vec<DecileView>,
    /// Whether the window was cut short at `as_of`.
    open: bool,
}

impl QualityView {
    pub(crate) fn new(report: QualityReport, at: Millis, frame: Frame) -> Self {
        Self {
            score: report.score,
            subject: report.subject,
            at: format_timestamp(at),
            as_of: frame.as_of,
            outcome: frame.outcome,
            horizon: frame.horizon,
            overall: report.overall.into(),
            auc: report.auc,
            deciles: report.deciles.into_iter().map(Into::into).collect(),
            open: report.open,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OverlapView {
    /// Most overlapping first.
    pairs: Vec<OverlapPairView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OverlapPairView {
    a: String,
    b: String,
    size_a: u64,
    size_b: u64,
    shared: u64,
    jaccard: Option<f64>,
}

impl OverlapView {
    pub(crate) fn new(pairs: Vec<OverlapPair>) -> Self {
        let pairs = pairs
            .into_iter()
            .map(|p| OverlapPairView {
                a: p.a,
                b: p.b,
                size_a: p.size_a,
                size_b: p.size_b,
                shared: p.shared,
                jaccard: p.jaccard,
            })
            .collect();
        Self { pairs }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PointView {
    at: String,
    size: u64,
    entered: u64,
    exited: u64,
    converted: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BacktestView {
    /// The saved segment, or `null` for a draft.
    segment: Option<String>,
    subject: &'static str,
    points: Vec<PointView>,
    entrants: u64,
    conversion: Option<RateView>,
    evaluations: u64,
}

impl From<BacktestReport> for BacktestView {
    fn from(report: BacktestReport) -> Self {
        Self {
            segment: report.segment,
            subject: report.subject,
            points: report
                .points
                .into_iter()
                .map(|p| PointView {
                    at: format_timestamp(p.at),
                    size: p.size,
                    entered: p.entered,
                    exited: p.exited,
                    converted: p.converted,
                })
                .collect(),
            entrants: report.entrants,
            conversion: report.conversion.map(Into::into),
            evaluations: report.evaluations,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LintView {
    findings: Vec<FindingView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingView {
    /// `too_small`, `near_duplicate`, `no_owner`, `no_action`,
    /// `unknown_event`, `never_changed` or `holds_without_activity`.
    code: &'static str,
    definition: String,
    message: String,
}

impl LintView {
    pub(crate) fn new(findings: Vec<Finding>) -> Self {
        let findings = findings
            .into_iter()
            .map(|f| FindingView {
                code: f.code,
                definition: f.definition,
                message: f.message,
            })
            .collect();
        Self { findings }
    }
}

/// An RFC 3339 query parameter, or `default`.
pub(crate) fn instant(
    field: &'static str,
    text: Option<&str>,
    default: Millis,
) -> Result<Millis, ApiError> {
    match text {
        None => Ok(default),
        Some(text) => parse_timestamp(text).ok_or_else(|| ApiError::InvalidField {
            field: field.into(),
            reason: format!("{text:?} is not an RFC 3339 instant"),
        }),
    }
}

/// A duration query parameter (`30d`, `12h`), or `default`.
pub(crate) fn duration(
    field: &'static str,
    text: Option<&str>,
    default: Millis,
) -> Result<Millis, ApiError> {
    match text {
        None => Ok(default),
        Some(text) => bellwether_rules::parse_duration(text)
            .filter(|d| *d > 0)
            .ok_or_else(|| ApiError::InvalidField {
                field: field.into(),
                reason: format!("{text:?} is not a positive duration such as 30d or 12h"),
            }),
    }
}
