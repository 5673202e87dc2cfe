//! Running the engine in a server: a shared handle, the commit listener that
//! feeds it every committed write, and the timer thread that sleeps until the
//! next deadline (woken early when a write may have brought one closer).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::recorder::Recorder;
use super::{Change, Engine};
use crate::actions::router::ActionRouter;
use crate::clock::Clock;
use crate::ingest::CommitListener;
use crate::store::{Store, WriteOp};

/// Longest sleep of the timer thread: a bound on how late a deadline set by
/// a clock jump could be noticed. Deadlines themselves wake it on time.
const MAX_SLEEP: Duration = Duration::from_millis(500);

/// Longest a checkpoint lags while nothing changes: what a restart after a
/// crash replays at most.
const CHECKPOINT_EVERY_MS: i64 = 10_000;

/// Changes buffered per slow stream subscriber before it is told it lagged.
const STREAM_BUFFER: usize = 4_096;

struct Shared {
    engine: Mutex<Engine>,
    /// Assignments and outbox rows for each change (taken with the engine
    /// lock held, so rows are made in the engine's order).
    router: Mutex<ActionRouter>,
    /// Woken when outbox rows are written (the dispatcher waits on it).
    outbox_written: Arc<tokio::sync::Notify>,
    /// Writes membership changes and score history (none in unit tests).
    recorder: Option<Recorder>,
    /// When the last checkpoint was queued.
    last_checkpoint: AtomicI64,
    changes: tokio::sync::broadcast::Sender<Change>,
    clock: Arc<dyn Clock>,
    wake: Condvar,
    wake_lock: Mutex<()>,
    stopping: AtomicBool,
    /// Where snapshots taken while running go, with the store they
    /// describe (none in tests and one-shot commands).
    snapshots: Mutex<Option<(std::path::PathBuf, Arc<dyn Store>)>>,
}

/// A cheap, cloneable handle to the running engine.
#[derive(Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

impl EngineHandle {
    pub fn new(engine: Engine, clock: Arc<dyn Clock>) -> Self {
        let outbox_written = Arc::new(tokio::sync::Notify::new());
        Self::build(engine, clock, None, ActionRouter::default(), outbox_written)
    }

    /// A handle that records every membership change in `store`, starting
    /// with those the engine recorded while loading.
    pub fn recording(
        engine: Engine,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
    ) -> std::io::Result<Self> {
        Self::recording_with(engine, clock, store, ActionRouter::default())
    }

    /// [`EngineHandle::recording`], with each change routed by `router`
    /// (owner assignments and outbox rows, committed with the change).
    pub fn recording_with(
        engine: Engine,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        router: ActionRouter,
    ) -> std::io::Result<Self> {
        let outbox_written = Arc::new(tokio::sync::Notify::new());
        let recorder = Recorder::start(store, Arc::clone(&outbox_written))?;
        let handle = Self::build(engine, clock, Some(recorder), router, outbox_written);
        // Durable before anything is served: a crash from here on replays
        // from this checkpoint at the latest, so no transition is lost.
        handle.publish_with_checkpoint(handle.lock(), Vec::new(), true);
        handle.flush_records();
        Ok(handle)
    }

    fn build(
        engine: Engine,
        clock: Arc<dyn Clock>,
        recorder: Option<Recorder>,
        router: ActionRouter,
        outbox_written: Arc<tokio::sync::Notify>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                recorder,
                router: Mutex::new(router),
                outbox_written,
                last_checkpoint: AtomicI64::new(i64::MIN / 2),
                engine: Mutex::new(engine),
                changes: tokio::sync::broadcast::channel(STREAM_BUFFER).0,
                clock,
                wake: Condvar::new(),
                wake_lock: Mutex::new(()),
                stopping: AtomicBool::new(false),
                snapshots: Mutex::new(None),
            }),
        }
    }

    /// Locks the engine for reading or driving it (tests use this to
    /// `process_due` with a manual clock).
    pub fn lock(&self) -> MutexGuard<'_, Engine> {
        self.shared.engine.lock()
    }

    pub fn now(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Every membership change from now on, as it is recorded.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.shared.changes.subscribe()
    }

    /// Records `changes`, plus whatever else the engine recorded since the
    /// last call, with a checkpoint (everything up to now is recorded), then
    /// sends them to stream subscribers. Queued while the engine is still
    /// locked, so records reach the store in the order the engine made them.
    fn publish(&self, engine: MutexGuard<'_, Engine>, changes: Vec<Change>) {
        let now = self.now();
        let last = self.shared.last_checkpoint.load(Ordering::Relaxed);
        self.publish_with_checkpoint(engine, changes, now - last >= CHECKPOINT_EVERY_MS);
    }

    /// `publish`, writing a checkpoint even when nothing changed if `force`.
    fn publish_with_checkpoint(
        &self,
        mut engine: MutexGuard<'_, Engine>,
        mut changes: Vec<Change>,
        force: bool,
    ) {
        changes.extend(engine.take_changes());
        let scores = engine.take_score_changes();
        let purges = engine.take_purges();
        if let Some(recorder) = &self.shared.recorder {
            // Without changes the checkpoint may lag (nothing between it and
            // now changed), but not for long: a restart replays from it.
            if force || !changes.is_empty() || !scores.is_empty() || !purges.is_empty() {
                let mut ops: Vec<WriteOp> = changes
                    .iter()
                    .filter(|c| c.is_membership())
                    .map(|c| WriteOp::Membership(c.to_record()))
                    .collect();
                ops.extend(scores.into_iter().map(WriteOp::Score));
                let mut router = self.shared.router.lock();
                ops.extend(router.route(&engine, &changes));
                // Deleted contacts: after everything recorded about them.
                router.forget_purged(&purges);
                drop(router);
                ops.extend(purges);
                let now = self.now();
                ops.push(WriteOp::Checkpoint { at: now });
                self.shared.last_checkpoint.store(now, Ordering::Relaxed);
                recorder.record(ops);
            }
        }
        drop(engine);
        for change in changes {
            // No subscriber is not an error.
            let _ = self.shared.changes.send(change);
        }
    }

    /// Notified each time outbox rows reach the store.
    pub fn outbox_written(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.shared.outbox_written)
    }

    /// Every current owner of a subject: segment → owner.
    pub fn owners_of(&self, key: &super::SubjectKey) -> std::collections::BTreeMap<String, String> {
        self.shared.router.lock().owners_of(key)
    }

    /// Blocks until every change recorded so far is in the store; call it
    /// (off the async runtime) before reading recorded history.
    pub fn flush_records(&self) {
        if let Some(recorder) = &self.shared.recorder {
            recorder.flush();
        }
    }

    /// Applies new definitions and publishes the resulting changes.
    pub fn replace_rules(&self, rules: Arc<bellwether_rules::RuleSet>) {
        let now = self.now();
        let mut engine = self.lock();
        let changes = engine.replace_rules(rules, now);
        self.publish(engine, changes);
        self.notify();
    }

    /// Writes the engine snapshot to `path` whenever the writer says one
    /// is due (`[ingest] snapshot_every_messages`).
    pub fn write_snapshots_to(&self, path: std::path::PathBuf, store: Arc<dyn Store>) {
        *self.shared.snapshots.lock() = Some((path, store));
    }

    /// The listener to register with the ingest writer.
    pub fn listener(&self) -> EngineListener {
        EngineListener {
            handle: self.clone(),
        }
    }

    /// Starts the thread that fires timers at their instants.
    pub fn spawn_timers(&self) -> std::io::Result<JoinHandle<()>> {
        let handle = self.clone();
        std::thread::Builder::new()
            .name("bellwether-timers".into())
            .spawn(move || handle.run_timers())
    }

    /// Stops the timer thread after recording everything due up to now,
    /// and waits until every record is written.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.notify();
        let mut engine = self.lock();
        let changes = engine.process_due(self.now());
        self.publish(engine, changes);
        if let Some(recorder) = &self.shared.recorder {
            recorder.finish();
        }
    }

    fn notify(&self) {
        let _guard = self.shared.wake_lock.lock();
        self.shared.wake.notify_all();
    }

    fn run_timers(&self) {
        while !self.shared.stopping.load(Ordering::SeqCst) {
            let now = self.now();
            let mut engine = self.lock();
            let changes = engine.process_due(now);
            let next = engine.next_deadline();
            self.publish(engine, changes);
            let sleep = next.map_or(MAX_SLEEP, |at| {
                Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_SLEEP)
            });
            if sleep.is_zero() {
                continue;
            }
            let mut guard = self.shared.wake_lock.lock();
            if !self.shared.stopping.load(Ordering::SeqCst) {
                self.shared.wake.wait_for(&mut guard, sleep);
            }
        }
    }
}

/// Feeds committed writes to the engine (runs on the writer thread).
pub struct EngineListener {
    handle: EngineHandle,
}

impl CommitListener for EngineListener {
    fn committed(&mut self, ops: &[WriteOp]) {
        let now = self.handle.now();
        let mut engine = self.handle.lock();
        // Fire what is due first, so the checkpoint below tells the truth.
        let mut changes = engine.process_due(now);
        changes.extend(engine.apply(ops, now));
        self.handle.publish(engine, changes);
        // A write may have brought a deadline closer than the timer's sleep.
        self.handle.notify();
    }

    /// Taken on this thread, so the engine is exactly at the graph's
    /// position (the next group waits for the write); the engine lock is
    /// held only while the image is copied, so queries and timers go on
    /// while it is encoded and written.
    fn snapshot(&mut self, graph: &crate::identity::IdentityGraph) {
        let Some((path, store)) = self.handle.shared.snapshots.lock().clone() else {
            return;
        };
        let started = std::time::Instant::now();
        let image = self.handle.lock().subjects_image();
        let position = image.position();
        match crate::snapshot::write(&path, store.as_ref(), graph, image) {
            Ok(bytes) => tracing::info!(
                snapshot = %path.display(),
                position,
                bytes,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "engine snapshot written while running"
            ),
            Err(error) => tracing::warn!(%error, "engine snapshot not written"),
        }
    }
}
