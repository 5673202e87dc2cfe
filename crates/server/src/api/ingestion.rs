//! The ingestion views: recent rejected messages with their reasons, and
//! the retention policy with the oldest event kept.

use super::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::{blocking, page_limit};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RejectionView {
    pub(crate) received_at: String,
    pub(crate) source: Option<String>,
    pub(crate) index: Option<usize>,
    pub(crate) field: String,
    pub(crate) reason: String,
    pub(crate) excerpt: String,
    /// `error`: the message was not stored; `warning`: it was stored with
    /// this field ignored (a blocked identifier).
    pub(crate) severity: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RejectionList {
    pub(crate) errors: Vec<RejectionView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct ListParams {
    /// How many, newest first (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
}

/// Recently rejected messages, newest first.
#[utoipa::path(get, path = "/api/v1/ingestion/errors", tag = "query", params(ListParams),
    responses((status = 200, body = RejectionList)), security(("bearer" = [])))]
pub(crate) async fn list_errors(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Json<RejectionList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let limit = page_limit(params.limit)?;
    let rejections = blocking(&state, move |store| store.recent_rejections(limit)).await??;
    let errors = rejections
        .into_iter()
        .map(|r| RejectionView {
            received_at: format_timestamp(r.received_at),
            source: r.source,
            index: r.index,
            field: r.field,
            reason: r.reason,
            excerpt: r.excerpt,
            severity: if r.warning { "warning" } else { "error" },
        })
        .collect();
    Ok(Json(RejectionList { errors }))
}

/// The retention policy (`[retention]`) and what it left.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RetentionView {
    /// `[retention] events` (e.g. `"400d"`); null: events are kept forever.
    pub(crate) events: Option<String>,
    /// How often a deletion pass runs.
    pub(crate) every: String,
    /// Events older than this are deleted at the next pass; null without a policy.
    pub(crate) cutoff: Option<String>,
    /// The oldest track, page or screen event kept; null when there is none.
    pub(crate) oldest_event: Option<String>,
    /// Events deleted by retention since this server started.
    pub(crate) deleted_since_start: u64,
}

/// The retention policy and the oldest event kept.
#[utoipa::path(get, path = "/api/v1/ingestion/retention", tag = "query",
    responses((status = 200, body = RetentionView)), security(("bearer" = [])))]
pub(crate) async fn retention(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<RetentionView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let engine = state.engine.clone();
    let oldest = engine.view_async().await.oldest_event();
    let policy = &state.config.retention;
    let now = state.clock.now_ms();
    Ok(Json(RetentionView {
        events: policy.events.clone(),
        every: bellwether_rules::format_duration(policy.every_ms()),
        cutoff: policy
            .events_ms()
            .map(|keep| format_timestamp(now.saturating_sub(keep))),
        oldest_event: oldest.map(format_timestamp),
        deleted_since_start: state.metrics.retention_deleted.get(),
    }))
}
