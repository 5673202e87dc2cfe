//! What an import leaves for the next start: the engine snapshot (identity
//! graph and subjects) as of its last message. The subjects are built
//! beside the writer from what it commits, as a running server's are, so
//! the first `serve` after an import reads one file instead of reading
//! and decoding every stored event again.
//!
//! Kept only when the import starts from what it can describe exactly: an
//! empty store, or a snapshot that still describes the store (resumed,
//! which also spares the writer its identity replay). Otherwise the
//! snapshot on disk is left as it is and the next start reads the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bellwether_core::engine::Subjects;
use bellwether_core::identity::{IdentityConfig, IdentityGraph};
use bellwether_core::ingest::{rebuild_identity, CommitListener};
use bellwether_core::snapshot::{self, Resumed};
use bellwether_core::store::WriteOp;
use bellwether_core::Store;
use bellwether_rules::PropertyKeys;
use parking_lot::Mutex;

/// Subjects kept beside an import's writer, and where their snapshot goes.
pub(crate) struct KeptSubjects {
    path: PathBuf,
    subjects: Arc<Mutex<Subjects>>,
}

/// The writer's commit listener: applies every committed write.
struct Applier(Arc<Mutex<Subjects>>);

impl CommitListener for Applier {
    fn committed(&mut self, ops: &[WriteOp]) {
        self.0.lock().apply(ops);
    }
}

impl KeptSubjects {
    /// The identity graph to start the writer from and the subjects to
    /// keep beside it, when the store is empty or the snapshot in
    /// `data_dir` still describes it; `None` otherwise.
    pub(crate) fn prepare(
        store: &dyn Store,
        data_dir: &Path,
        identity: &IdentityConfig,
        keep: PropertyKeys,
    ) -> anyhow::Result<Option<(IdentityGraph, Self)>> {
        let path = snapshot::path_in(data_dir);
        let empty = store.load_identity()?.max_seq == 0;
        let (graph, subjects) = if empty {
            let graph = rebuild_identity(store, identity.clone(), &mut |_, _| {})?;
            (graph, Subjects::empty(keep))
        } else {
            // The writer's start: what a crash cut short is finished first
            // (`rebuild_identity` does it on the other path).
            bellwether_core::ingest::finish_deletions(store)
                .context("cannot finish an interrupted deletion")?;
            let resumed = snapshot::resume(&path, store, identity, &keep, &mut |_, _| {})
                .context("cannot read the store after the engine snapshot")?;
            match resumed {
                Ok(Resumed {
                    graph, subjects, ..
                }) => (graph, subjects),
                Err(stale) => {
                    tracing::info!(
                        reason = %stale,
                        "engine snapshot not kept by this import: the next start reads the whole store"
                    );
                    return Ok(None);
                }
            }
        };
        let subjects = Arc::new(Mutex::new(subjects));
        Ok(Some((graph, Self { path, subjects })))
    }

    /// The listener that keeps the subjects as the writer commits.
    pub(crate) fn listener(&self) -> Box<dyn CommitListener> {
        Box::new(Applier(Arc::clone(&self.subjects)))
    }

    /// Writes the snapshot once the writer stopped (`graph` is the one it
    /// returned). A failure costs only the next start's time: it is
    /// logged, and the import stands.
    pub(crate) fn save(self, store: &dyn Store, graph: &IdentityGraph) {
        let started = Instant::now();
        let subjects = self.subjects.lock();
        let written = snapshot::save_subjects(&self.path, store, graph, &subjects);
        match written {
            Ok(bytes) => tracing::info!(
                snapshot = %self.path.display(),
                position = subjects.position(),
                bytes,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "engine snapshot written for the next start"
            ),
            Err(error) => tracing::warn!(
                %error,
                "engine snapshot not written: the next start reads the whole store"
            ),
        }
    }
}
