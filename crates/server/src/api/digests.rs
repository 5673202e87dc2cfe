//! `GET /api/v1/digests` and `GET /api/v1/digests/{name}/preview` (read
//! scope): the configured `[[digest]]`s with their next send instant, and
//! what a digest would say now (the current period so far) in either body
//! format. Computed like the scheduled digest (`crate::digest::compute`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::actions::config::PayloadFormat;
use bellwether_core::config::Scope;
use bellwether_core::digest::{self, DigestConfig};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::digest_views::DigestView;
use super::handler::blocking;
use super::Query;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// One configured digest.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DigestInfo {
    pub(crate) name: String,
    /// `week` or `month`.
    pub(crate) every: String,
    /// Weekly digests: the weekday, e.g. `monday`.
    pub(crate) weekday: Option<String>,
    /// Monthly digests: the day of the month, 1–28.
    pub(crate) day_of_month: Option<i64>,
    /// Local hour, 0–23.
    pub(crate) hour: i64,
    pub(crate) timezone: String,
    pub(crate) destination: String,
    /// `standard` or `slack`.
    pub(crate) format: String,
    /// Summarised segments; empty means all.
    pub(crate) segments: Vec<String>,
    pub(crate) outcome: Option<String>,
    /// The next scheduled send (RFC 3339).
    pub(crate) next_send_at: String,
    /// The end of the latest period queued (or marked when the digest was
    /// first seen), if any.
    pub(crate) last_period_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DigestList {
    pub(crate) digests: Vec<DigestInfo>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct PreviewQuery {
    /// `standard` or `slack` (default: the digest's own format).
    pub(crate) format: Option<String>,
}

/// A digest as it would be sent now, for the current period so far.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DigestPreview {
    pub(crate) name: String,
    /// The body format shown.
    pub(crate) format: String,
    pub(crate) destination: String,
    /// The next scheduled send (RFC 3339); it will cover the period up to then.
    pub(crate) next_send_at: String,
    pub(crate) digest: DigestView,
    /// The exact JSON body that would be posted in `format`.
    #[schema(value_type = Object)]
    pub(crate) body: serde_json::Value,
}

fn format_name(format: PayloadFormat) -> &'static str {
    match format {
        PayloadFormat::Standard => "standard",
        PayloadFormat::Slack => "slack",
    }
}

fn find<'a>(state: &'a AppState, name: &str) -> Result<&'a DigestConfig, ApiError> {
    state
        .config
        .digest
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no digest named {name:?}")))
}

/// The configured digests and when each is sent next.
#[utoipa::path(get, path = "/api/v1/digests", tag = "actions",
    responses((status = 200, body = DigestList)),
    security(("bearer" = [])))]
pub(crate) async fn list_digests(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<DigestList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let sent = blocking(&state, |store| store.digests_sent()).await??;
    let now = state.clock.now_ms();
    let mut digests = Vec::new();
    for config in &state.config.digest {
        let schedule = config
            .schedule()
            .map_err(|reason| ApiError::Internal(format!("digest {:?}: {reason}", config.name)))?;
        digests.push(DigestInfo {
            name: config.name.clone(),
            every: config.every.as_str().to_owned(),
            weekday: (config.every == digest::Cadence::Week).then(|| match &config.day {
                Some(digest::DayConfig::Name(name)) => name.trim().to_ascii_lowercase(),
                _ => "monday".to_owned(),
            }),
            day_of_month: (config.every == digest::Cadence::Month).then_some(match &config.day {
                Some(digest::DayConfig::Number(day)) => *day,
                _ => 1,
            }),
            hour: config.hour.unwrap_or(9),
            timezone: schedule.timezone().to_owned(),
            destination: config.destination.clone(),
            format: format_name(config.format).to_owned(),
            segments: config.segments.clone(),
            outcome: config.outcome.clone(),
            next_send_at: format_timestamp(schedule.next_after(now)),
            last_period_end: sent
                .iter()
                .find(|r| r.name == config.name)
                .map(|r| format_timestamp(r.period_end)),
        });
    }
    Ok(Json(DigestList { digests }))
}

/// What the digest would say now: its current period so far (from the
/// last send instant to now) against the period before, with the exact
/// body in the chosen format.
#[utoipa::path(get, path = "/api/v1/digests/{name}/preview", tag = "actions",
    params(("name" = String, Path, description = "The digest's name"), PreviewQuery),
    responses((status = 200, body = DigestPreview), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn preview_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> Result<Json<DigestPreview>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let config = find(&state, &name)?.clone();
    let format = match query.format.as_deref() {
        None => config.format,
        Some("standard") => PayloadFormat::Standard,
        Some("slack") => PayloadFormat::Slack,
        Some(other) => {
            return Err(ApiError::InvalidField {
                field: "format".into(),
                reason: format!("must be standard or slack, not {other:?}"),
            })
        }
    };
    let schedule = config
        .schedule()
        .map_err(|reason| ApiError::Internal(format!("digest {name:?}: {reason}")))?;
    let now = state.clock.now_ms();
    let content = crate::digest::compute(&state, &config, schedule.period_so_far(now), now).await?;
    let body = digest::encode(&content, format);
    Ok(Json(DigestPreview {
        name: config.name.clone(),
        format: format_name(format).to_owned(),
        destination: config.destination.clone(),
        next_send_at: format_timestamp(schedule.next_after(now)),
        digest: content.into(),
        body,
    }))
}
