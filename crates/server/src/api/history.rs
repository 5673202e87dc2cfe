//! `GET /api/v1/{contacts|accounts}/{id}/history`: a subject's segment
//! entries/exits and tier changes, each at its exact instant, and its score
//! history: every change of a score's closed form, from which the value at
//! any instant follows exactly.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::store::{MembershipRecord, ScoreRecord, Store};
use bellwether_rules::SubjectKind;
use serde_json::{json, Value};

use super::handler::blocking;
use super::subjects::{collection_kind, find_contact};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Membership history of a contact (including contacts merged into it) or an
/// account, and its score history.
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
    let subject = collection_kind(&kind)?;
    let engine = state.engine.clone();
    let (records, scores) = blocking(&state, move |store| {
        // Changes are written off the engine's path: see our own first.
        engine.flush_records();
        subject_records(store, subject, &id)
    })
    .await??;
    let changes: Vec<Value> = records
        .into_iter()
        .map(|r| {
            json!({"at": format_timestamp(r.at), "id": r.label, "change": r.change,
                   "definition_kind": r.definition_kind, "definition": r.definition, "level": r.level})
        })
        .collect();
    let scores: Vec<Value> = scores.iter().map(score_json).collect();
    Ok(Json(json!({ "changes": changes, "scores": scores })))
}

type Records = (Vec<MembershipRecord>, Vec<ScoreRecord>);

fn subject_records(store: &dyn Store, subject: SubjectKind, id: &str) -> Result<Records, ApiError> {
    match subject {
        SubjectKind::Contact => {
            let contact = find_contact(store, id)?;
            let key = contact.id.to_string();
            let mut records = Vec::new();
            for merge in store.merges_into(contact.id)? {
                records.extend(store.subject_history("contact", &merge.from.to_string())?);
            }
            records.extend(store.subject_history("contact", &key)?);
            records.sort_by_key(|r| r.at);
            Ok((records, store.score_history("contact", &key)?))
        }
        SubjectKind::Account => {
            store
                .account(id)?
                .ok_or_else(|| ApiError::NotFound(format!("no account with group id {id:?}")))?;
            Ok((
                store.subject_history("account", id)?,
                store.score_history("account", id)?,
            ))
        }
    }
}

/// One score change: the value then, and the closed form it follows until
/// the next change (`value(t) = constant + decaying × 2^(−(t − anchor) / half_life)`).
pub(crate) fn score_json(r: &ScoreRecord) -> Value {
    json!({
        "at": format_timestamp(r.at),
        "score": r.score,
        "value": r.value,
        "constant": r.constant,
        "decaying": r.decaying,
        "anchor": format_timestamp(r.anchor),
        "half_life_ms": r.half_life,
    })
}
