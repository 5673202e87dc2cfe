//! What `serve` and `eval` start from: the engine snapshot and the
//! messages stored after it when the snapshot still describes the store,
//! else the whole store (identity replay, then every event), with progress
//! bars on a terminal.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use bellwether_core::engine::{Engine, LoadOptions, Recorded, Subjects};
use bellwether_core::identity::{IdentityConfig, IdentityGraph};
use bellwether_core::snapshot::{self, Resumed};
use bellwether_core::{whole_store, Store};
use bellwether_rules::PropertyKeys;

use crate::progress;

/// The event properties a server keeps: what the definitions read, and
/// what the default report outcome reads (its figures never wait on a
/// reload from the store).
pub(crate) fn kept_properties(
    config: &bellwether_core::config::Config,
    definitions: &bellwether_rules::RuleSet,
) -> PropertyKeys {
    definitions
        .property_keys()
        .union(&config.reports.property_keys(definitions))
}

/// Where the subjects came from.
pub(crate) struct Start {
    /// `None` for a read-only start that did not need it.
    pub(crate) graph: Option<IdentityGraph>,
    pub(crate) subjects: Subjects,
    /// The recorded history, when asked for (read beside the subjects).
    pub(crate) recorded: Option<Recorded>,
    /// Messages replayed after the snapshot.
    pub(crate) tail: u64,
    /// When a snapshot was used: the stored events it covers (`None`: the
    /// store was read whole).
    pub(crate) snapshot_events: Option<u64>,
}

/// What a start reads besides the subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// The server: the identity graph and the recorded history.
    GraphAndHistory,
    /// Reports and checks: the recorded history.
    History,
    /// `eval`: nothing else.
    Nothing,
}

/// Resumes from the snapshot in `data_dir`, else reads the store; reads
/// the recorded history (`reads`) on a thread of its own meanwhile: it
/// does not depend on the events.
pub(crate) fn start(
    store: &dyn Store,
    data_dir: &Path,
    identity: &IdentityConfig,
    keep: PropertyKeys,
    reads: Reads,
) -> anyhow::Result<Start> {
    let need_graph = reads == Reads::GraphAndHistory;
    if need_graph {
        // The writer's start: what a crash cut short is finished first.
        bellwether_core::ingest::finish_deletions(store)
            .context("cannot finish an interrupted deletion")?;
    }
    std::thread::scope(|scope| {
        let recorded = (reads != Reads::Nothing).then(|| {
            std::thread::Builder::new()
                .name("bellwether-recorded".into())
                .spawn_scoped(scope, || Recorded::read(store))
        });
        let start = subjects(store, data_dir, identity, keep, need_graph);
        let recorded = match recorded {
            Some(thread) => Some(
                thread
                    .context("cannot start the recorded history thread")?
                    .join()
                    .map_err(|_| anyhow::anyhow!("the recorded history read panicked"))?
                    .context("cannot read the recorded history")?,
            ),
            None => None,
        };
        Ok(Start { recorded, ..start? })
    })
}

/// The subjects (and the identity graph when `need_graph`): from the
/// snapshot, else from the whole store.
fn subjects(
    store: &dyn Store,
    data_dir: &Path,
    identity: &IdentityConfig,
    keep: PropertyKeys,
    need_graph: bool,
) -> anyhow::Result<Start> {
    let started = Instant::now();
    let path = snapshot::path_in(data_dir);
    let bar = progress::bar(
        0,
        "{spinner} snapshot tail [{bar:40}] {pos}/{len} messages (eta {eta})",
    );
    let resumed = snapshot::resume(&path, store, identity, &keep, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .context("cannot read the store after the engine snapshot")?;
    bar.finish_and_clear();
    match resumed {
        Ok(Resumed {
            graph,
            subjects,
            tail,
            events,
        }) => {
            tracing::info!(
                snapshot = %path.display(),
                position = subjects.position(),
                tail,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "resumed from the engine snapshot"
            );
            Ok(Start {
                graph: Some(graph),
                subjects,
                recorded: None,
                tail,
                snapshot_events: Some(events),
            })
        }
        Err(stale) => {
            tracing::info!(reason = %stale, "engine snapshot not used: reading the whole store");
            let (graph, subjects) = match need_graph {
                true => replay_and_load(store, identity, keep)?,
                false => (None, load_subjects(store, keep)?),
            };
            Ok(Start {
                graph,
                subjects,
                recorded: None,
                tail: 0,
                snapshot_events: None,
            })
        }
    }
}

/// A read-only engine with the recorded history brought up to `at` (what
/// reports, backtests and lint read), started from the snapshot when it
/// still describes the store.
pub(crate) fn engine_as_of(
    store: &dyn Store,
    data_dir: &Path,
    identity: &IdentityConfig,
    definitions: bellwether_rules::RuleSet,
    at: bellwether_core::Millis,
) -> anyhow::Result<Engine> {
    let keep = definitions.property_keys();
    let start = start(store, data_dir, identity, keep, Reads::History)?;
    let options = LoadOptions {
        recorded: start.recorded,
        ..LoadOptions::default()
    };
    Engine::start(
        store,
        std::sync::Arc::new(definitions),
        start.subjects,
        options,
        at,
        &mut |_, _| {},
    )
    .context("cannot load the recorded history")
}

/// The identity replay and the subjects load side by side, from one read
/// of the store (reading and decoding the events is most of each); a
/// store the replay corrected is loaded again.
fn replay_and_load(
    store: &dyn Store,
    identity: &IdentityConfig,
    keep: PropertyKeys,
) -> anyhow::Result<(Option<IdentityGraph>, Subjects)> {
    let started = Instant::now();
    let bar = progress::bar(
        0,
        "{spinner} identity [{bar:40}] {pos}/{len} messages (eta {eta})",
    );
    let whole = whole_store::replay_and_load(store, identity, keep, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .context("cannot read the whole store")?;
    bar.finish_and_clear();
    tracing::info!(
        contacts = whole.graph.live_contacts(),
        position = whole.subjects.position(),
        corrections = whole.corrections,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "identity graph rebuilt and subjects loaded from the store"
    );
    Ok((Some(whole.graph), whole.subjects))
}

fn load_subjects(store: &dyn Store, keep: PropertyKeys) -> anyhow::Result<Subjects> {
    let started = Instant::now();
    let subjects = Subjects::load(store, keep).context("cannot load the stored events")?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        position = subjects.position(),
        "subjects loaded from the store"
    );
    Ok(subjects)
}
