//! The digest scheduler: wakes every `poll` (a clock comparison, no IO),
//! and when a digest's latest send instant is past the period it last
//! queued, computes the digest of the period ending at that instant and
//! commits its outbox row with the period (`WriteOp::DigestSent`) in one
//! transaction. The dispatcher then delivers it like any webhook (signed,
//! retried, dead-lettered). Once per period, across restarts: the period
//! is read back from the store at start.
//!
//! A digest seen for the first time starts from its next send instant (the
//! period it was added in is marked, not sent). After downtime, only the
//! latest missed period is sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bellwether_core::digest::{self, DigestConfig, Schedule};
use bellwether_core::store::{DigestSentRecord, WriteOp};
use bellwether_core::Millis;

use crate::error::ApiError;
use crate::AppState;

/// Default time between looks at the clock.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// After a failed attempt, the digest is tried again this much later.
const RETRY_AFTER_MS: Millis = 60_000;

/// What the scheduler works with.
pub struct DigestParts {
    pub state: AppState,
    /// How often the clock is looked at ([`DEFAULT_POLL`]).
    pub poll: Duration,
}

/// One configured digest and where it stands.
struct Entry {
    config: DigestConfig,
    schedule: Schedule,
    /// The end of the latest period queued (or marked at first sight).
    last_period_end: Millis,
    /// Not before this instant after a failure.
    retry_at: Millis,
}

/// Runs until `shutdown` resolves.
pub async fn run(parts: DigestParts, shutdown: impl std::future::Future<Output = ()>) {
    let state = parts.state;
    if state.config.digest.is_empty() {
        return;
    }
    let mut entries = match start(&state).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::error!(%error, "cannot read the digests sent; digests are not sent");
            return;
        }
    };
    tokio::pin!(shutdown);
    loop {
        let now = state.clock.now_ms();
        for entry in &mut entries {
            let (_, due) = entry.schedule.last_at_or_before(now);
            if due > entry.last_period_end && now >= entry.retry_at {
                match queue(&state, &entry.config, &entry.schedule, due, now).await {
                    Ok(()) => entry.last_period_end = due,
                    Err(error) => {
                        entry.retry_at = now + RETRY_AFTER_MS;
                        tracing::error!(digest = %entry.config.name, %error, "digest not queued; trying again in a minute");
                    }
                }
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(parts.poll) => {}
        }
    }
}

/// Reads the periods already queued; marks the current period of digests
/// seen for the first time.
async fn start(state: &AppState) -> Result<Vec<Entry>, ApiError> {
    let store = state.store.clone();
    let sent = tokio::task::spawn_blocking(move || store.digests_sent()).await??;
    let sent: HashMap<String, Millis> = sent.into_iter().map(|r| (r.name, r.period_end)).collect();
    let now = state.clock.now_ms();
    let mut entries = Vec::new();
    let mut marks = Vec::new();
    for config in &state.config.digest {
        let Ok(schedule) = config.schedule() else {
            continue; // refused when the config loaded
        };
        let last_period_end = match sent.get(&config.name) {
            Some(end) => *end,
            None => {
                let (_, current) = schedule.last_at_or_before(now);
                marks.push(WriteOp::DigestSent(DigestSentRecord {
                    name: config.name.clone(),
                    period_end: current,
                    sent_at: now,
                }));
                current
            }
        };
        entries.push(Entry {
            config: config.clone(),
            schedule,
            last_period_end,
            retry_at: Millis::MIN,
        });
    }
    if !marks.is_empty() {
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || store.apply(&marks)).await??;
    }
    Ok(entries)
}

/// Computes the digest of the period ending at `due` and commits its
/// outbox row with the period, in one transaction.
async fn queue(
    state: &AppState,
    config: &DigestConfig,
    schedule: &Schedule,
    due: Millis,
    now: Millis,
) -> Result<(), ApiError> {
    let window = schedule.window_ending(due);
    let content = super::compute(state, config, window, now).await?;
    let record = digest::outbox_record(&content, &config.destination, config.format, due);
    let id = record.id.clone();
    let ops = vec![
        WriteOp::Outbox(record),
        WriteOp::DigestSent(DigestSentRecord {
            name: config.name.clone(),
            period_end: due,
            sent_at: now,
        }),
    ];
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || store.apply(&ops)).await??;
    state.engine.outbox_written().notify_one();
    tracing::info!(
        digest = %config.name,
        destination = %config.destination,
        webhook_id = %id,
        period_end = %bellwether_rules::format_time(due),
        "digest queued"
    );
    Ok(())
}
