//! The retention schedule (`[retention]`, SPEC §7): a pass at start, then
//! one every `every`, deleting the track, page and screen events older than
//! `events` before now. Each pass runs on the writer thread in small steps
//! (`Ingestor::expire_before`), so ingestion goes on between them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bellwether_core::config::RetentionConfig;
use bellwether_core::ingest::Ingestor;
use bellwether_core::Clock;

use crate::metrics::Metrics;
use crate::segment::format_timestamp;

/// Runs passes until `stop` completes; returns at once without a policy.
pub async fn run(
    ingestor: Ingestor,
    retention: RetentionConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()>,
) {
    let Some(keep) = retention.events_ms() else {
        return;
    };
    let every = Duration::from_millis(u64::try_from(retention.every_ms()).unwrap_or(3_600_000));
    tokio::pin!(stop);
    loop {
        let before = clock.now_ms().saturating_sub(keep);
        let started = Instant::now();
        tokio::select! {
            _ = &mut stop => return,
            done = ingestor.expire_before(before) => match done {
                Ok(deleted) => {
                    metrics.retention_deleted.inc_by(deleted as u64);
                    tracing::info!(
                        deleted,
                        cutoff = %format_timestamp(before),
                        seconds = started.elapsed().as_secs_f64(),
                        "retention pass"
                    );
                }
                Err(error) => tracing::error!(%error, "retention pass failed"),
            },
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
