//! A built-in webhook receiver: `POST /inbox` verifies the Standard Webhooks
//! signature with `[server] inbox_secret` and keeps the latest deliveries in
//! memory, listed at `GET /api/v1/inbox`. The demo points a destination at
//! it, so routing can be tried with nothing else running.

use std::collections::VecDeque;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::actions::config::decode_secret;
use bellwether_core::config::Scope;
use parking_lot::Mutex;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::signing::signature_header;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Deliveries kept.
const KEEP: usize = 500;
/// Largest body accepted.
const MAX_BODY: usize = 256 * 1024;
/// Signatures older or newer than this are refused (replay protection).
const TOLERANCE_SECS: i64 = 5 * 60;

/// The latest deliveries received, newest last.
#[derive(Debug, Default)]
pub struct Inbox {
    received: Mutex<VecDeque<Received>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Received {
    webhook_id: String,
    received_at: String,
    #[schema(value_type = Object)]
    body: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InboxList {
    /// Newest first.
    deliveries: Vec<Received>,
}

/// Receives one delivery (signature checked).
pub(crate) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let secret =
        state.config.server.inbox_secret.as_ref().ok_or_else(|| {
            ApiError::NotFound("the inbox is off: set [server] inbox_secret".into())
        })?;
    if body.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge(format!(
            "inbox bodies are limited to {MAX_BODY} bytes"
        )));
    }
    let key = decode_secret(secret)
        .map_err(|problem| ApiError::Internal(format!("[server] inbox_secret {problem}")))?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::InvalidField {
                field: name.to_owned(),
                reason: "missing header".into(),
            })
    };
    let id = header("webhook-id")?;
    let timestamp: i64 =
        header("webhook-timestamp")?
            .parse()
            .map_err(|_| ApiError::InvalidField {
                field: "webhook-timestamp".into(),
                reason: "not a number of seconds".into(),
            })?;
    let now_secs = state.clock.now_ms().div_euclid(1_000);
    if (now_secs - timestamp).abs() > TOLERANCE_SECS {
        return Err(ApiError::Unauthorized(
            "webhook-timestamp is more than 5 minutes off".into(),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let expected = signature_header(&[key], &id, timestamp, text);
    let signatures = header("webhook-signature")?;
    let valid = signatures
        .split(' ')
        .any(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())));
    if !valid {
        return Err(ApiError::Unauthorized(
            "webhook-signature does not match".into(),
        ));
    }
    let body = serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.to_owned()));
    let mut received = state.inbox.received.lock();
    if received.len() == KEEP {
        received.pop_front();
    }
    received.push_back(Received {
        webhook_id: id,
        received_at: format_timestamp(state.clock.now_ms()),
        body,
    });
    Ok(Json(serde_json::json!({"received": true})))
}

/// The latest deliveries the built-in inbox verified and kept.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "actions",
    responses((status = 200, body = InboxList)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<InboxList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let deliveries = state.inbox.received.lock().iter().rev().cloned().collect();
    Ok(Json(InboxList { deliveries }))
}
