//! Destinations, deliveries and dead letters: what was sent where, what is
//! waiting, what gave up, and replaying it.

use super::Query;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::store::{Delivery, DeliveryFilter, DeliveryState};
use bellwether_core::Millis;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::{blocking, page_limit};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DestinationView {
    pub(crate) name: String,
    /// Without credentials, query or fragment.
    pub(crate) url: String,
    pub(crate) format: &'static str,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: Vec<String>,
    /// The score thresholds watched.
    pub(crate) scores: Vec<WatchedScoreView>,
    /// Deliveries waiting to be sent (or retried).
    pub(crate) pending: u64,
    /// Deliveries that gave up: see `/api/v1/dead-letters`.
    pub(crate) dead: u64,
    /// Set when the receiver answered 410 Gone.
    pub(crate) disabled: Option<DisabledView>,
}

/// A score threshold a destination is told about when crossed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WatchedScoreView {
    pub(crate) score: String,
    pub(crate) threshold: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DisabledView {
    pub(crate) since: String,
    pub(crate) reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DestinationList {
    pub(crate) destinations: Vec<DestinationView>,
}

/// Every destination with its backlog, dead letters and state.
#[utoipa::path(get, path = "/api/v1/destinations", tag = "actions",
    responses((status = 200, body = DestinationList)), security(("bearer" = [])))]
pub(crate) async fn list_destinations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<DestinationList>, ApiError> {
    destinations_view(&state, &headers).await.map(Json)
}

/// Every destination with its backlog, for `credentials` with the read
/// scope: the REST handler and the dashboard's panel call it.
pub(crate) async fn destinations_view(
    state: &AppState,
    credentials: &HeaderMap,
) -> Result<DestinationList, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let (depth, disabled) = blocking(state, |store| {
        Ok::<_, bellwether_core::StoreError>((
            store.outbox_depth()?,
            store.disabled_destinations()?,
        ))
    })
    .await??;
    let destinations =
        state
            .config
            .destination
            .iter()
            .map(|d| {
                let (pending, dead) = depth
                    .iter()
                    .find(|(name, _, _)| *name == d.name)
                    .map_or((0, 0), |(_, p, x)| (*p, *x));
                let disabled = disabled.iter().find(|(name, _, _)| *name == d.name).map(
                    |(_, since, reason)| DisabledView {
                        since: format_timestamp(*since),
                        reason: reason.clone(),
                    },
                );
                DestinationView {
                    name: d.name.clone(),
                    url: d.redacted_url(),
                    format: match d.format {
                        bellwether_core::actions::config::PayloadFormat::Standard => "standard",
                        bellwether_core::actions::config::PayloadFormat::Slack => "slack",
                    },
                    segments: d.segments.clone(),
                    tiers: d.tiers.clone(),
                    scores: d
                        .scores
                        .iter()
                        .map(|s| WatchedScoreView {
                            score: s.score.clone(),
                            threshold: s.threshold,
                        })
                        .collect(),
                    pending,
                    dead,
                    disabled,
                }
            })
            .collect();
    Ok(DestinationList { destinations })
}

/// Enables a destination disabled by a 410 Gone; its waiting deliveries go
/// out again.
#[utoipa::path(post, path = "/api/v1/destinations/{name}/enable", tag = "actions",
    params(("name" = String, Path, description = "Destination name")),
    responses((status = 200, description = "`{\"enabled\": name}`"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn enable_destination(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_token(&state.config, &headers, Scope::Write)?;
    if !state.config.destination.iter().any(|d| d.name == name) {
        return Err(ApiError::NotFound(format!("no destination named {name:?}")));
    }
    let target = name.clone();
    blocking(&state, move |store| {
        store.set_destination_disabled(&target, None)
    })
    .await??;
    state.engine.outbox_written().notify_one();
    Ok(Json(serde_json::json!({ "enabled": name })))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// The `webhook-id`.
    pub(crate) id: String,
    pub(crate) destination: String,
    /// `contact` or `account`, and how people name it.
    pub(crate) subject_kind: String,
    pub(crate) subject: String,
    /// `segment`, `tier` or `score`.
    pub(crate) definition_kind: String,
    pub(crate) definition: String,
    pub(crate) change: String,
    /// The instant of the change.
    pub(crate) at: String,
    #[serde(skip)]
    pub(crate) at_ms: Millis,
    /// `pending`, `delivered` or `dead`.
    #[schema(value_type = String)]
    pub(crate) state: DeliveryState,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Option<String>,
    pub(crate) last_attempt_at: Option<String>,
    pub(crate) last_status: Option<u16>,
    pub(crate) last_error: Option<String>,
    pub(crate) delivered_at: Option<String>,
    /// The exact body sent (dead letters only, or with `body=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) body: Option<serde_json::Value>,
}

impl DeliveryView {
    pub(crate) fn of(delivery: Delivery, with_body: bool) -> Self {
        let record = delivery.record;
        let body = with_body.then(|| {
            serde_json::from_str(&record.body).unwrap_or(serde_json::Value::String(record.body))
        });
        Self {
            id: record.id,
            destination: record.destination,
            subject_kind: record.subject_kind,
            subject: record.label,
            definition_kind: record.definition_kind,
            definition: record.definition,
            change: record.change,
            at: format_timestamp(record.at),
            at_ms: record.at,
            state: delivery.state,
            attempts: delivery.attempts,
            next_attempt_at: (delivery.state == DeliveryState::Pending)
                .then(|| format_timestamp(delivery.next_attempt_at)),
            last_attempt_at: delivery.last_attempt_at.map(format_timestamp),
            last_status: delivery.last_status,
            last_error: delivery.last_error,
            delivered_at: delivery.delivered_at.map(format_timestamp),
            body,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryPage {
    pub(crate) deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; `null` at the end.
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct DeliveryQuery {
    destination: Option<String>,
    /// A segment, tier or score name.
    definition: Option<String>,
    /// `pending`, `delivered` or `dead`.
    state: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    cursor: Option<String>,
    /// Include each delivery's body.
    body: Option<bool>,
}

impl DeliveryQuery {
    /// The latest `limit` deliveries of one segment, tier or score.
    pub(crate) fn of_definition(definition: &str, limit: usize) -> Self {
        Self {
            definition: Some(definition.to_owned()),
            limit: Some(limit),
            ..Self::default()
        }
    }
}

/// Deliveries, newest first: what was sent, when, how it went.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "actions", params(DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    deliveries_view(&state, &headers, query).await.map(Json)
}

/// One page of deliveries, newest first, for `credentials` with the read
/// scope: the REST handler and the segment page's panel call it.
pub(crate) async fn deliveries_view(
    state: &AppState,
    credentials: &HeaderMap,
    query: DeliveryQuery,
) -> Result<DeliveryPage, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let delivery_state = query
        .state
        .as_deref()
        .map(|s| {
            DeliveryState::parse(s).ok_or_else(|| ApiError::InvalidField {
                field: "state".into(),
                reason: format!("{s:?} is not pending, delivered or dead"),
            })
        })
        .transpose()?;
    let with_body = query
        .body
        .unwrap_or(delivery_state == Some(DeliveryState::Dead));
    let filter = DeliveryFilter {
        destination: query.destination,
        definition: query.definition,
        state: delivery_state,
        before: query.cursor.as_deref().map(parse_cursor).transpose()?,
        subject: None,
    };
    page(state, filter, page_limit(query.limit)?, with_body).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct DeadLetterQuery {
    destination: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Deliveries that ran out of attempts, newest first, with their bodies.
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "actions", params(DeadLetterQuery),
    responses((status = 200, body = DeliveryPage)), security(("bearer" = [])))]
pub(crate) async fn list_dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<DeadLetterQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let filter = DeliveryFilter {
        destination: query.destination,
        state: Some(DeliveryState::Dead),
        before: query.cursor.as_deref().map(parse_cursor).transpose()?,
        ..DeliveryFilter::default()
    };
    page(&state, filter, page_limit(query.limit)?, true)
        .await
        .map(Json)
}

async fn page(
    state: &AppState,
    filter: DeliveryFilter,
    limit: usize,
    with_body: bool,
) -> Result<DeliveryPage, ApiError> {
    let rows = blocking(state, move |store| store.deliveries(&filter, limit + 1)).await??;
    let more = rows.len() > limit;
    let next_cursor = more
        .then(|| rows.get(limit - 1).map(|(seq, _)| seq.to_string()))
        .flatten();
    let deliveries = rows
        .into_iter()
        .take(limit)
        .map(|(_, d)| DeliveryView::of(d, with_body))
        .collect();
    Ok(DeliveryPage {
        deliveries,
        next_cursor,
    })
}

fn parse_cursor(cursor: &str) -> Result<i64, ApiError> {
    cursor.parse().map_err(|_| ApiError::InvalidField {
        field: "cursor".into(),
        reason: "not a cursor returned by this endpoint".into(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// Dead letters to replay (webhook ids).
    #[serde(default)]
    ids: Vec<String>,
    /// Replay every dead letter.
    #[serde(default)]
    all: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReplayResult {
    /// How many dead letters went back in the queue.
    replayed: usize,
}

/// Puts dead letters back in the queue (`{"ids": [...]}` or `{"all": true}`),
/// attempts reset, due now; delivered with the same `webhook-id`.
#[utoipa::path(post, path = "/api/v1/dead-letters/replay", tag = "actions",
    request_body = ReplayRequest,
    responses((status = 200, body = ReplayResult), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn replay_dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ReplayResult>, ApiError> {
    require_token(&state.config, &headers, Scope::Write)?;
    let request: ReplayRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid replay request: {e}")))?;
    let ids = match (request.all, request.ids.is_empty()) {
        (true, true) => None,
        (false, false) => Some(request.ids),
        (true, false) => {
            return Err(ApiError::BadRequest(
                "give either \"ids\" or \"all\": true, not both".into(),
            ))
        }
        (false, true) => {
            return Err(ApiError::BadRequest(
                "nothing to replay: give \"ids\": [...] or \"all\": true".into(),
            ))
        }
    };
    replay(&state, ids).await
}

/// Replays one dead letter.
#[utoipa::path(post, path = "/api/v1/dead-letters/{id}/replay", tag = "actions",
    params(("id" = String, Path, description = "The webhook id")),
    responses((status = 200, body = ReplayResult), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn replay_dead_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ReplayResult>, ApiError> {
    require_token(&state.config, &headers, Scope::Write)?;
    let result = replay(&state, Some(vec![id.clone()])).await?;
    if result.replayed == 0 {
        return Err(ApiError::NotFound(format!("no dead letter with id {id:?}")));
    }
    Ok(result)
}

async fn replay(
    state: &AppState,
    ids: Option<Vec<String>>,
) -> Result<Json<ReplayResult>, ApiError> {
    let now = state.clock.now_ms();
    let replayed = blocking(state, move |store| store.replay_dead(ids.as_deref(), now)).await??;
    tracing::info!(replayed, "dead letters replayed");
    state.engine.outbox_written().notify_one();
    Ok(Json(ReplayResult { replayed }))
}

#[cfg(test)]
mod tests {
    use bellwether_core::store::OutboxRecord;

    use super::*;

    #[test]
    fn a_delivery_serializes_to_its_documented_wire_format() {
        let delivery = |state, with_body| {
            let at = 1_767_225_600_250;
            DeliveryView::of(
                Delivery {
                    record: OutboxRecord {
                        id: "msg_1".into(),
                        destination: "crm".into(),
                        subject_kind: "contact".into(),
                        subject_key: "1".into(),
                        label: "ann".into(),
                        definition_kind: "segment".into(),
                        definition: "hot".into(),
                        change: "entered".into(),
                        at,
                        body: r#"{"type":"segment.entered"}"#.into(),
                    },
                    state,
                    attempts: 2,
                    next_attempt_at: at + 1_000,
                    last_attempt_at: Some(at),
                    last_status: Some(503),
                    last_error: Some("503 Service Unavailable".into()),
                    delivered_at: None,
                },
                with_body,
            )
        };
        let pending = serde_json::to_string(&delivery(DeliveryState::Pending, false));
        assert_eq!(
            pending.expect("serializes"),
            concat!(
                r#"{"id":"msg_1","destination":"crm","subject_kind":"contact","subject":"ann","#,
                r#""definition_kind":"segment","definition":"hot","change":"entered","#,
                r#""at":"2026-01-01T00:00:00.250Z","state":"pending","attempts":2,"#,
                r#""next_attempt_at":"2026-01-01T00:00:01.250Z","last_attempt_at":"2026-01-01T00:00:00.250Z","#,
                r#""last_status":503,"last_error":"503 Service Unavailable","delivered_at":null}"#,
            )
        );
        let dead = serde_json::to_value(delivery(DeliveryState::Dead, true)).expect("serializes");
        assert_eq!(dead["state"], "dead");
        assert_eq!(dead["next_attempt_at"], serde_json::Value::Null);
        assert_eq!(dead["body"], serde_json::json!({"type": "segment.entered"}));
    }
}
