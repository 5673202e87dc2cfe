//! Forgetting a person (SPEC §7, admin scope): `DELETE
//! /api/v1/contacts/{id}` deletes and suppresses a contact through the
//! single writer (`bellwether_core::ingest`), `GET /api/v1/suppressions`
//! and `DELETE /api/v1/suppressions/{value}` manage the suppression list,
//! and `GET /api/v1/deletions` is the audit log (who, when, how many rows;
//! never what).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::ingest::{DeletionReport, PrivacyError};
use bellwether_core::store::{DeletionCounts, DeletionRecord, Suppression};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::blocking;
use super::Query;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Audit entries listed by default, and at most.
const DEFAULT_LOG: usize = 100;
const MAX_LOG: usize = 1_000;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CountsView {
    events: u64,
    traits: u64,
    identities: u64,
    memberships: u64,
    scores: u64,
    deliveries: u64,
    assignments: u64,
}

impl From<DeletionCounts> for CountsView {
    fn from(c: DeletionCounts) -> Self {
        Self {
            events: c.events,
            traits: c.traits,
            identities: c.identities,
            memberships: c.memberships,
            scores: c.scores,
            deliveries: c.deliveries,
            assignments: c.assignments,
        }
    }
}

/// One audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeletionView {
    id: String,
    at: String,
    /// The token name that asked (`cli` for `bellwether delete`).
    actor: String,
    /// Rows removed, by kind.
    counts: CountsView,
    /// Whether the recorded history was purged too (finished at the next
    /// start when a crash cut it short).
    complete: bool,
}

impl From<DeletionRecord> for DeletionView {
    fn from(record: DeletionRecord) -> Self {
        Self {
            id: record.id,
            at: format_timestamp(record.at),
            actor: record.actor,
            counts: record.counts.into(),
            complete: record.complete,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SuppressionView {
    value: String,
    /// `user`, `anonymous` or `email`.
    kind: &'static str,
    created_at: String,
}

impl From<Suppression> for SuppressionView {
    fn from(s: Suppression) -> Self {
        Self {
            value: s.value,
            kind: s.kind.as_str(),
            created_at: format_timestamp(s.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeletedContact {
    deleted: bool,
    deletion: DeletionView,
    /// The identifiers now suppressed.
    suppressed: Vec<SuppressionView>,
}

/// Deletes a contact and suppresses its user ids, anonymous ids and emails.
#[utoipa::path(delete, path = "/api/v1/contacts/{user_id}", tag = "privacy",
    params(("user_id" = String, Path, description = "userId, anonymousId or email")),
    responses((status = 200, body = DeletedContact), (status = 404, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<DeletedContact>, ApiError> {
    let token = require_token(&state.config, &headers, Scope::Admin)?;
    let answer = state
        .ingestor
        .delete_contact(&user_id, &token.name, state.clock.now_ms());
    let report: DeletionReport = answer
        .await
        .map_err(|_| ApiError::from(PrivacyError::WriterGone))??;
    Ok(Json(DeletedContact {
        deleted: true,
        deletion: report.record.into(),
        suppressed: report.suppressed.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SuppressionList {
    suppressions: Vec<SuppressionView>,
}

/// Every suppressed identifier, oldest first.
#[utoipa::path(get, path = "/api/v1/suppressions", tag = "privacy",
    responses((status = 200, body = SuppressionList)), security(("bearer" = [])))]
pub(crate) async fn list_suppressions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SuppressionList>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    let suppressions = blocking(&state, |store| store.suppressions()).await??;
    Ok(Json(SuppressionList {
        suppressions: suppressions.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Unsuppressed {
    /// The identifier let in again.
    unsuppressed: String,
}

/// Lets messages carrying a suppressed identifier in again.
#[utoipa::path(delete, path = "/api/v1/suppressions/{value}", tag = "privacy",
    params(("value" = String, Path, description = "a suppressed user id, anonymous id or email")),
    responses((status = 200, body = Unsuppressed),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete_suppression(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(value): Path<String>,
) -> Result<Json<Unsuppressed>, ApiError> {
    unsuppress(&state, &headers, value).await.map(Json)
}

/// Lifts the suppression of `value`, for `credentials` with the admin
/// scope, through the single writer.
pub(crate) async fn unsuppress(
    state: &AppState,
    credentials: &HeaderMap,
    value: String,
) -> Result<Unsuppressed, ApiError> {
    require_token(&state.config, credentials, Scope::Admin)?;
    if state.config.identity.is_blocked(&value) {
        return Err(ApiError::InvalidField {
            field: "value".into(),
            reason: format!("{value:?} is not an identifier ([identity] blocked_ids)"),
        });
    }
    state
        .ingestor
        .unsuppress(&value)
        .await
        .map_err(|_| ApiError::from(PrivacyError::WriterGone))??;
    Ok(Unsuppressed {
        unsuppressed: value,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct LogParams {
    /// How many, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeletionLog {
    deletions: Vec<DeletionView>,
}

/// The deletion audit log, newest first.
#[utoipa::path(get, path = "/api/v1/deletions", tag = "privacy", params(LogParams),
    responses((status = 200, body = DeletionLog)), security(("bearer" = [])))]
pub(crate) async fn list_deletions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<LogParams>,
) -> Result<Json<DeletionLog>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    let limit = match params.limit {
        None => DEFAULT_LOG,
        Some(n) if (1..=MAX_LOG).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::InvalidField {
                field: "limit".into(),
                reason: format!("{n} is out of range 1..={MAX_LOG}"),
            })
        }
    };
    let deletions = blocking(&state, move |store| store.deletions(limit)).await??;
    Ok(Json(DeletionLog {
        deletions: deletions.into_iter().map(Into::into).collect(),
    }))
}
