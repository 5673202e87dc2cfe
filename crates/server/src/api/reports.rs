//! `GET /api/v1/reports/…`: conversion by segment, holdout lift, score
//! quality, overlap, backtests and lint (read scope). Every report runs off
//! the async runtime on a published view of the engine (never its lock),
//! in one of the report slots; the work each one does is bounded in
//! `bellwether_core::reports`. Who counts is
//! defined in `docs/reports.md`.

use std::collections::HashSet;

use super::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::reports::{
    self, BacktestParams, BacktestTarget, ConversionParams, LintParams, OutcomeSpec, Period,
    QualityParams,
};
use bellwether_core::Millis;
use bellwether_rules::SubjectKind;
use serde::Deserialize;

use super::handler::blocking;
use super::report_views::{
    duration, instant, BacktestView, ConversionView, Frame, HoldoutView, LintView, OverlapView,
    QualityView,
};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

const DAY: Millis = 86_400_000;
const DEFAULT_HORIZON: &str = "30d";
const DEFAULT_PERIOD_DAYS: i64 = 90;
const DEFAULT_BACKTEST_DAYS: i64 = 30;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct ConversionQuery {
    /// The segment (required).
    pub(crate) segment: Option<String>,
    /// Outcome event selector (required), e.g. `"Deal Won"`.
    pub(crate) outcome: Option<String>,
    /// How long after the reference instant the outcome counts (default 30d).
    pub(crate) horizon: Option<String>,
    /// Start of the period, RFC 3339 (default: 90 days before `to`).
    pub(crate) from: Option<String>,
    /// End of the period, exclusive (default: now).
    pub(crate) to: Option<String>,
    /// A numeric property of the outcome's events, e.g. `amount`: adds
    /// revenue per group, per member and per conversion.
    pub(crate) value: Option<String>,
    /// A selector for the deals in play, e.g. `any where amount > 0`: adds
    /// pipeline (the sum of `value` over its events). Needs `value`.
    pub(crate) pipeline: Option<String>,
}

fn required<'a>(field: &'static str, value: &'a Option<String>) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::InvalidField {
            field: field.into(),
            reason: "is required".into(),
        })
}

fn outcome_spec(outcome: &str, horizon: Option<&str>) -> Result<(OutcomeSpec, String), ApiError> {
    let text = horizon.unwrap_or(DEFAULT_HORIZON);
    let horizon = duration("horizon", Some(text), 0)?;
    Ok((OutcomeSpec::new(outcome, horizon), text.to_owned()))
}

/// An optional text parameter: blank is the same as absent.
fn optional(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl ConversionQuery {
    fn params(&self, now: Millis) -> Result<(ConversionParams, Frame), ApiError> {
        let segment = required("segment", &self.segment)?.to_owned();
        let (mut outcome, horizon) =
            outcome_spec(required("outcome", &self.outcome)?, self.horizon.as_deref())?;
        outcome.value = optional(&self.value);
        outcome.pipeline = optional(&self.pipeline);
        let to = instant("to", self.to.as_deref(), now)?;
        let from = instant("from", self.from.as_deref(), to - DEFAULT_PERIOD_DAYS * DAY)?;
        let frame = Frame {
            from: format_timestamp(from),
            to: format_timestamp(to),
            as_of: format_timestamp(now),
            outcome: outcome.selector.clone(),
            horizon,
            value: outcome.value.clone(),
            pipeline: outcome.pipeline.clone(),
        };
        let params = ConversionParams {
            segment,
            outcome,
            period: Period { from, to },
            as_of: now,
        };
        Ok((params, frame))
    }
}

/// Members' conversion after entry vs non-members', with Wilson 95 %
/// intervals, lift and a two-proportion z test.
#[utoipa::path(get, path = "/api/v1/reports/conversion", tag = "reports", params(ConversionQuery),
    responses((status = 200, body = ConversionView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn conversion(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ConversionQuery>,
) -> Result<Json<ConversionView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    conversion_view(&state, &query).await.map(Json)
}

/// The conversion report for `query` (the caller checked its scope): the
/// REST handler, the segment page and the dashboard's cache call it.
pub(crate) async fn conversion_view(
    state: &AppState,
    query: &ConversionQuery,
) -> Result<ConversionView, ApiError> {
    let (params, frame) = query.params(state.engine.now())?;
    let engine = state.engine.clone();
    let report = report(state, move |store| {
        reports::with_handle(&engine, store, |e| reports::conversion(e, &params))
    })
    .await??;
    Ok(ConversionView::new(report, frame))
}

/// Treated vs held-out entrants of a segment with a `holdout` (causal lift).
#[utoipa::path(get, path = "/api/v1/reports/holdout", tag = "reports", params(ConversionQuery),
    responses((status = 200, body = HoldoutView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn holdout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ConversionQuery>,
) -> Result<Json<HoldoutView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let (params, frame) = query.params(state.engine.now())?;
    let engine = state.engine.clone();
    let report = report(&state, move |store| {
        reports::with_handle(&engine, store, |e| reports::holdout_lift(e, &params))
    })
    .await??;
    Ok(Json(HoldoutView::new(report, frame)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct QualityQuery {
    /// The score (required).
    score: Option<String>,
    /// Outcome event selector (required).
    outcome: Option<String>,
    /// Default 30d.
    horizon: Option<String>,
    /// When the score is read, RFC 3339 (default: now minus the horizon).
    at: Option<String>,
}

/// AUC and conversion by decile of a score for an outcome.
#[utoipa::path(get, path = "/api/v1/reports/score-quality", tag = "reports", params(QualityQuery),
    responses((status = 200, body = QualityView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn score_quality(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<QualityQuery>,
) -> Result<Json<QualityView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let now = state.engine.now();
    let score = required("score", &query.score)?.to_owned();
    let (outcome, horizon) = outcome_spec(
        required("outcome", &query.outcome)?,
        query.horizon.as_deref(),
    )?;
    let at = instant("at", query.at.as_deref(), now - outcome.horizon)?;
    let frame = Frame {
        from: format_timestamp(at),
        to: format_timestamp(at),
        as_of: format_timestamp(now),
        outcome: outcome.selector.clone(),
        horizon,
        value: None,
        pipeline: None,
    };
    let params = QualityParams {
        score,
        outcome,
        at,
        as_of: now,
    };
    let engine = state.engine.clone();
    let report = report(&state, move |store| {
        reports::with_handle(&engine, store, |e| reports::score_quality(e, &params))
    })
    .await??;
    Ok(Json(QualityView::new(report, at, frame)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct OverlapQuery {
    /// Comma-separated segment names (default: every segment).
    segments: Option<String>,
}

/// Members shared by each pair of segments (same kind of subject), with
/// the Jaccard index, right now.
#[utoipa::path(get, path = "/api/v1/reports/overlap", tag = "reports", params(OverlapQuery),
    responses((status = 200, body = OverlapView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn overlap(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<OverlapQuery>,
) -> Result<Json<OverlapView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let names: Vec<String> = query
        .segments
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let engine = state.engine.clone();
    let report = report(&state, move |_| reports::overlap(&engine.view(), &names)).await??;
    Ok(Json(OverlapView::new(report.pairs)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct BacktestQuery {
    /// A saved segment; or give `when`.
    pub(crate) segment: Option<String>,
    /// A draft condition in the rule language.
    pub(crate) when: Option<String>,
    /// The draft's subject: `contact` (default) or `account`.
    pub(crate) subject: Option<String>,
    /// First instant, RFC 3339 (default: 30 days before `to`).
    pub(crate) from: Option<String>,
    /// Last instant (default: now).
    pub(crate) to: Option<String>,
    /// Step between instants (default 1d; at most 1,000 instants).
    pub(crate) every: Option<String>,
    /// Outcome event selector for the entrants' conversion (optional).
    pub(crate) outcome: Option<String>,
    /// Default 30d.
    pub(crate) horizon: Option<String>,
}

impl BacktestQuery {
    fn params(&self, now: Millis) -> Result<BacktestParams, ApiError> {
        let target = match (&self.segment, &self.when) {
            (Some(segment), None) => BacktestTarget::Segment(segment.clone()),
            (None, Some(when)) => BacktestTarget::Draft {
                when: when.clone(),
                subject: match self.subject.as_deref() {
                    None => SubjectKind::Contact,
                    Some(text) => {
                        SubjectKind::parse(text).ok_or_else(|| ApiError::InvalidField {
                            field: "subject".into(),
                            reason: format!("must be contact or account, not {text:?}"),
                        })?
                    }
                },
            },
            _ => {
                return Err(ApiError::InvalidField {
                    field: "segment".into(),
                    reason: "give exactly one of `segment` and `when`".into(),
                })
            }
        };
        let to = instant("to", self.to.as_deref(), now)?;
        let from = instant(
            "from",
            self.from.as_deref(),
            to - DEFAULT_BACKTEST_DAYS * DAY,
        )?;
        let outcome = match &self.outcome {
            Some(outcome) => Some(outcome_spec(outcome, self.horizon.as_deref())?.0),
            None => None,
        };
        Ok(BacktestParams {
            target,
            from,
            to,
            every: duration("every", self.every.as_deref(), DAY)?,
            outcome,
            as_of: now,
            keep_members: false,
        })
    }
}

/// A saved segment or a draft condition evaluated as of past instants on
/// the stored history: size, entrants, exits, and entrants' conversion.
#[utoipa::path(get, path = "/api/v1/reports/backtest", tag = "reports", params(BacktestQuery),
    responses((status = 200, body = BacktestView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn backtest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<BacktestQuery>,
) -> Result<Json<BacktestView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let params = query.params(state.engine.now())?;
    let engine = state.engine.clone();
    let report = report(&state, move |store| {
        reports::with_handle(&engine, store, |e| reports::backtest(e, &params))
    })
    .await??;
    Ok(Json(report.into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct LintQuery {
    /// Fewer members than this is too small to act on (default 50).
    #[param(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub(crate) min_size: Option<u64>,
    /// Jaccard overlap above which two segments are near-duplicates (default 0.9).
    pub(crate) max_overlap: Option<f64>,
}

/// Segments too small to act on, near-duplicates, without owner or action,
/// referring to events never seen, or that never changed.
#[utoipa::path(get, path = "/api/v1/reports/lint", tag = "reports", params(LintQuery),
    responses((status = 200, body = LintView), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn lint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LintQuery>,
) -> Result<Json<LintView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let params = LintParams {
        min_size: query.min_size.unwrap_or(reports::DEFAULT_MIN_SIZE),
        max_overlap: query.max_overlap.unwrap_or(reports::DEFAULT_MAX_OVERLAP),
    };
    if params.min_size > 1_000_000_000_000 {
        return Err(ApiError::InvalidField {
            field: "min_size".into(),
            reason: "at most 1000000000000".into(),
        });
    }
    if !(0.0..=1.0).contains(&params.max_overlap) {
        return Err(ApiError::InvalidField {
            field: "max_overlap".into(),
            reason: "must be from 0 to 1".into(),
        });
    }
    let engine = state.engine.clone();
    let report = report(&state, move |store| -> Result<_, ApiError> {
        engine.flush_records();
        // Ask the store about empty segments before locking the engine.
        let empty: Vec<String> = engine
            .lock()
            .segment_sizes()
            .into_iter()
            .filter(|(_, size)| *size == 0)
            .map(|(name, _)| name)
            .collect();
        let mut changed = HashSet::new();
        for name in &empty {
            if !store.definition_history(name, Millis::MIN)?.is_empty() {
                changed.insert(name.clone());
            }
        }
        // A segment emptied since the first look had members: it changed.
        let was_empty: HashSet<String> = empty.into_iter().collect();
        let guard = engine.view();
        Ok(reports::lint(&guard, params, &mut |name| {
            Ok(changed.contains(name) || !was_empty.contains(name))
        })?)
    })
    .await??;
    Ok(Json(LintView::new(report.findings)))
}

/// Runs a report off the runtime in one of the report slots
/// ([`crate::ReportSlots`]).
async fn report<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&dyn bellwether_core::Store) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = state.report_slots.acquire().await?;
    blocking(state, work).await
}
