//! Segments with their live sizes, members with cursors, explanations, and
//! the recent membership changes.

use super::Query;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_rules::SubjectKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::explanation::ExplanationView;
use super::handler::{blocking, page_limit};
use super::subjects::{collection_kind, find_contact};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentSummary {
    pub(crate) name: String,
    /// `contact` or `account`.
    pub(crate) subject: &'static str,
    /// Current number of members.
    pub(crate) size: usize,
    pub(crate) owner: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) description: Option<String>,
    /// The rule-language expression.
    pub(crate) definition: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentList {
    pub(crate) segments: Vec<SegmentSummary>,
}

/// Every segment with its live size.
#[utoipa::path(get, path = "/api/v1/segments", tag = "query",
    responses((status = 200, body = SegmentList)), security(("bearer" = [])))]
pub(crate) async fn list_segments(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SegmentList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let engine = state.engine.view_async().await;
    let sizes: std::collections::HashMap<String, usize> =
        engine.segment_sizes().into_iter().collect();
    let segments = engine
        .rules()
        .definitions()
        .segment
        .iter()
        .map(|def| SegmentSummary {
            name: def.name.clone(),
            subject: def.subject.as_str(),
            size: sizes.get(&def.name).copied().unwrap_or(0),
            owner: def.owner.clone(),
            action: def.action.clone(),
            description: def.description.clone(),
            definition: def.when.clone(),
        })
        .collect();
    Ok(Json(SegmentList { segments }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberView {
    /// User id of a contact (anonymous id when it has none), group id of an account.
    pub(crate) id: String,
    pub(crate) entered_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberPage {
    pub(crate) members: Vec<MemberView>,
    /// Pass as `cursor` for the next page; `null` at the end.
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct MemberParams {
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// Current members of a segment, ordered by id.
#[utoipa::path(get, path = "/api/v1/segments/{name}/members", tag = "query",
    params(("name" = String, Path, description = "segment name"), MemberParams),
    responses((status = 200, body = MemberPage), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn segment_members(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<MemberParams>,
) -> Result<Json<MemberPage>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let limit = page_limit(params.limit)?;
    let engine = state.engine.view_async().await;
    if engine.segment_subject(&name).is_none() {
        return Err(ApiError::NotFound(format!("no segment named {name:?}")));
    }
    let mut members = engine.segment_members(&name, params.cursor.as_deref(), limit + 1);
    let next_cursor = if members.len() > limit {
        members.truncate(limit);
        members.last().map(|m| m.id.clone())
    } else {
        None
    };
    Ok(Json(MemberPage {
        members: members
            .into_iter()
            .map(|m| MemberView {
                id: m.id,
                entered_at: format_timestamp(m.entered_at),
            })
            .collect(),
        next_cursor,
    }))
}

/// Why a contact or account is in or out of a segment: the value of every
/// sub-expression, with the events that counted.
#[utoipa::path(get, path = "/api/v1/{kind}/{id}/explain/{segment}", tag = "query",
    params(("kind" = String, Path, description = "`contacts` or `accounts`"), ("id" = String, Path), ("segment" = String, Path)),
    responses((status = 200, body = ExplanationView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn explain(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((kind, id, segment)): Path<(String, String, String)>,
) -> Result<Json<ExplanationView>, ApiError> {
    // Credentials answer before the path (401, then 404 for an unknown
    // collection); the query checks them again for its other callers.
    require_token(&state.config, &headers, Scope::Read)?;
    let subject = collection_kind(&kind)?;
    explain_view(&state, &headers, subject, id, segment)
        .await
        .map(Json)
}

/// Why the contact or account `id` is in or out of `segment` now, for
/// `credentials` with the read scope: the REST handler, the contact and
/// account pages and the MCP tool call it.
pub(crate) async fn explain_view(
    state: &AppState,
    credentials: &HeaderMap,
    subject: SubjectKind,
    id: String,
    segment: String,
) -> Result<ExplanationView, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    match state.engine.view_async().await.segment_subject(&segment) {
        None => return Err(ApiError::NotFound(format!("no segment named {segment:?}"))),
        Some(found) if found != subject => {
            return Err(ApiError::BadRequest(format!(
                "segment {segment:?} is for {}s, not {}s",
                found.as_str(),
                subject.as_str()
            )))
        }
        Some(_) => {}
    }
    let engine = state.engine.clone();
    let tree = blocking(state, move |store| -> Result<_, ApiError> {
        let now = engine.now();
        let explanation = match subject {
            SubjectKind::Contact => {
                let record = find_contact(store, &id)?;
                engine.view().explain_contact(record.id, &segment, now)
            }
            SubjectKind::Account => engine.view().explain_account(&id, &segment, now),
        };
        explanation
            .ok_or_else(|| ApiError::NotFound(format!("no {} with id {id:?}", subject.as_str())))
    })
    .await??;
    Ok(ExplanationView::from(&tree))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct ChangeParams {
    /// How many, newest last (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
}

/// One segment entry or exit, tier change, or watched score crossing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChangeView {
    pub(crate) at: String,
    #[serde(skip)]
    pub(crate) at_ms: bellwether_core::Millis,
    /// `contact` or `account`.
    pub(crate) subject: &'static str,
    /// User id (or anonymous id) of a contact, group id of an account.
    pub(crate) id: String,
    /// `entered`, `exited`, `crossed_above` or `crossed_below`.
    pub(crate) change: &'static str,
    /// `segment`, `tier` or `score`.
    pub(crate) definition_kind: &'static str,
    pub(crate) definition: String,
    /// The tier level entered or left, or the score threshold crossed.
    pub(crate) level: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChangesView {
    /// Newest last.
    pub(crate) changes: Vec<ChangeView>,
}

/// Recent segment entries/exits and tier changes, each at its exact instant.
#[utoipa::path(get, path = "/api/v1/changes", tag = "query", params(ChangeParams),
    responses((status = 200, body = ChangesView)), security(("bearer" = [])))]
pub(crate) async fn recent_changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ChangeParams>,
) -> Result<Json<ChangesView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let limit = page_limit(params.limit)?;
    let changes = state.engine.view_async().await.recent_changes(limit);
    let changes = changes
        .into_iter()
        .map(|c| ChangeView {
            at: format_timestamp(c.at),
            at_ms: c.at,
            subject: c.subject.as_str(),
            id: c.id,
            change: c.change.as_str(),
            definition_kind: c.definition_kind.as_str(),
            definition: c.definition,
            level: c.level,
        })
        .collect();
    Ok(Json(ChangesView { changes }))
}
