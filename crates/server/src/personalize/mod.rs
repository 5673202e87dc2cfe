//! `GET /v1/personalize` (SPEC §7, website activation): what the visitor's
//! own page may know about the visitor, for a hero or a quiz result that
//! fits their segment.
//!
//! Authenticated with a write key exactly like ingestion (HTTP Basic
//! username), because a write key is already public in every page that
//! runs analytics.js; so the answer holds only what such a page may show:
//! the exposed (`expose = true`) segments and tier levels of the visitor
//! and its account, never traits, scores or ids. A visitor never seen gets
//! empty results, not 404 (the page cannot tell it from a new visitor
//! anyway). Rate-limited per (write key, client address), see [`limiter`].
//!
//! Read-your-writes: a `/v1/*` request is acknowledged after the engine
//! applied it, so a lookup after an acknowledged `track` sees its effect.

pub(crate) mod limiter;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use bellwether_core::store::IdKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::Query;
use crate::auth;
use crate::error::ApiError;
use crate::metrics::StatusLabels;
use crate::AppState;

/// Longest accepted id, as for ingestion.
const MAX_ID_CHARS: usize = 512;

/// Which visitor: the analytics.js anonymous id, or a user id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisitorParams {
    /// The visitor's anonymous id (analytics.js `ajs_anonymous_id`).
    #[serde(rename = "anonymousId")]
    #[param(rename = "anonymousId")]
    anonymous_id: Option<String>,
    /// The visitor's user id; wins over `anonymousId` when both are given.
    #[serde(rename = "userId")]
    #[param(rename = "userId")]
    user_id: Option<String>,
}

/// The exposed segments and tier levels of one visitor.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Personalization {
    /// Exposed segments the visitor (or its account) is in.
    segments: Vec<String>,
    /// Exposed tier → the visitor's (or its account's) level.
    tiers: BTreeMap<String, String>,
}

/// The exposed segments and tiers of a visitor, for its own page.
#[utoipa::path(get, path = "/v1/personalize", tag = "ingestion",
    params(VisitorParams),
    responses((status = 200, body = Personalization),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody,
               headers(("Retry-After" = u64, description = "seconds until a lookup is allowed again")))),
    security(("write_key" = [])))]
pub(crate) async fn personalize(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<limiter::Limiter>>,
    headers: HeaderMap,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    query: Result<Query<VisitorParams>, ApiError>,
) -> Response {
    // Behind a trusted proxy, every visitor would otherwise share its bucket.
    let address = connect_info.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(peer))| {
            crate::client_address::client_address(
                &state.config.server.trusted_proxies,
                &headers,
                peer.ip(),
            )
        },
    );
    let response = match query {
        Ok(Query(params)) => lookup(&state, &limiter, &headers, address, params).await,
        Err(error) => Err(error),
    }
    .unwrap_or_else(IntoResponse::into_response);
    state
        .metrics
        .personalize_requests
        .get_or_create(&StatusLabels {
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Authenticates, rate-limits, and reads the visitor's exposed values.
async fn lookup(
    state: &AppState,
    limiter: &limiter::Limiter,
    headers: &HeaderMap,
    address: IpAddr,
    params: VisitorParams,
) -> Result<Response, ApiError> {
    let header_key = auth::basic_write_key(headers).ok_or_else(|| {
        ApiError::Unauthorized("missing write key: send it as the HTTP Basic username".into())
    })?;
    let source = auth::source_for(&state.config, Some(&header_key), None)?;
    limiter
        .check(&source.name, address, Instant::now())
        .map_err(|wait| ApiError::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        })?;
    let (kind, id) = visitor(params)?;
    let store = state.store.clone();
    let engine = state.engine.clone();
    let exposed = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let Some(contact) = store.contact_by_identity(kind, &id)? else {
            return Ok(None);
        };
        Ok(Some(engine.view().exposed(contact.id)))
    })
    .await??
    .unwrap_or_default();
    let mut response = Json(Personalization {
        segments: exposed.segments,
        tiers: exposed.tiers,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The identity to look up: `userId` if given, else `anonymousId`.
fn visitor(params: VisitorParams) -> Result<(IdKind, String), ApiError> {
    let present = |value: Option<String>| value.filter(|id| !id.trim().is_empty());
    let (kind, field, id) = match (present(params.user_id), present(params.anonymous_id)) {
        (Some(user_id), _) => (IdKind::User, "userId", user_id),
        (None, Some(anonymous_id)) => (IdKind::Anonymous, "anonymousId", anonymous_id),
        (None, None) => {
            return Err(ApiError::InvalidField {
                field: "anonymousId".into(),
                reason: "missing both anonymousId and userId; one is required".into(),
            })
        }
    };
    if id.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::InvalidField {
            field: field.into(),
            reason: format!("longer than {MAX_ID_CHARS} characters"),
        });
    }
    Ok((kind, id))
}
