//! A start with no usable snapshot reads the whole store: the identity
//! replay and the subjects load run side by side on one read of the
//! stored events ([`crate::event_pages`]: reading and decoding them is
//! most of either pass).
//!
//! A store written under older identity rules is corrected when the
//! replay ends (contacts an older rule merged are split, their events
//! re-homed). The subjects loaded beside the replay describe the rows as
//! they were, so they are loaded again from the corrected store: a second
//! read, paid only on an upgrade across a rule change.

use bellwether_rules::PropertyKeys;

use crate::engine::Subjects;
use crate::event_pages;
use crate::identity::{IdentityConfig, IdentityGraph};
use crate::ingest::{apply_identity_corrections, prepare_identity_rebuild};
use crate::progress::Progress;
use crate::store::{Store, StoreError};

/// What a read of the whole store starts from.
pub struct WholeStore {
    /// The identity graph replayed from every stored message.
    pub graph: IdentityGraph,
    /// Every subject, as the store holds it after the corrections.
    pub subjects: Subjects,
    /// Writes that corrected contacts stored under older identity rules
    /// (none on a store written under the current ones).
    pub corrections: usize,
}

const IDENTITY_THREAD: &str = "identity replay";

/// Replays the stored messages into a fresh identity graph (SPEC §7
/// identity rules) and loads every subject, keeping only the `keep`
/// properties of each event, from one read of the store. `progress` is
/// told `(replayed, total)` messages.
pub fn replay_and_load(
    store: &dyn Store,
    identity: &IdentityConfig,
    keep: PropertyKeys,
    progress: &mut (dyn Progress + Send),
) -> Result<WholeStore, StoreError> {
    prepare_identity_rebuild(store, identity)?;
    // The union of what the two passes keep: the definitions' properties;
    // of the context, the page (rules) and the address (`reveal_by_ip`).
    let property = |key: &str| keep.contains(key);
    let context = |key: &str| key == "page" || key == "ip";
    let (replayed, loaded) = event_pages::read_beside(
        store,
        &property,
        &context,
        None,
        |[for_identity, for_subjects]| {
            std::thread::scope(|scope| {
                let replay = std::thread::Builder::new()
                    .name("bellwether-identity".into())
                    .spawn_scoped(scope, || {
                        IdentityGraph::rebuild_from(identity.clone(), store, for_identity, progress)
                    })
                    .map_err(|source| StoreError::Thread {
                        name: IDENTITY_THREAD,
                        source,
                    })?;
                let loaded = Subjects::load_pages(store, keep.clone(), for_subjects);
                let replayed = replay.join().unwrap_or(Err(StoreError::ThreadPanicked {
                    name: IDENTITY_THREAD,
                }));
                Ok((replayed?, loaded?))
            })
        },
    )?;
    let (graph, corrections) = replayed;
    let graph = apply_identity_corrections(store, graph, &corrections)?;
    let subjects = match corrections.is_empty() {
        true => loaded,
        false => {
            drop(loaded);
            Subjects::load(store, keep)?
        }
    };
    Ok(WholeStore {
        graph,
        subjects,
        corrections: corrections.len(),
    })
}
