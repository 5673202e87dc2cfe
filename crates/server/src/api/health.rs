//! `GET /api/v1/health`: whether evaluation is current, per definition.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::subject::DefKind;
use bellwether_core::Millis;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct HealthView {
    pub(crate) now: String,
    /// No timer is overdue by more than a second.
    pub(crate) current: bool,
    pub(crate) subjects: SubjectCounts,
    pub(crate) timers_pending: usize,
    /// The earliest timer deadline, if any.
    pub(crate) next_deadline: Option<String>,
    #[serde(skip)]
    pub(crate) next_deadline_ms: Option<Millis>,
    /// Recent subject evaluation times, in microseconds.
    pub(crate) evaluation_us: Percentiles,
    /// Admitted, not yet committed.
    pub(crate) ingest_pending_messages: usize,
    /// Every definition, in dependency order.
    pub(crate) definitions: Vec<DefinitionHealthView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SubjectCounts {
    pub(crate) contacts: usize,
    pub(crate) accounts: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Percentiles {
    pub(crate) p50: Option<f64>,
    pub(crate) p99: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct DefinitionHealthView {
    /// `score`, `segment` or `tier`.
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    /// `contact` or `account`.
    pub(crate) subject: &'static str,
    /// Subject evaluations since start.
    pub(crate) evaluations: u64,
    /// When it last changed a membership (segments and tiers).
    pub(crate) last_change: Option<String>,
    #[serde(skip)]
    pub(crate) last_change_ms: Option<Millis>,
    /// Members now (segments only).
    pub(crate) size: Option<usize>,
}

/// Subjects, pending timers and the next deadline, evaluation time
/// percentiles, the write queue, and per definition its evaluations, last
/// change and (segments) size.
#[utoipa::path(get, path = "/api/v1/health", tag = "query",
    responses((status = 200, body = HealthView)), security(("bearer" = [])))]
pub(crate) async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<HealthView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    Ok(Json(health_view(&state).await))
}

/// The health report (the caller checked its scope): the REST handler
/// and the dashboard call it.
pub(crate) async fn health_view(state: &AppState) -> HealthView {
    let now = state.engine.now();
    let engine = state.engine.view_async().await;
    let sizes: std::collections::HashMap<String, usize> =
        engine.segment_sizes().into_iter().collect();
    let definitions = engine
        .definition_health()
        .into_iter()
        .map(|d| DefinitionHealthView {
            size: match d.kind {
                DefKind::Segment => sizes.get(&d.name).copied(),
                _ => None,
            },
            kind: d.kind.as_str(),
            name: d.name,
            subject: d.subject.as_str(),
            evaluations: d.evaluations,
            last_change: d.last_change.map(format_timestamp),
            last_change_ms: d.last_change,
        })
        .collect();
    let micros = |q| engine.evaluation_time(q).map(|d| d.as_secs_f64() * 1e6);
    let (contacts, accounts) = engine.subject_counts();
    let next_deadline = engine.next_deadline();
    HealthView {
        now: format_timestamp(now),
        current: next_deadline.is_none_or(|at| at > now - 1_000),
        subjects: SubjectCounts { contacts, accounts },
        timers_pending: engine.pending_timers(),
        next_deadline: next_deadline.map(format_timestamp),
        next_deadline_ms: next_deadline,
        evaluation_us: Percentiles {
            p50: micros(0.5),
            p99: micros(0.99),
        },
        ingest_pending_messages: state.ingestor.pending(),
        definitions,
    }
}
