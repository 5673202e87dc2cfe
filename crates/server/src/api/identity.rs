//! Identity conflicts (SPEC §7): anonymous ids and emails that several users
//! claimed, with who held each from when, so an operator spots a shared
//! browser, a team inbox or a broken integration.

use super::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::identity::IdentityConflict;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::page_limit;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConflictView {
    /// `anonymous` or `email`.
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    /// Messages that claimed it (carried it with a user id).
    pub(crate) claims: usize,
    /// Who held it, in time order; the first also holds what came before.
    pub(crate) holders: Vec<HolderView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HolderView {
    pub(crate) user_id: String,
    pub(crate) from: String,
}

impl From<&IdentityConflict> for ConflictView {
    fn from(conflict: &IdentityConflict) -> Self {
        Self {
            kind: conflict.kind.as_str(),
            value: conflict.value.clone(),
            claims: conflict.claims,
            holders: conflict
                .holders
                .iter()
                .map(|h| HolderView {
                    user_id: h.user_id.clone(),
                    from: format_timestamp(h.from),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConflictList {
    /// Links refused since the server started (a claim on an identifier
    /// another user had claimed).
    pub(crate) refused_links: u64,
    /// Most claimed first.
    pub(crate) conflicts: Vec<ConflictView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct ConflictParams {
    /// How many, most claimed first, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
}

/// Shared identifiers, most claimed first.
#[utoipa::path(get, path = "/api/v1/identity/conflicts", tag = "query", params(ConflictParams),
    responses((status = 200, body = ConflictList), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_conflicts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ConflictParams>,
) -> Result<Json<ConflictList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let limit = page_limit(params.limit)?;
    let report = state.ingestor.identity_report();
    Ok(Json(ConflictList {
        refused_links: report.refused_links,
        conflicts: report
            .conflicts
            .iter()
            .take(limit)
            .map(ConflictView::from)
            .collect(),
    }))
}

/// The conflicts one of `user_ids` took part in, for a contact's page.
pub(crate) fn conflicts_of(state: &AppState, user_ids: &[String]) -> Vec<ConflictView> {
    state
        .ingestor
        .identity_report()
        .conflicts
        .iter()
        .filter(|c| c.holders.iter().any(|h| user_ids.contains(&h.user_id)))
        .map(ConflictView::from)
        .collect()
}
