//! Accepting HTTP connections with bounds an unauthenticated client cannot
//! get around (HTTP/1.1 only):
//!
//! - **Header-read timeout** (`header_read_timeout_secs`, default 10 s): a
//!   client that does not send a complete request head in time is
//!   disconnected. The same timer runs while a kept-alive connection waits
//!   for its next request, so it is also the idle timeout.
//! - **Connection cap** (`max_connections`, default 1024): beyond it a new
//!   connection is closed at once, so file descriptors are never exhausted.
//! - **Reserved share** (`reserved_connections`, default 32 of the cap):
//!   when the rest is taken, new connections land here and may only ask for
//!   `/healthz` and `/metrics` (anything else: 503). Their header timeout is
//!   one second, and when the share is full the oldest is closed for the
//!   newcomer, so a flood of idle connections cannot keep a health check
//!   out for longer than its own request takes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bellwether_core::config::ServerConfig;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::error::ApiError;
use crate::metrics::{Metrics, RefusalLabels};

/// The bounds on connections, from `[server]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) reserved: usize,
}

/// Header timeout of a connection in the reserved share.
const RESERVED_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

impl ConnectionLimits {
    pub(crate) fn from_config(server: &ServerConfig) -> Self {
        let max_connections = server.max_connections.unwrap_or(1024).max(2);
        let reserved = server
            .reserved_connections
            .unwrap_or(32)
            .clamp(1, max_connections - 1);
        Self {
            header_read_timeout: Duration::from_secs(
                server.header_read_timeout_secs.unwrap_or(10).max(1),
            ),
            max_connections,
            reserved,
        }
    }
}

/// The reserved share: open connections in arrival order, each with the
/// switch that closes it.
#[derive(Default)]
struct Reserved {
    next_id: AtomicU64,
    open: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
}

impl Reserved {
    /// Takes a slot, closing the oldest connection when all are taken.
    fn admit(&self, capacity: usize, metrics: &Metrics) -> (u64, oneshot::Receiver<()>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (close, closed) = oneshot::channel();
        let mut open = self.open.lock();
        while open.len() >= capacity {
            if let Some((_, oldest)) = open.pop_front() {
                let _ = oldest.send(());
                refused(metrics, "evicted");
            }
        }
        open.push_back((id, close));
        (id, closed)
    }

    fn release(&self, id: u64) {
        self.open.lock().retain(|(open, _)| *open != id);
    }
}

fn refused(metrics: &Metrics, reason: &'static str) {
    metrics
        .connections_refused
        .get_or_create(&RefusalLabels { reason })
        .inc();
}

/// Which share a connection was admitted to.
enum Slot {
    General(OwnedSemaphorePermit),
    Reserved(u64, oneshot::Receiver<()>),
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves,
/// then lets open requests finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let general = Arc::new(Semaphore::new(limits.max_connections - limits.reserved));
    let reserved = Arc::new(Reserved::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before
                    // accept: wait a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match Arc::clone(&general).try_acquire_owned() {
            Ok(permit) => Slot::General(permit),
            Err(_) => {
                let (id, closed) = reserved.admit(limits.reserved, &metrics);
                Slot::Reserved(id, closed)
            }
        };
        let connection = Connection {
            app: app.clone(),
            peer,
            metrics: Arc::clone(&metrics),
            reserved: Arc::clone(&reserved),
            limits,
        };
        tokio::spawn(connection.run(stream, slot, graceful.watcher()));
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

struct Connection {
    app: Router,
    peer: SocketAddr,
    metrics: Arc<Metrics>,
    reserved: Arc<Reserved>,
    limits: ConnectionLimits,
}

impl Connection {
    async fn run(
        self,
        stream: TcpStream,
        slot: Slot,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let _ = stream.set_nodelay(true);
        self.metrics.connections_open.inc();
        let reserved_only = matches!(slot, Slot::Reserved(..));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new());
        builder.header_read_timeout(if reserved_only {
            RESERVED_HEADER_TIMEOUT
        } else {
            self.limits.header_read_timeout
        });
        let app = self.app.clone();
        let peer = self.peer;
        let metrics = Arc::clone(&self.metrics);
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            let metrics = Arc::clone(&metrics);
            async move {
                if reserved_only && !is_health_path(request.uri().path()) {
                    refused(&metrics, "reserved_only");
                    return Ok::<_, Infallible>(busy());
                }
                app.oneshot(request).await
            }
        });
        let serving = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
        match slot {
            Slot::General(permit) => {
                let _ = serving.await;
                drop(permit);
            }
            Slot::Reserved(id, closed) => {
                tokio::select! {
                    _ = serving => {}
                    _ = closed => {}
                }
                self.reserved.release(id);
            }
        }
        self.metrics.connections_open.dec();
    }
}

fn is_health_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics")
}

/// Every general slot is taken: try again shortly, on a new connection.
fn busy() -> Response {
    let mut response = ApiError::Unavailable(
        "every connection slot is taken; only /healthz and /metrics are answered on this one"
            .into(),
    )
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_keep_a_general_share() {
        let limits = ConnectionLimits::from_config(&ServerConfig::default());
        assert_eq!(
            limits,
            ConnectionLimits {
                header_read_timeout: Duration::from_secs(10),
                max_connections: 1024,
                reserved: 32,
            }
        );
        let tiny = ServerConfig {
            max_connections: Some(1),
            reserved_connections: Some(5),
            ..ServerConfig::default()
        };
        let limits = ConnectionLimits::from_config(&tiny);
        assert_eq!((limits.max_connections, limits.reserved), (2, 1));
    }

    #[test]
    fn a_full_reserved_share_closes_its_oldest_connection() {
        let reserved = Reserved::default();
        let metrics = Metrics::new();
        let (first, mut first_closed) = reserved.admit(2, &metrics);
        let (_, mut second_closed) = reserved.admit(2, &metrics);
        let (_, _third_closed) = reserved.admit(2, &metrics);
        assert!(first_closed.try_recv().is_ok(), "the oldest was closed");
        assert!(second_closed.try_recv().is_err(), "the second stays open");
        reserved.release(first);
        assert_eq!(reserved.open.lock().len(), 2);
    }
}
