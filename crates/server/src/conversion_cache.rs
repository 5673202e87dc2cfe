//! Each segment's conversion, lift and revenue for the default outcome
//! (`[reports]`), kept in the background so the dashboard and the segment
//! pages read figures instead of computing a report per request.
//!
//! Refreshed one segment at a time, each in a report slot: a segment is
//! recomputed when it has no figures yet, when its definition changed, or
//! when the engine evaluated anything since (new events, timers, merges)
//! and its figures are older than `[reports] refresh`; and at the latest
//! every [`MAX_AGE`], as the 90-day period slides. A report costs what the
//! segment's history costs, so a segment also waits [`QUIET_FACTOR`] times
//! its last computation before the next: the background work stays under
//! about 1/`QUIET_FACTOR` of one core however large the store grows.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bellwether_core::Millis;
use parking_lot::Mutex;

use crate::api::report_views::ConversionView;
use crate::api::reports::{conversion_view, ConversionQuery};
use crate::AppState;

/// Figures older than this are recomputed even when nothing changed.
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// A segment's figures are kept at least this many times as long as
/// they took to compute.
pub const QUIET_FACTOR: u32 = 20;
/// How long the refresher sleeps when every segment is fresh.
const IDLE: Duration = Duration::from_secs(2);

/// One segment's figures.
#[derive(Clone)]
pub(crate) struct Standing {
    /// The report, or why it could not be computed.
    pub(crate) report: Result<Arc<ConversionView>, String>,
    /// The engine clock when it was computed.
    pub(crate) computed_at: Millis,
}

struct Entry {
    standing: Standing,
    /// The definition text it was computed for.
    definition: String,
    /// The engine's evaluation count when it was computed.
    evaluations: u64,
    refreshed: Instant,
    /// How long computing it took.
    took: Duration,
}

/// The figures, by segment.
#[derive(Default)]
pub struct ConversionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ConversionCache {
    /// A segment's figures, if computed.
    pub(crate) fn get(&self, segment: &str) -> Option<Standing> {
        self.entries.lock().get(segment).map(|e| e.standing.clone())
    }
}

/// Why a segment needs recomputing, if it does.
fn stale(
    entry: Option<&Entry>,
    definition: &str,
    evaluations: u64,
    refresh: Duration,
    now: Instant,
) -> Option<u8> {
    let Some(entry) = entry else { return Some(0) };
    let age = now.saturating_duration_since(entry.refreshed);
    let quiet = entry.took * QUIET_FACTOR;
    match () {
        _ if entry.definition != definition => Some(1),
        _ if age < quiet => None,
        _ if entry.evaluations != evaluations && age >= refresh => Some(2),
        _ if age >= MAX_AGE => Some(3),
        _ => None,
    }
}

/// Recomputes the segment that needs it most (never computed first, then
/// changed definitions, then new data, then old figures); returns whether
/// there was one. Segments no longer defined are dropped.
pub async fn refresh_next(state: &AppState) -> bool {
    let Some(spec) = state.config.reports.outcome_spec() else {
        return false;
    };
    let view = state.engine.view_async().await;
    let evaluations = view.total_evaluations();
    let refresh = Duration::from_millis(state.config.reports.refresh_ms().max(0) as u64);
    let segments: Vec<(String, String)> = view
        .rules()
        .definitions()
        .segment
        .iter()
        .map(|s| (s.name.clone(), s.when.clone()))
        .collect();
    drop(view);
    let next = {
        let now = Instant::now();
        let mut entries = state.conversion_cache.entries.lock();
        entries.retain(|name, _| segments.iter().any(|(s, _)| s == name));
        segments
            .iter()
            .filter_map(|(name, definition)| {
                stale(entries.get(name), definition, evaluations, refresh, now)
                    .map(|why| (why, name, definition))
            })
            .min_by_key(|(why, _, _)| *why)
            .map(|(_, name, definition)| (name.clone(), definition.clone()))
    };
    let Some((segment, definition)) = next else {
        return false;
    };
    let query = ConversionQuery {
        segment: Some(segment.clone()),
        outcome: Some(spec.selector.clone()),
        horizon: Some(state.config.reports.horizon_text().to_owned()),
        value: spec.value.clone(),
        pipeline: spec.pipeline.clone(),
        ..ConversionQuery::default()
    };
    let computed_at = state.engine.now();
    let started = Instant::now();
    let report = conversion_view(state, &query)
        .await
        .map(Arc::new)
        .map_err(|error| error.to_string());
    if let Err(error) = &report {
        tracing::warn!(%segment, %error, "cannot compute the default conversion");
    }
    state.conversion_cache.entries.lock().insert(
        segment,
        Entry {
            standing: Standing {
                report,
                computed_at,
            },
            definition,
            evaluations,
            refreshed: Instant::now(),
            took: started.elapsed(),
        },
    );
    true
}

/// Keeps the figures fresh until `shutdown` resolves (nothing to do
/// without a `[reports] outcome`).
pub async fn run(state: AppState, shutdown: impl Future<Output = ()>) {
    if state.config.reports.outcome.is_none() {
        return;
    }
    tokio::pin!(shutdown);
    loop {
        let pause = match refresh_next(&state).await {
            // Let other reports have the slot between two segments.
            true => Duration::from_millis(50),
            false => IDLE,
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(definition: &str, evaluations: u64, refreshed: Instant, took: Duration) -> Entry {
        Entry {
            standing: Standing {
                report: Err("unused".into()),
                computed_at: 0,
            },
            definition: definition.into(),
            evaluations,
            refreshed,
            took,
        }
    }

    #[test]
    fn a_segment_is_recomputed_only_when_something_it_reads_may_have_changed() {
        let minute = Duration::from_secs(60);
        let then = Instant::now();
        let (soon, later) = (then + Duration::from_secs(1), then + 2 * minute);
        let at = |evaluations| entry("x", evaluations, then, Duration::from_millis(10));
        assert_eq!(stale(None, "x", 1, minute, soon), Some(0));
        assert_eq!(stale(Some(&at(1)), "y", 1, minute, soon), Some(1));
        // New data, but the figures are younger than the refresh interval.
        assert_eq!(stale(Some(&at(1)), "x", 2, minute, soon), None);
        assert_eq!(stale(Some(&at(1)), "x", 2, minute, later), Some(2));
        // Nothing new: kept until they are too old.
        assert_eq!(stale(Some(&at(1)), "x", 1, minute, later), None);
        assert_eq!(stale(Some(&at(1)), "x", 1, minute, then + MAX_AGE), Some(3));
        // A report that took 10 s waits 200 s, new data or not; a changed
        // definition does not wait.
        let slow = entry("x", 1, then, Duration::from_secs(10));
        assert_eq!(stale(Some(&slow), "x", 2, minute, later), None);
        assert_eq!(
            stale(Some(&slow), "x", 2, minute, then + 4 * minute),
            Some(2)
        );
        assert_eq!(stale(Some(&slow), "y", 1, minute, soon), Some(1));
    }
}
