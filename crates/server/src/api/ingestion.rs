//! The ingestion-errors view: recent rejected messages with their reasons.

use super::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contacts::{blocking, page_limit};
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
