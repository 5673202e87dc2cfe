//! `GET /api/v1/{contacts|accounts}/{id}/history`: a subject's segment
//! entries/exits and tier changes, oldest first, each at its exact instant.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::store::MembershipRecord;
use serde_json::{json, Value};

use super::contacts::{blocking, find_contact};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Membership history of a contact (including contacts merged into it) or an account.
#[utoipa::path(get, path = "/api/v1/{kind}/{id}/history", tag = "query",
    params(("kind" = String, Path, description = "`contacts` or `accounts`"), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let records = blocking(
        &state,
        move |store| -> Result<Vec<MembershipRecord>, ApiError> {
            match kind.as_str() {
                "contacts" => {
                    let contact = find_contact(store, &id)?;
                    let mut records = Vec::new();
                    for merge in store.merges_into(contact.id)? {
                        records.extend(store.subject_history("contact", &merge.from.to_string())?);
                    }
                    records.extend(store.subject_history("contact", &contact.id.to_string())?);
                    records.sort_by_key(|r| r.at);
                    Ok(records)
                }
                "accounts" => {
                    store.account(&id)?.ok_or_else(|| {
                        ApiError::NotFound(format!("no account with group id {id:?}"))
                    })?;
                    Ok(store.subject_history("account", &id)?)
                }
                other => Err(ApiError::NotFound(format!("no such collection {other:?}"))),
            }
        },
    )
    .await??;
    let changes: Vec<Value> = records
        .into_iter()
        .map(|r| {
            json!({"at": format_timestamp(r.at), "id": r.label, "change": r.change,
                   "definition_kind": r.definition_kind, "definition": r.definition, "level": r.level})
        })
        .collect();
    Ok(Json(json!({ "changes": changes })))
}
