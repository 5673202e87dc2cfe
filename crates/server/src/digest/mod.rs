//! `[[digest]]` at run time: the scheduler that queues each digest once
//! per period (`schedule`), and the one computation the scheduler and the
//! preview endpoint share ([`compute`]): a published view of the engine,
//! in a report slot, off the async runtime.

mod schedule;

pub use schedule::{run, DigestParts, DEFAULT_POLL};

use bellwether_core::digest::{self, Digest, DigestConfig, Window};
use bellwether_core::reports;
use bellwether_core::Millis;

use crate::error::ApiError;
use crate::AppState;

/// The digest of `window` as of `now`: reads the recorded history (flushed
/// first) and a published view, never the engine's lock (except to load
/// event properties an outcome reads that the engine does not hold yet,
/// like every report).
pub(crate) async fn compute(
    state: &AppState,
    config: &DigestConfig,
    window: Window,
    now: Millis,
) -> Result<Digest, ApiError> {
    let _slot = state.report_slots.acquire().await?;
    let engine = state.engine.clone();
    let store = state.store.clone();
    let config = config.clone();
    let digest = tokio::task::spawn_blocking(move || {
        engine.flush_records();
        reports::with_handle(&engine, store.as_ref(), |view| {
            digest::compute(&config, view, store.as_ref(), window, now)
        })
    })
    .await??;
    Ok(digest)
}
