//! `GET /api/v1/stream`: membership changes as server-sent events, for live
//! UIs and scripts (`curl -N`).

use std::convert::Infallible;
use std::time::Duration;

use super::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use bellwether_core::config::Scope;
use bellwether_core::engine::Change;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct StreamParams {
    /// Only changes of this segment or tier.
    pub(crate) definition: Option<String>,
}

/// Segment entries/exits and tier changes as they happen (`event: change`,
/// JSON data); `event: lagged` says how many a slow reader missed.
#[utoipa::path(get, path = "/api/v1/stream", tag = "query", params(StreamParams),
    responses((status = 200, description = "text/event-stream of changes"),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    if let Some(name) = &params.definition {
        let rules = state.engine.rules();
        let definitions = rules.definitions();
        let known = definitions.segment.iter().any(|s| s.name == *name)
            || definitions.tier.iter().any(|t| t.name == *name);
        if !known {
            return Err(ApiError::NotFound(format!(
                "no segment or tier named {name:?}"
            )));
        }
    }
    let receiver = state.engine.subscribe();
    let events = futures_util::stream::unfold(
        (receiver, params.definition),
        |(mut receiver, filter)| async move {
            loop {
                match receiver.recv().await {
                    Ok(change) if filter.as_ref().is_some_and(|f| *f != change.definition) => {
                        continue
                    }
                    Ok(change) => return Some((Ok(change_event(&change)), (receiver, filter))),
                    Err(RecvError::Lagged(missed)) => {
                        let event = Event::default().event("lagged").data(missed.to_string());
                        return Some((Ok(event), (receiver, filter)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn change_event(change: &Change) -> Event {
    let data = serde_json::json!({
        "at": format_timestamp(change.at), "subject": change.subject, "id": change.id,
        "change": change.change, "definition_kind": change.definition_kind,
        "definition": change.definition, "level": change.level,
    });
    Event::default().event("change").data(data.to_string())
}
