//! The messages stored after a snapshot's position, replayed the way the
//! writer committed them: each is resolved by the identity graph (the same
//! [`stage_message`] the writer runs, so contacts, merges and re-homed
//! messages come out identical) and its writes are applied to the
//! subjects, as the engine applied them live.

use crate::engine::Subjects;
use crate::identity::IdentityGraph;
use crate::ingest::stage_message;
use crate::progress::Progress;
use crate::store::{Store, StoreError};

const PAGE: usize = 10_000;

/// Replays every stored message after the subjects' position; returns how
/// many there were.
pub(super) fn replay(
    store: &dyn Store,
    graph: &mut IdentityGraph,
    subjects: &mut Subjects,
    progress: &mut dyn Progress,
) -> Result<u64, StoreError> {
    let start = subjects.position();
    let mut page = store.scan_events(start, PAGE)?;
    if page.is_empty() {
        // Nothing to replay: no need to count the store's events (two
        // scans of the whole table).
        return Ok(0);
    }
    let total = store
        .event_count()?
        .saturating_sub(store.events_through(start)?);
    let mut done = 0;
    let mut ops = Vec::new();
    while let Some(last) = page.last() {
        let after = last.seq;
        for event in page {
            ops.clear();
            stage_message(graph, event.message, event.seq, &mut ops);
            subjects.0.apply(&ops);
            done += 1;
        }
        progress.advanced(done, total);
        page = store.scan_events(after, PAGE)?;
    }
    Ok(done)
}
