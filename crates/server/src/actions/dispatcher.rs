//! Delivers the outbox: at least once, in order per (destination, subject),
//! with bounded concurrency, exponential backoff and jitter, `Retry-After`
//! honored, a destination disabled on 410 Gone, and dead letters after the
//! last attempt.
//!
//! The outbox rows are the truth: a delivery is marked done only after the
//! receiver answered 2xx, so a crash at any point re-sends (same
//! `webhook-id`) rather than loses. Only the head of each subject's queue
//! is ever in flight, which keeps per-subject order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bellwether_core::actions::config::{decode_secret, DestinationConfig};
use bellwether_core::actions::schedule::{self, Next, DEFAULT_SCHEDULE};
use bellwether_core::store::{AttemptOutcome, Delivery};
use bellwether_core::{Clock, Millis, Store};
use tokio::sync::{mpsc, Notify, Semaphore};

use super::signing::signature_header;
use crate::metrics::{DeliveryLabels, Metrics};

/// How often the queue is looked at when nothing wakes the dispatcher
/// (retries falling due, replays made from the CLI).
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Deliveries fetched per look.
const BATCH: usize = 1_024;
/// Attempts in flight at once, over all destinations.
const DEFAULT_CONCURRENCY: usize = 64;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long finished attempts gather before they are written together.
const RECORD_PAUSE: Duration = Duration::from_millis(5);

/// A destination ready to send: keys decoded, schedule parsed.
struct Target {
    config: DestinationConfig,
    keys: Vec<Vec<u8>>,
    schedule: Vec<Millis>,
    timeout: Duration,
}

impl Target {
    fn new(config: &DestinationConfig) -> Self {
        let keys = config
            .all_secrets()
            .filter_map(|s| decode_secret(s).ok())
            .collect();
        let schedule = config.retry_schedule.as_ref().map_or_else(
            || DEFAULT_SCHEDULE.to_vec(),
            |waits| {
                waits
                    .iter()
                    .filter_map(|w| bellwether_rules::parse_duration(w))
                    .collect()
            },
        );
        let timeout = config
            .timeout
            .as_deref()
            .and_then(bellwether_rules::parse_duration)
            .and_then(|ms| u64::try_from(ms).ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        Self {
            config: config.clone(),
            keys,
            schedule,
            timeout,
        }
    }
}

/// What the dispatcher needs from the server.
pub struct DispatcherParts {
    pub store: Arc<dyn Store>,
    pub destinations: Vec<DestinationConfig>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Notified when outbox rows are written.
    pub wake: Arc<Notify>,
}

/// The result of one attempt, back to the loop.
struct Attempted {
    id: String,
    destination: String,
    outcome: AttemptOutcome,
    /// The receiver answered 410 Gone: disable the destination.
    gone: bool,
}

/// Runs until `shutdown` resolves. Attempts in flight then are abandoned
/// unrecorded: they are sent again at the next start (same `webhook-id`).
pub async fn run(parts: DispatcherParts, shutdown: impl std::future::Future<Output = ()>) {
    let Ok(client) = reqwest::Client::builder()
        .user_agent(concat!("Bellwether/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        tracing::error!("cannot build the webhook http client; deliveries are not sent");
        return;
    };
    let targets: Arc<HashMap<String, Target>> = Arc::new(
        parts
            .destinations
            .iter()
            .map(|d| (d.name.clone(), Target::new(d)))
            .collect(),
    );
    let permits = Arc::new(Semaphore::new(DEFAULT_CONCURRENCY));
    let (results, finished) = mpsc::unbounded_channel::<Attempted>();
    // Ids whose attempt is written: only then may they be fetched again.
    let (recorded_tx, mut recorded) = mpsc::unbounded_channel::<Vec<String>>();
    tokio::spawn(record_attempts(
        Arc::clone(&parts.store),
        Arc::clone(&parts.clock),
        finished,
        recorded_tx,
    ));
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut look_again = true;
    tokio::pin!(shutdown);
    loop {
        if look_again {
            let due = fetch_due(&parts, &in_flight).await;
            // A full batch means more is waiting: look again right away.
            look_again = due.len() == BATCH;
            for (_, delivery) in due {
                in_flight.insert(delivery.record.id.clone());
                if !targets.contains_key(&delivery.record.destination) {
                    let _ = results.send(unknown_destination(&parts, &delivery));
                    continue;
                }
                let attempt = Attempt {
                    client: client.clone(),
                    targets: Arc::clone(&targets),
                    clock: Arc::clone(&parts.clock),
                    metrics: Arc::clone(&parts.metrics),
                    delivery,
                };
                let permits = Arc::clone(&permits);
                let results = results.clone();
                tokio::spawn(async move {
                    let Ok(_permit) = permits.acquire_owned().await else {
                        return;
                    };
                    if let Some(done) = attempt.run().await {
                        let _ = results.send(done);
                    }
                });
            }
            if look_again {
                continue;
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = parts.wake.notified() => look_again = true,
            () = tokio::time::sleep(POLL_EVERY) => look_again = true,
            Some(ids) = recorded.recv() => {
                for id in ids {
                    in_flight.remove(&id);
                }
                // The next delivery of those subjects may be due now.
                look_again = true;
            }
        }
    }
}

/// Due deliveries not already in flight (disabled destinations left out).
async fn fetch_due(parts: &DispatcherParts, in_flight: &HashSet<String>) -> Vec<(i64, Delivery)> {
    let store = Arc::clone(&parts.store);
    let now = parts.clock.now_ms();
    let due = tokio::task::spawn_blocking(move || {
        let disabled: Vec<String> = store
            .disabled_destinations()?
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        store.due_deliveries(now, &disabled, BATCH)
    })
    .await;
    match due {
        Ok(Ok(due)) => due
            .into_iter()
            .filter(|(_, d)| !in_flight.contains(&d.record.id))
            .collect(),
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot read the outbox");
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

/// A row for a destination no longer configured goes to the dead letters
/// (replayable once the destination is back).
fn unknown_destination(parts: &DispatcherParts, delivery: &Delivery) -> Attempted {
    Attempted {
        id: delivery.record.id.clone(),
        destination: delivery.record.destination.clone(),
        outcome: AttemptOutcome::Dead {
            at: parts.clock.now_ms(),
            status: None,
            error: format!(
                "destination {:?} is not configured",
                delivery.record.destination
            ),
        },
        gone: false,
    }
}

/// Writes finished attempts, one transaction at a time, each holding every
/// attempt that finished meanwhile (a short pause lets a busy queue fill
/// it: one fsync for many deliveries, and the ingest writer keeps the
/// store). Then hands the ids back to the loop.
async fn record_attempts(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut finished: mpsc::UnboundedReceiver<Attempted>,
    recorded: mpsc::UnboundedSender<Vec<String>>,
) {
    while let Some(first) = finished.recv().await {
        tokio::time::sleep(RECORD_PAUSE).await;
        let mut done = vec![first];
        while let Ok(more) = finished.try_recv() {
            done.push(more);
        }
        let ids = done.iter().map(|a| a.id.clone()).collect();
        record(Arc::clone(&store), Arc::clone(&clock), done).await;
        if recorded.send(ids).is_err() {
            return;
        }
    }
}

/// Writes finished attempts in one transaction, disables gone destinations.
async fn record(store: Arc<dyn Store>, clock: Arc<dyn Clock>, done: Vec<Attempted>) {
    let attempts: Vec<(String, AttemptOutcome)> = done
        .iter()
        .map(|a| (a.id.clone(), a.outcome.clone()))
        .collect();
    let gone: Vec<String> = done
        .iter()
        .filter(|a| a.gone)
        .map(|a| a.destination.clone())
        .collect();
    let now = clock.now_ms();
    let written = tokio::task::spawn_blocking(move || {
        store.record_attempts(&attempts)?;
        for destination in &gone {
            tracing::warn!(
                destination,
                "receiver answered 410 Gone: destination disabled"
            );
            store.set_destination_disabled(destination, Some((now, "410 Gone")))?;
        }
        Ok::<(), bellwether_core::StoreError>(())
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot record delivery attempts; they will be sent again")
        }
        Err(_) => tracing::error!("recording delivery attempts panicked"),
    }
}

/// One attempt of one delivery.
struct Attempt {
    client: reqwest::Client,
    targets: Arc<HashMap<String, Target>>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    delivery: Delivery,
}

impl Attempt {
    async fn run(self) -> Option<Attempted> {
        let record = &self.delivery.record;
        let target = self.targets.get(&record.destination)?;
        let timestamp = self.clock.now_ms().div_euclid(1_000);
        let signature = signature_header(&target.keys, &record.id, timestamp, &record.body);
        let started = Instant::now();
        let response = self
            .client
            .post(&target.config.url)
            .timeout(target.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &record.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(record.body.clone())
            .send()
            .await;
        let latency_ms = started.elapsed().as_secs_f64() * 1_000.0;
        let now = self.clock.now_ms();
        let attempts = self.delivery.attempts + 1;
        let (status, retry_after, error) = match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after_ms(response.headers(), now);
                (Some(status), retry_after, None)
            }
            Err(error) => (None, None, Some(describe(&error))),
        };
        let outcome = match status {
            Some(200..=299) => AttemptOutcome::Delivered {
                at: now,
                status: status.unwrap_or(200),
            },
            _ => {
                let error = error.unwrap_or_else(|| status_text(status));
                match schedule::after_failure(
                    &target.schedule,
                    attempts,
                    now,
                    retry_after,
                    rand::random::<f64>(),
                ) {
                    // Gone: parked until the destination is enabled again.
                    _ if status == Some(410) => AttemptOutcome::Retry {
                        at: now,
                        next_at: now,
                        status,
                        error,
                    },
                    Next::RetryAt(next_at) => AttemptOutcome::Retry {
                        at: now,
                        next_at,
                        status,
                        error,
                    },
                    Next::GiveUp => AttemptOutcome::Dead {
                        at: now,
                        status,
                        error,
                    },
                }
            }
        };
        self.log(target, attempts, status, latency_ms, &outcome);
        Some(Attempted {
            id: record.id.clone(),
            destination: record.destination.clone(),
            gone: status == Some(410),
            outcome,
        })
    }

    fn log(
        &self,
        target: &Target,
        attempt: u32,
        status: Option<u16>,
        latency_ms: f64,
        outcome: &AttemptOutcome,
    ) {
        let record = &self.delivery.record;
        let (label, result) = match outcome {
            AttemptOutcome::Delivered { .. } => ("delivered", None),
            AttemptOutcome::Retry { error, .. } => ("retry", Some(error.as_str())),
            AttemptOutcome::Dead { error, .. } => ("dead", Some(error.as_str())),
        };
        self.metrics
            .deliveries
            .get_or_create(&DeliveryLabels {
                destination: record.destination.clone(),
                outcome: label,
            })
            .inc();
        self.metrics.delivery_seconds.observe(latency_ms / 1_000.0);
        // Successes at debug (a busy destination would flood the log);
        // failures always show.
        macro_rules! attempt_event {
            ($level:ident) => {
                tracing::$level!(
                    destination = %record.destination,
                    url = %target.config.redacted_url(),
                    webhook_id = %record.id,
                    attempt,
                    status = status.map(i64::from).unwrap_or(-1),
                    latency_ms = format!("{latency_ms:.1}"),
                    outcome = label,
                    error = result.unwrap_or(""),
                    "webhook attempt"
                )
            };
        }
        match outcome {
            AttemptOutcome::Delivered { .. } => attempt_event!(debug),
            _ => attempt_event!(warn),
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date, as a wait in milliseconds.
fn retry_after_ms(headers: &reqwest::header::HeaderMap, now: Millis) -> Option<Millis> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds.max(0).saturating_mul(1_000));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some(i64::try_from(at).ok()? - now)
}

fn status_text(status: Option<u16>) -> String {
    match status {
        Some(status) => format!("receiver answered {status}"),
        None => "no response".to_owned(),
    }
}

/// A transport error in one line, without the URL (it may hold credentials).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "30".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after_ms(&headers, 0), Some(30_000));
        let now = 1_700_000_000_000;
        let date = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_120_000),
        );
        headers.insert(
            reqwest::header::RETRY_AFTER,
            date.parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after_ms(&headers, now), Some(120_000));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "soon".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after_ms(&headers, now), None);
    }

    #[test]
    fn a_default_destination_uses_the_default_schedule_and_timeout() {
        let config: DestinationConfig = toml::from_str(
            "name='a'\nurl='http://127.0.0.1:1/'\nsecret='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'\nsegments=['s']",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let target = Target::new(&config);
        assert_eq!(target.schedule, DEFAULT_SCHEDULE.to_vec());
        assert_eq!(target.timeout, DEFAULT_TIMEOUT);
        assert_eq!(target.keys.len(), 1);
        let config = DestinationConfig {
            retry_schedule: Some(vec!["100ms".into(), "2s".into()]),
            timeout: Some("500ms".into()),
            ..config
        };
        let target = Target::new(&config);
        assert_eq!(target.schedule, vec![100, 2_000]);
        assert_eq!(target.timeout, Duration::from_millis(500));
    }
}
