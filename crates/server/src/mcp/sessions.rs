//! Bounds on MCP sessions over HTTP: each one holds a worker and a server
//! (about 30 KB), and clients that never close them used to pile up.
//! Sessions idle for `mcp_session_idle_secs` (default 300) are closed, and
//! beyond `max_mcp_sessions` (default 256) live sessions a new one is
//! refused with 503 and `Retry-After` until an older one closes or expires.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::SessionManager;

use crate::error::ApiError;

const SESSION_HEADER: &str = "mcp-session-id";

/// The live sessions and when each was last used.
pub(crate) struct SessionBook {
    pub(crate) manager: Arc<LocalSessionManager>,
    last_used: Mutex<HashMap<Arc<str>, Instant>>,
    max: usize,
    idle: Duration,
}

impl SessionBook {
    pub(crate) fn new(manager: Arc<LocalSessionManager>, max: usize, idle: Duration) -> Self {
        Self {
            manager,
            last_used: Mutex::new(HashMap::new()),
            max: max.max(1),
            idle,
        }
    }

    /// Closes sessions idle for longer than the limit; the live count after.
    async fn expire(&self) -> usize {
        let now = Instant::now();
        let expired: Vec<Arc<str>> = {
            let mut last_used = self.last_used.lock();
            let expired: Vec<Arc<str>> = last_used
                .iter()
                .filter(|(_, used)| now.duration_since(**used) > self.idle)
                .map(|(id, _)| Arc::clone(id))
                .collect();
            for id in &expired {
                last_used.remove(id);
            }
            expired
        };
        for id in expired {
            if let Err(error) = self.manager.close_session(&id).await {
                tracing::debug!(%error, "closing an idle mcp session");
            }
        }
        self.last_used.lock().len()
    }
}

/// The middleware in front of `/mcp`.
pub(crate) async fn limit_sessions(
    State(book): State<Arc<SessionBook>>,
    request: Request,
    next: Next,
) -> Response {
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(Arc::<str>::from);
    if let Some(id) = session {
        let closing = request.method() == Method::DELETE;
        if let Some(used) = book.last_used.lock().get_mut(&id) {
            *used = Instant::now();
        }
        let response = next.run(request).await;
        if closing {
            book.last_used.lock().remove(&id);
        }
        return response;
    }
    if book.expire().await >= book.max {
        let mut response = ApiError::Unavailable(format!(
            "{} MCP sessions are open, the most this server keeps; close one (HTTP DELETE) or retry later",
            book.max
        ))
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return response;
    }
    let response = next.run(request).await;
    if let Some(id) = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        book.last_used.lock().insert(Arc::from(id), Instant::now());
    }
    response
}
