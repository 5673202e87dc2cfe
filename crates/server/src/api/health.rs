//! `GET /api/v1/health`: whether evaluation is current, per definition.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use serde_json::{json, Value};

use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Subjects, pending timers and the next deadline, evaluation time
/// percentiles, the write queue, and per definition its evaluations, last
/// change and (segments) size.
#[utoipa::path(get, path = "/api/v1/health", tag = "query",
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let now = state.engine.now();
    let engine = state.engine.view_async().await;
    let sizes: std::collections::HashMap<String, usize> =
        engine.segment_sizes().into_iter().collect();
    let definitions: Vec<Value> = engine
        .definition_health()
        .into_iter()
        .map(|d| {
            json!({
                "kind": d.kind, "name": d.name, "subject": d.subject, "evaluations": d.evaluations,
                "last_change": d.last_change.map(format_timestamp),
                "size": if d.kind == "segment" { sizes.get(&d.name).copied() } else { None },
            })
        })
        .collect();
    let micros = |q| engine.evaluation_time(q).map(|d| d.as_secs_f64() * 1e6);
    let (p50, p99) = (micros(0.5), micros(0.99));
    let (contacts, accounts) = engine.subject_counts();
    let next_deadline = engine.next_deadline();
    Ok(Json(json!({
        "now": format_timestamp(now),
        "current": next_deadline.is_none_or(|at| at > now - 1_000),
        "subjects": {"contacts": contacts, "accounts": accounts},
        "timers_pending": engine.pending_timers(),
        "next_deadline": next_deadline.map(format_timestamp),
        "evaluation_us": {"p50": p50, "p99": p99},
        "ingest_pending_messages": state.ingestor.pending(),
        "definitions": definitions,
    })))
}
