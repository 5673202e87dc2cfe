//! PostHog capture compatibility: `POST /batch/`, `/capture/`, `/e/` (and
//! `/i/v0/e/`, with or without the trailing slash), so a team on a
//! PostHog SDK can point its host at Bellwether.
//!
//! The write key is PostHog's project key: `api_key` (or `token`) in the
//! body, `properties.token` of the first event (posthog-js), or the HTTP
//! Basic username. A body is one event, an array of events, or `{"batch":
//! [...]}`; gzip comes as `Content-Encoding: gzip` or posthog-js's
//! `?compression=gzip-js`. Each event becomes Segment-spec messages
//! ([`map`]) that go through the same validation, limits and durable
//! commit as `/v1/batch`; invalid events are reported with the field at
//! fault while the valid ones are stored. The answer is PostHog's
//! `{"status": 1}` plus Bellwether's counts.

mod map;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bellwether_core::Message;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth;
use crate::body::{gunzip_limited, human_bytes, parse_json, read_limited};
use crate::error::ApiError;
use crate::ingest::{commit, new_message_id, IngestResponse, ParsedBatch};
use crate::metrics::{Endpoint, RequestLabels};
use crate::segment::{self, parse_message, parse_timestamp};
use crate::AppState;

/// PostHog's success answer, with what Bellwether did.
#[derive(Debug, Serialize)]
struct CaptureResponse {
    /// Always 1 (PostHog's SDKs look at the status code only).
    status: u8,
    #[serde(flatten)]
    ingest: IngestResponse,
    /// Personless events (`$process_person_profile: false`), not stored.
    skipped: usize,
}

/// Every PostHog capture path.
pub(crate) async fn capture(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let response = match ingest(&state, &headers, &uri, body).await {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    state
        .metrics
        .ingest_requests
        .get_or_create(&RequestLabels {
            endpoint: Endpoint::Posthog,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

async fn ingest(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: Body,
) -> Result<CaptureResponse, ApiError> {
    let header_key = auth::basic_write_key(headers);
    let mut bytes = read_limited(headers, body, segment::MAX_BATCH_BYTES).await?;
    if query_says_gzip(uri.query()) {
        bytes = gunzip_limited(&bytes, segment::MAX_BATCH_BYTES)?;
    }
    let state_for_parse = state.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        parse_request(&state_for_parse, &bytes, header_key.as_deref())
    })
    .await??;
    let Parsed { batch, skipped } = parsed;
    if batch.messages.is_empty() && !batch.rejected.is_empty() {
        let first = &batch.rejected[0];
        commit(state, &batch.source, Vec::new(), batch.rejections).await?;
        return Err(ApiError::InvalidField {
            field: format!("batch[{}].{}", first.index, first.field),
            reason: format!("{} (every event in the request is invalid)", first.message),
        });
    }
    let mut ingest = commit(state, &batch.source, batch.messages, batch.rejections).await?;
    ingest.rejected = batch.rejected;
    ingest.warnings = batch.warnings;
    Ok(CaptureResponse {
        status: 1,
        ingest,
        skipped,
    })
}

/// posthog-js compresses without `Content-Encoding` and says so in the URL.
fn query_says_gzip(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.eq_ignore_ascii_case("compression=gzip-js"))
    })
}

/// The request's messages, and how many events map to none (`$pageleave`…).
struct Parsed {
    batch: ParsedBatch,
    skipped: usize,
}

fn parse_request(
    state: &AppState,
    bytes: &[u8],
    header_key: Option<&str>,
) -> Result<Parsed, ApiError> {
    let body: Value = parse_json(bytes)?;
    let (envelope, events) = split_envelope(body)?;
    let source = auth::source_for(&state.config, header_key, body_key(&envelope, &events))?
        .name
        .clone();
    let sent_at = envelope
        .get("sent_at")
        .and_then(Value::as_str)
        .and_then(parse_timestamp);
    let mut ctx = state.parse_context(&source, None);
    ctx.batch_sent_at = sent_at;
    let mut parsed = Parsed {
        batch: ParsedBatch::new(source.clone(), events.len()),
        skipped: 0,
    };
    for (index, event) in events.into_iter().enumerate() {
        // Serialized once: for the size limit, and the excerpt if refused.
        let text = event.to_string();
        match parse_event(state, event, text.len(), &ctx) {
            Ok(messages) if messages.is_empty() => parsed.skipped += 1,
            Ok(messages) => {
                for (message, warnings) in messages {
                    parsed.batch.accept(state, index, message, warnings);
                }
            }
            Err(refused) => parsed.batch.reject(state, index, refused, &text),
        }
    }
    Ok(parsed)
}

/// (field, reason): a field refused or ignored.
type FieldProblem = (String, String);

/// One event (`size` bytes as JSON) to its validated messages, each with
/// the blocked identifiers it dropped (all messages or none).
fn parse_event(
    state: &AppState,
    event: Value,
    size: usize,
    ctx: &segment::ParseContext<'_>,
) -> Result<Vec<(Message, Vec<FieldProblem>)>, FieldProblem> {
    if size > segment::MAX_MESSAGE_BYTES {
        return Err((
            String::new(),
            format!(
                "event is {size} bytes; the limit is {}",
                human_bytes(segment::MAX_MESSAGE_BYTES)
            ),
        ));
    }
    let mapped = map::to_segment(event, ctx.received_at).map_err(|e| (e.field, e.reason))?;
    let mut messages = Vec::with_capacity(mapped.len());
    for value in mapped {
        let message = parse_message(value, ctx, new_message_id).map_err(|e| (e.field, e.reason))?;
        // Blocked ids (`"undefined"`, ...) are dropped from the message as
        // on /v1 (and reported as warnings); what is left must still name
        // somebody.
        let warnings = state.config.identity.screen_ids(&message)?;
        messages.push((message, warnings));
    }
    Ok(messages)
}

/// The request's own fields and its events: `{"batch": [...], ...}`, an
/// array of events, or one event.
fn split_envelope(body: Value) -> Result<(Map<String, Value>, Vec<Value>), ApiError> {
    match body {
        Value::Array(events) => Ok((Map::new(), events)),
        Value::Object(mut object) => match object.remove("batch") {
            Some(Value::Array(events)) => Ok((object, events)),
            Some(_) => Err(ApiError::InvalidField {
                field: "batch".into(),
                reason: "must be an array of events".into(),
            }),
            None => {
                let envelope = object.clone();
                Ok((envelope, vec![Value::Object(object)]))
            }
        },
        _ => Err(ApiError::BadRequest(
            "body must be an event, an array of events or {\"batch\": [...]}".into(),
        )),
    }
}

/// `api_key` or `token` in the body, else the first event's
/// `properties.token` (posthog-js).
fn body_key<'a>(envelope: &'a Map<String, Value>, events: &'a [Value]) -> Option<&'a str> {
    ["api_key", "token"]
        .iter()
        .find_map(|key| envelope.get(*key).and_then(Value::as_str))
        .or_else(|| {
            events
                .iter()
                .find_map(|event| event.pointer("/properties/token").and_then(Value::as_str))
        })
}
