//! Segment-compatible tracking endpoints: `/v1/{identify,track,page,screen,
//! group,alias}` for one message, `/v1/batch` and `/v1/import` for many.
//!
//! A request is answered only after its messages are durably committed.
//! Invalid messages in a batch are reported (and recorded for the ingestion
//! view) while the valid ones are stored; a request nothing of which can ever
//! succeed gets a 400, so SDKs drop it instead of retrying forever.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use bellwether_core::ingest::{Receipt, SubmitError};
use bellwether_core::message::Rejection;
use bellwether_core::{Message, MessageKind};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::auth;
use crate::body::{human_bytes, parse_json, read_limited};
use crate::error::ApiError;
use crate::metrics::{Endpoint, RequestLabels, SourceLabels};
use crate::segment::{self, parse_message, parse_timestamp, ParseContext};
use crate::AppState;

/// Answer to an accepted ingestion request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IngestResponse {
    pub(crate) success: bool,
    /// Messages stored by this request.
    pub(crate) stored: usize,
    /// Messages already stored earlier (same messageId): no effect.
    pub(crate) duplicates: usize,
    /// Messages carrying an identifier of a deleted contact (see
    /// `GET /api/v1/suppressions`): dropped.
    pub(crate) suppressed: usize,
    /// Invalid messages, each with the field at fault; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) rejected: Vec<RejectedMessage>,
    /// Stored messages with a field ignored (a blocked identifier such as
    /// `"undefined"`); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<RejectedMessage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RejectedMessage {
    pub(crate) index: usize,
    pub(crate) field: String,
    pub(crate) message: String,
}

macro_rules! single_endpoint {
    ($name:ident, $kind:expr, $path:literal) => {
        #[utoipa::path(post, path = $path, tag = "ingestion",
            request_body(content = Object, description = "One Segment-spec message"),
            responses((status = 200, body = IngestResponse), (status = 400, body = crate::error::ErrorBody),
                      (status = 401, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
                      (status = 429, body = crate::error::ErrorBody)))]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            peer: Option<Extension<ConnectInfo<SocketAddr>>>,
            headers: HeaderMap,
            body: Body,
        ) -> Response {
            let browser = browser_address(&state, &headers, peer);
            let result = ingest_single(&state, &headers, body, $kind, browser).await;
            finish(&state, Endpoint::Single, result)
        }
    };
}

single_endpoint!(identify, MessageKind::Identify, "/v1/identify");
single_endpoint!(track, MessageKind::Track, "/v1/track");
single_endpoint!(page, MessageKind::Page, "/v1/page");
single_endpoint!(screen, MessageKind::Screen, "/v1/screen");
single_endpoint!(group, MessageKind::Group, "/v1/group");
single_endpoint!(alias, MessageKind::Alias, "/v1/alias");

/// Many messages in one request.
#[utoipa::path(post, path = "/v1/batch", tag = "ingestion",
    request_body(content = Object, description = "{\"batch\": [messages], \"context\"?, \"integrations\"?, \"writeKey\"?, \"sentAt\"?}"),
    responses((status = 200, body = IngestResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let browser = browser_address(&state, &headers, peer);
    let result = ingest_batch(&state, &headers, body, browser).await;
    finish(&state, Endpoint::Batch, result)
}

/// The same as `/v1/batch` (Segment's historical-import path).
#[utoipa::path(post, path = "/v1/import", tag = "ingestion",
    request_body(content = Object, description = "{\"batch\": [messages], \"context\"?, \"integrations\"?, \"writeKey\"?, \"sentAt\"?}"),
    responses((status = 200, body = IngestResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub(crate) async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = ingest_batch(&state, &headers, body, None).await;
    finish(&state, Endpoint::Batch, result)
}

/// The address of a browser that sent the request: a web page's request
/// carries `Origin`; a server-side SDK's address is the customer's own
/// server, never the visitor's. Behind a trusted proxy, the address it
/// forwarded.
fn browser_address(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Option<std::net::IpAddr> {
    headers.get(header::ORIGIN)?;
    let Extension(ConnectInfo(peer)) = peer?;
    Some(crate::client_address::client_address(
        &state.config.server.trusted_proxies,
        headers,
        peer.ip(),
    ))
}

fn finish(
    state: &AppState,
    endpoint: Endpoint,
    result: Result<IngestResponse, ApiError>,
) -> Response {
    let response = match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    state
        .metrics
        .ingest_requests
        .get_or_create(&RequestLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

async fn ingest_single(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    kind: MessageKind,
    browser: Option<std::net::IpAddr>,
) -> Result<IngestResponse, ApiError> {
    let header_key = auth::basic_write_key(headers);
    let bytes = read_limited(headers, body, segment::MAX_MESSAGE_BYTES).await?;
    let state_for_parse = state.clone();
    let (source, parsed) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let value: Value = parse_json(&bytes)?;
        let body_key = value.get("writeKey").and_then(Value::as_str);
        let source = auth::source_for(&state_for_parse.config, header_key.as_deref(), body_key)?
            .name
            .clone();
        let mut ctx = state_for_parse.parse_context(&source, Some(kind));
        ctx.client_ip = browser;
        let parsed = parse_message(value, &ctx, new_message_id)
            .map_err(|e| (e.field, e.reason))
            .and_then(|message| {
                let warnings = state_for_parse.config.identity.screen_ids(&message)?;
                Ok((message, warnings))
            });
        Ok((source, parsed))
    })
    .await??;
    match parsed {
        Ok((message, warnings)) => {
            let rejections = warnings
                .iter()
                .map(|(field, reason)| state.warning(&source, None, field, reason, &message))
                .collect();
            let mut response = commit(state, &source, vec![message], rejections).await?;
            response.warnings = warnings
                .into_iter()
                .map(|(field, message)| RejectedMessage {
                    index: 0,
                    field,
                    message,
                })
                .collect();
            Ok(response)
        }
        Err((field, reason)) => {
            let rejection = state.rejection(&source, None, &field, &reason, "");
            commit(state, &source, Vec::new(), vec![rejection]).await?;
            Err(ApiError::InvalidField { field, reason })
        }
    }
}

#[derive(Deserialize)]
struct BatchEnvelope<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    context: Option<Map<String, Value>>,
    integrations: Option<Map<String, Value>>,
    #[serde(rename = "writeKey")]
    write_key: Option<String>,
    #[serde(rename = "sentAt")]
    sent_at: Option<String>,
}

/// A request's messages after validation: what to store, and what was
/// refused or stored with a field ignored (each both a row for the
/// ingestion view and an entry in the response).
pub(crate) struct ParsedBatch {
    pub(crate) source: String,
    pub(crate) messages: Vec<Message>,
    pub(crate) rejections: Vec<Rejection>,
    pub(crate) rejected: Vec<RejectedMessage>,
    pub(crate) warnings: Vec<RejectedMessage>,
}

impl ParsedBatch {
    pub(crate) fn new(source: String, capacity: usize) -> Self {
        ParsedBatch {
            source,
            messages: Vec::with_capacity(capacity),
            rejections: Vec::new(),
            rejected: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The message at `index` is refused (`excerpt`: the start of its text).
    pub(crate) fn reject(
        &mut self,
        state: &AppState,
        index: usize,
        (field, reason): (String, String),
        excerpt: &str,
    ) {
        let excerpt: String = excerpt.chars().take(200).collect();
        self.rejections
            .push(state.rejection(&self.source, Some(index), &field, &reason, &excerpt));
        self.rejected.push(RejectedMessage {
            index,
            field,
            message: reason,
        });
    }

    /// The message at `index` is stored with `warnings` (fields ignored).
    pub(crate) fn accept(
        &mut self,
        state: &AppState,
        index: usize,
        message: Message,
        warnings: Vec<(String, String)>,
    ) {
        for (field, reason) in warnings {
            self.rejections.push(state.warning(
                &self.source,
                Some(index),
                &field,
                &reason,
                &message,
            ));
            self.warnings.push(RejectedMessage {
                index,
                field,
                message: reason,
            });
        }
        self.messages.push(message);
    }
}

async fn ingest_batch(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    browser: Option<std::net::IpAddr>,
) -> Result<IngestResponse, ApiError> {
    let header_key = auth::basic_write_key(headers);
    let bytes = read_limited(headers, body, segment::MAX_BATCH_BYTES).await?;
    let state_for_parse = state.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        parse_batch(&state_for_parse, &bytes, header_key.as_deref(), browser)
    })
    .await??;
    if parsed.messages.is_empty() && !parsed.rejected.is_empty() {
        let first = &parsed.rejected[0];
        commit(state, &parsed.source, Vec::new(), parsed.rejections).await?;
        return Err(ApiError::InvalidField {
            field: format!("batch[{}].{}", first.index, first.field),
            reason: format!("{} (every message in the batch is invalid)", first.message),
        });
    }
    let mut response = commit(state, &parsed.source, parsed.messages, parsed.rejections).await?;
    response.rejected = parsed.rejected;
    response.warnings = parsed.warnings;
    Ok(response)
}

fn parse_batch(
    state: &AppState,
    bytes: &[u8],
    header_key: Option<&str>,
    browser: Option<std::net::IpAddr>,
) -> Result<ParsedBatch, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let envelope: BatchEnvelope<'_> = serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))?;
    let source = auth::source_for(&state.config, header_key, envelope.write_key.as_deref())?
        .name
        .clone();
    let items = envelope.batch.ok_or_else(|| ApiError::InvalidField {
        field: "batch".into(),
        reason: "missing; expected an array of messages".into(),
    })?;
    for (name, object) in [
        ("context", envelope.context.as_ref()),
        ("integrations", envelope.integrations.as_ref()),
    ] {
        if let Some(object) = object {
            segment::check_envelope_object(name, object).map_err(|e| ApiError::InvalidField {
                field: e.field,
                reason: e.reason,
            })?;
        }
    }
    let batch_sent_at = envelope.sent_at.as_deref().and_then(parse_timestamp);
    let mut ctx = state.parse_context(&source, None);
    ctx.batch_context = envelope.context.as_ref();
    ctx.batch_integrations = envelope.integrations.as_ref();
    ctx.batch_sent_at = batch_sent_at;
    ctx.client_ip = browser;
    let mut parsed = ParsedBatch::new(source.clone(), items.len());
    for (index, raw) in items.into_iter().enumerate() {
        let screened = parse_item(raw, &ctx).and_then(|message| {
            let warnings = state.config.identity.screen_ids(&message)?;
            Ok((message, warnings))
        });
        match screened {
            Ok((message, warnings)) => parsed.accept(state, index, message, warnings),
            Err(refused) => parsed.reject(state, index, refused, raw.get()),
        }
    }
    Ok(parsed)
}

fn parse_item(raw: &RawValue, ctx: &ParseContext<'_>) -> Result<Message, (String, String)> {
    let size = raw.get().len();
    if size > segment::MAX_MESSAGE_BYTES {
        return Err((
            String::new(),
            format!(
                "message is {} bytes; the limit is {}",
                size,
                human_bytes(segment::MAX_MESSAGE_BYTES)
            ),
        ));
    }
    let value: Value =
        serde_json::from_str(raw.get()).map_err(|e| (String::new(), e.to_string()))?;
    parse_message(value, ctx, new_message_id).map_err(|e| (e.field, e.reason))
}

/// Hands the messages to the writer and waits for the durable commit.
pub(crate) async fn commit(
    state: &AppState,
    source: &str,
    messages: Vec<Message>,
    rejections: Vec<Rejection>,
) -> Result<IngestResponse, ApiError> {
    let rejected = rejections.iter().filter(|r| !r.warning).count();
    let started = Instant::now();
    let pending = state
        .ingestor
        .submit(messages, rejections)
        .map_err(|e| match e {
            SubmitError::Overloaded => ApiError::Overloaded {
                retry_after_secs: 1,
            },
            SubmitError::ShuttingDown => {
                ApiError::Unavailable("the server is shutting down".into())
            }
        })?;
    let receipt: Receipt = pending
        .await
        .map_err(|_| ApiError::Unavailable("the writer stopped before committing".into()))?
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    state
        .metrics
        .ingest_commit_seconds
        .observe(started.elapsed().as_secs_f64());
    let labels = SourceLabels {
        source: source.to_owned(),
    };
    state
        .metrics
        .events_ingested
        .get_or_create(&labels)
        .inc_by(receipt.stored as u64);
    state
        .metrics
        .events_duplicate
        .get_or_create(&labels)
        .inc_by(receipt.duplicates as u64);
    state
        .metrics
        .events_rejected
        .get_or_create(&labels)
        .inc_by(rejected as u64);
    Ok(IngestResponse {
        success: true,
        stored: receipt.stored,
        duplicates: receipt.duplicates,
        suppressed: receipt.suppressed,
        rejected: Vec::new(),
        warnings: Vec::new(),
    })
}

/// A message id for messages that came without one (they cannot be deduplicated).
pub(crate) fn new_message_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "bw-{nanos:x}-{:x}-{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
