//! Bellwether's HTTP edge: the only crate that knows HTTP and JSON wire
//! formats. Segment-compatible ingestion, the REST query API with its OpenAPI
//! document, the web UI, MCP, health and metrics.
//!
//! Architecture invariant: handlers never block the async runtime; every
//! store call and every large JSON parse runs in `spawn_blocking`. Errors map
//! to HTTP statuses only in [`error`].

pub mod actions;
mod api;
mod auth;
mod body;
mod client_address;
mod connections;
pub mod conversion_cache;
mod cors;
mod demo_site;
pub mod digest;
pub mod enrichment;
pub mod error;
mod ingest;
pub mod mcp;
pub mod metrics;
mod personalize;
mod posthog;
pub mod retention;
pub mod segment;
mod ui;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use bellwether_core::config::Config;
use bellwether_core::ingest::Ingestor;
use bellwether_core::message::Rejection;
use bellwether_core::pipeline::EngineHandle;
use bellwether_core::{Clock, Message, MessageKind, Store};
use tokio::net::TcpListener;

use crate::error::ApiError;

pub use api::openapi_document;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub ingestor: Ingestor,
    pub engine: EngineHandle,
    /// Where definitions applied through the API are kept across restarts.
    pub definitions_file: Option<std::path::PathBuf>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<metrics::Metrics>,
    /// The built-in webhook receiver (`POST /inbox`).
    pub inbox: Arc<actions::Inbox>,
    /// Reports and backtests running at once.
    pub report_slots: ReportSlots,
    /// Each segment's conversion for the default outcome, kept fresh in
    /// the background ([`conversion_cache::run`]).
    pub conversion_cache: Arc<conversion_cache::ConversionCache>,
}

/// How many reports and backtests run at once: one core fewer than the
/// machine has (at least one). They read a published view and never hold
/// the writer up, but each keeps a core busy for up to seconds; the others
/// wait their turn, so acknowledgements always have a core.
#[derive(Clone)]
pub struct ReportSlots(Arc<tokio::sync::Semaphore>);

impl Default for ReportSlots {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self(Arc::new(tokio::sync::Semaphore::new(
            cores.saturating_sub(1).max(1),
        )))
    }
}

impl ReportSlots {
    /// Waits for a free slot; the report runs while the permit is held.
    pub(crate) async fn acquire(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.0
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable("the server is stopping".into()))
    }

    /// Like [`Self::acquire`], for a permit moved into the blocking work:
    /// the slot stays taken until the work ends, even when the request
    /// that started it is dropped (a live preview superseded by the next
    /// keystroke), so abandoned work still counts against the slots.
    pub(crate) async fn acquire_owned(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.0
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("the server is stopping".into()))
    }
}

impl AppState {
    fn parse_context<'a>(
        &self,
        source: &'a str,
        kind: Option<MessageKind>,
    ) -> segment::ParseContext<'a> {
        let skew_hours = self.config.server.max_future_skew_hours.unwrap_or(24);
        segment::ParseContext {
            source,
            received_at: self.clock.now_ms(),
            endpoint_kind: kind,
            max_future_skew_ms: i64::from(skew_hours) * 3_600_000,
            ..segment::ParseContext::default()
        }
    }

    /// A warning row for a stored message (a field ignored).
    fn warning(
        &self,
        source: &str,
        index: Option<usize>,
        field: &str,
        reason: &str,
        message: &Message,
    ) -> Rejection {
        let mut row = self.rejection(source, index, field, reason, "");
        row.message_id = Some(message.message_id.clone());
        row.warning = true;
        row
    }

    fn rejection(
        &self,
        source: &str,
        index: Option<usize>,
        field: &str,
        reason: &str,
        excerpt: &str,
    ) -> Rejection {
        let field = match index {
            Some(i) if field.is_empty() => format!("batch[{i}]"),
            Some(i) => format!("batch[{i}].{field}"),
            None => field.to_owned(),
        };
        Rejection {
            received_at: self.clock.now_ms(),
            source: Some(source.to_owned()),
            message_id: None,
            index,
            field,
            reason: reason.to_owned(),
            excerpt: excerpt.to_owned(),
            warning: false,
        }
    }
}

/// All routes, for a server on a non-loopback address (every UI page asks
/// for a token sign-in).
pub fn router(state: AppState) -> Router {
    router_on(state, false)
}

/// All routes; `loopback`: the server listens on a loopback address, so the
/// UI's read-only pages open without sign-in (SPEC section 5).
fn router_on(state: AppState, loopback: bool) -> Router {
    let tracking = Router::new()
        .route("/v1/identify", post(ingest::identify))
        .route("/v1/track", post(ingest::track))
        .route("/v1/page", post(ingest::page))
        .route("/v1/screen", post(ingest::screen))
        .route("/v1/group", post(ingest::group))
        .route("/v1/alias", post(ingest::alias))
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/import", post(ingest::import))
        // analytics.js (`@segment/analytics-next`) posts to the first
        // letter of the call's type, and batches to `/b`.
        .route("/v1/i", post(ingest::identify))
        .route("/v1/t", post(ingest::track))
        .route("/v1/p", post(ingest::page))
        .route("/v1/s", post(ingest::screen))
        .route("/v1/g", post(ingest::group))
        .route("/v1/a", post(ingest::alias))
        .route("/v1/b", post(ingest::batch))
        // Segment SDKs send bodies up to the batch cap; the handlers enforce
        // the real per-endpoint limits while reading.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .route(
            "/v1/personalize",
            get(personalize::personalize).layer(axum::Extension(Arc::new(
                personalize::limiter::Limiter::new(state.config.personalize.rate_per_minute),
            ))),
        )
        .merge(posthog_routes())
        // Browser pages on a source's allowed origins (SPEC §7).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ));
    let (mcp_service, mcp_sessions) = mcp::http_service(state.clone());
    let agents = Router::new()
        .nest_service("/mcp", mcp_service)
        .layer(axum::middleware::from_fn_with_state(
            mcp_sessions,
            mcp::sessions::limit_sessions,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_read_token,
        ));
    let demo_site = if state.config.server.demo_site {
        demo_site::routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(tracking)
        .merge(demo_site)
        .merge(api::routes())
        .merge(agents)
        .route(
            "/inbox",
            post(actions::inbox::receive).layer(axum::extract::DefaultBodyLimit::max(256 * 1024)),
        )
        .route("/api/v1/inbox", get(actions::inbox::list))
        .merge(ui::routes(state.clone(), loopback))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .with_state(state)
}

/// PostHog capture paths (see [`posthog`]), bodies capped by the handler.
fn posthog_routes() -> Router<AppState> {
    let mut routes = Router::new();
    for path in ["/batch", "/capture", "/e", "/i/v0/e"] {
        routes = routes
            .route(path, post(posthog::capture))
            .route(&format!("{path}/"), post(posthog::capture));
    }
    routes.layer(axum::extract::DefaultBodyLimit::disable())
}

/// A NUL (`%00`) in the path or query string would reach the store as a
/// lookup key, which PostgreSQL refuses (503 for a bad request): 400 here,
/// for every route.
async fn refuse_nul_in_uri(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = request.uri();
    let part = if uri.path().contains("%00") {
        Some("path")
    } else if uri.query().is_some_and(|query| query.contains("%00")) {
        Some("query")
    } else {
        None
    };
    match part {
        Some(part) => error::ApiError::InvalidField {
            field: part.to_owned(),
            reason: "contains a NUL character (%00)".to_owned(),
        }
        .into_response(),
        None => next.run(request).await,
    }
}

/// MCP over HTTP needs a read token; tools that change things check for
/// more, exactly as the REST API does.
async fn require_read_token(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let scope = bellwether_core::config::Scope::Read;
    match auth::require_token(&state.config, request.headers(), scope) {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn metrics_text(State(state): State<AppState>) -> String {
    state
        .metrics
        .ingest_pending
        .set(state.ingestor.pending() as i64);
    let (timers, p50, p99) = {
        let engine = state.engine.view_async().await;
        let seconds = |q| engine.evaluation_time(q).map_or(0.0, |d| d.as_secs_f64());
        (engine.pending_timers(), seconds(0.5), seconds(0.99))
    };
    state.metrics.timers_pending.set(timers as i64);
    let refused = state.ingestor.identity_report().refused_links;
    let counted = state.metrics.identity_links_refused.get();
    state
        .metrics
        .identity_links_refused
        .inc_by(refused.saturating_sub(counted));
    let store = state.store.clone();
    if let Ok(Ok(depth)) = tokio::task::spawn_blocking(move || store.outbox_depth()).await {
        for destination in &state.config.destination {
            let (pending, dead) = depth
                .iter()
                .find(|(name, _, _)| *name == destination.name)
                .map_or((0, 0), |(_, p, d)| (*p, *d));
            for (label, count) in [("pending", pending), ("dead", dead)] {
                state
                    .metrics
                    .outbox_depth
                    .get_or_create(&metrics::OutboxLabels {
                        destination: destination.name.clone(),
                        state: label,
                    })
                    .set(count as i64);
            }
        }
    }
    for (quantile, value) in [("0.5", p50), ("0.99", p99)] {
        state
            .metrics
            .evaluation_seconds
            .get_or_create(&metrics::QuantileLabels { quantile })
            .set(value);
    }
    state.metrics.render()
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
/// Connections are bounded as [`connections`] describes (`[server]`
/// `header_read_timeout_secs`, `max_connections`, `reserved_connections`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let loopback = listener.local_addr()?.ip().is_loopback();
    let limits = connections::ConnectionLimits::from_config(&state.config.server);
    let metrics = state.metrics.clone();
    let app = router_on(state, loopback);
    connections::serve(listener, app, limits, metrics, shutdown).await
}
