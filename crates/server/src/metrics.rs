//! Prometheus metrics. Every metric name is defined here and nowhere else.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct SourceLabels {
    pub(crate) source: String,
}

#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub(crate) enum Endpoint {
    Single,
    Batch,
    /// PostHog capture (`/batch/`, `/capture/`, `/e/`).
    Posthog,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabels {
    pub(crate) status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) endpoint: Endpoint,
    pub(crate) status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeliveryLabels {
    pub(crate) destination: String,
    /// `delivered`, `retry` or `dead`.
    pub(crate) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutboxLabels {
    pub(crate) destination: String,
    /// `pending` or `dead`.
    pub(crate) state: &'static str,
}

/// All of Bellwether's metrics, registered once at start.
pub struct Metrics {
    registry: Registry,
    pub(crate) events_ingested: Family<SourceLabels, Counter>,
    pub(crate) events_duplicate: Family<SourceLabels, Counter>,
    pub(crate) events_rejected: Family<SourceLabels, Counter>,
    pub(crate) ingest_requests: Family<RequestLabels, Counter>,
    /// `GET /v1/personalize` answers by status (429: rate-limited).
    pub(crate) personalize_requests: Family<StatusLabels, Counter>,
    pub(crate) ingest_pending: Gauge,
    pub(crate) ingest_commit_seconds: Histogram,
    pub(crate) timers_pending: Gauge,
    pub(crate) evaluation_seconds: Family<QuantileLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub(crate) deliveries: Family<DeliveryLabels, Counter>,
    pub(crate) delivery_seconds: Histogram,
    pub(crate) outbox_depth: Family<OutboxLabels, Gauge>,
    pub(crate) connections_open: Gauge,
    pub(crate) connections_refused: Family<RefusalLabels, Counter>,
    pub(crate) identity_links_refused: Counter,
    pub(crate) retention_deleted: Counter,
    /// Requests to the enrichment provider by outcome (`answered`,
    /// `not_found`, `failed`).
    pub(crate) enrichment_requests: Family<OutcomeLabels, Counter>,
    /// The provider's last failure, for the ingestion page.
    pub(crate) enrichment_last_error: parking_lot::Mutex<Option<String>>,
    start_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    start_from_snapshot: Gauge,
    start_tail_messages: Gauge,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RefusalLabels {
    /// `evicted`: a connection in the reserved share closed for a newer
    /// one; `reserved_only`: a request other than /healthz and /metrics on
    /// a reserved connection.
    pub(crate) reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabels {
    pub(crate) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct QuantileLabels {
    pub(crate) quantile: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bellwether");
        let events_ingested = Family::<SourceLabels, Counter>::default();
        let events_duplicate = Family::<SourceLabels, Counter>::default();
        let events_rejected = Family::<SourceLabels, Counter>::default();
        let ingest_requests = Family::<RequestLabels, Counter>::default();
        let personalize_requests = Family::<StatusLabels, Counter>::default();
        let ingest_pending = Gauge::default();
        let timers_pending = Gauge::default();
        let evaluation_seconds =
            Family::<QuantileLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        let ingest_commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let delivery_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let outbox_depth = Family::<OutboxLabels, Gauge>::default();
        let connections_open = Gauge::default();
        let connections_refused = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "connections_open",
            "Open HTTP connections",
            connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "HTTP connections closed or requests refused for lack of connection slots",
            connections_refused.clone(),
        );
        let identity_links_refused = Counter::default();
        registry.register(
            "identity_links_refused",
            "Links refused by the identity rules: a message claimed an anonymous id or email \
             another user had claimed (see /api/v1/identity/conflicts)",
            identity_links_refused.clone(),
        );
        let retention_deleted = Counter::default();
        registry.register(
            "retention_deleted_events",
            "Track, page and screen events deleted because they were older than [retention] events",
            retention_deleted.clone(),
        );
        let enrichment_requests = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "enrichment_requests",
            "Requests to the [[enrichment]] kind = \"http\" provider by outcome",
            enrichment_requests.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by destination and outcome",
            deliveries.clone(),
        );
        registry.register(
            "webhook_attempt_seconds",
            "Time for one webhook attempt (request to response)",
            delivery_seconds.clone(),
        );
        registry.register(
            "outbox_depth",
            "Deliveries waiting (pending) or given up on (dead), per destination",
            outbox_depth.clone(),
        );
        registry.register(
            "events_ingested",
            "Messages durably stored",
            events_ingested.clone(),
        );
        registry.register(
            "events_duplicate",
            "Messages ignored as already stored (same messageId)",
            events_duplicate.clone(),
        );
        registry.register(
            "events_rejected",
            "Messages rejected as invalid",
            events_rejected.clone(),
        );
        registry.register(
            "ingest_requests",
            "Ingestion requests by endpoint and status",
            ingest_requests.clone(),
        );
        registry.register(
            "personalize_requests",
            "GET /v1/personalize lookups by status (429: over the per-key and address rate)",
            personalize_requests.clone(),
        );
        registry.register(
            "ingest_pending_messages",
            "Messages admitted and not yet committed",
            ingest_pending.clone(),
        );
        registry.register(
            "timers_pending",
            "Subjects waiting for a time-driven re-evaluation",
            timers_pending.clone(),
        );
        registry.register(
            "evaluation_seconds",
            "Time to re-evaluate one subject (recent evaluations)",
            evaluation_seconds.clone(),
        );
        registry.register(
            "ingest_ack_seconds",
            "Time from admission to durable commit of an ingestion request",
            ingest_commit_seconds.clone(),
        );
        let start_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "start_seconds",
            "Time the last start took to load the subjects and evaluate them",
            start_seconds.clone(),
        );
        let start_from_snapshot = Gauge::default();
        registry.register(
            "start_from_snapshot",
            "1 when the last start resumed from the engine snapshot, 0 when it read the whole store",
            start_from_snapshot.clone(),
        );
        let start_tail_messages = Gauge::default();
        registry.register(
            "start_tail_messages",
            "Messages the last start replayed after the engine snapshot",
            start_tail_messages.clone(),
        );
        Self {
            start_seconds,
            start_from_snapshot,
            start_tail_messages,
            registry,
            events_ingested,
            events_duplicate,
            events_rejected,
            ingest_requests,
            personalize_requests,
            ingest_pending,
            ingest_commit_seconds,
            timers_pending,
            evaluation_seconds,
            deliveries,
            delivery_seconds,
            outbox_depth,
            connections_open,
            connections_refused,
            identity_links_refused,
            retention_deleted,
            enrichment_requests,
            enrichment_last_error: parking_lot::Mutex::new(None),
        }
    }

    /// How the engine started: from the snapshot (with `tail` messages
    /// replayed after it) or from the whole store, in `seconds`.
    pub fn record_start(&self, from_snapshot: bool, tail: u64, seconds: f64) {
        self.start_seconds.set(seconds);
        self.start_from_snapshot.set(i64::from(from_snapshot));
        self.start_tail_messages
            .set(i64::try_from(tail).unwrap_or(i64::MAX));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
