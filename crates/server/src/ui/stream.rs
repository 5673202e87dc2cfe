//! `GET /ui/stream?definition=`: the change stream for the segment page's
//! live feed. Browsers' `EventSource` cannot send a bearer header, so this
//! route takes the page's credentials (cookie, or anonymous on loopback)
//! and serves the REST stream with them.

use crate::api::Query;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::auth::Viewer;
use super::UiState;
use crate::api::stream::{self, StreamParams};

pub(crate) async fn changes(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(params): Query<StreamParams>,
) -> Response {
    match stream::stream(State(ui.app.clone()), viewer.headers, Query(params)).await {
        Ok(events) => events.into_response(),
        Err(error) => error.into_response(),
    }
}
