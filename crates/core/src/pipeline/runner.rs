//! Running the engine in a server: a shared handle, the commit listener that
//! feeds it every committed write, and the timer thread that sleeps until the
//! next deadline (woken early when a write may have brought one closer).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::recorder::Recorder;
use super::router::ActionRouter;
use crate::clock::Clock;
use crate::engine::{Change, Engine, SubjectKey, View};
use crate::ingest::CommitListener;
use crate::message::Millis;
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
    /// Bumped each time the engine lock is released: a published view
    /// of an older generation may miss a change.
    generation: AtomicU64,
    /// The readers' view and the generation it is of.
    published: Mutex<Published>,
    /// A reader waits for a newer view: the next release of the engine
    /// lock publishes one.
    view_wanted: AtomicBool,
    /// Signalled (blocking and async readers) when a view is published.
    view_ready: Condvar,
    view_published: tokio::sync::Notify,
    /// Assignments and outbox rows for each change (taken with the engine
    /// lock held, so rows are made in the engine's order).
    router: Mutex<ActionRouter>,
    /// Woken when outbox rows are written (the dispatcher waits on it).
    outbox_written: Arc<tokio::sync::Notify>,
    /// Writes membership changes and score history (none in unit tests).
    recorder: Option<Recorder>,
    /// When the last checkpoint was queued (`None`: none yet).
    last_checkpoint: Mutex<Option<Millis>>,
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
        let started = std::time::Instant::now();
        let engine = handle.lock();
        // After a first start: every segment change of the walked history,
        // routed to keep owners assigned (10M events: 560,000 changes, 2.8 s).
        let backfilled = engine.backfilled_len();
        handle.publish_with_checkpoint(engine, Vec::new(), true);
        handle.flush_records();
        tracing::info!(
            backfilled,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "first checkpoint written"
        );
        Ok(handle)
    }

    fn build(
        mut engine: Engine,
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
                last_checkpoint: Mutex::new(None),
                generation: AtomicU64::new(1),
                published: Mutex::new(Published {
                    generation: 1,
                    view: Arc::new(engine.view()),
                }),
                view_wanted: AtomicBool::new(false),
                view_ready: Condvar::new(),
                view_published: tokio::sync::Notify::new(),
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

    /// Locks the engine to drive it (the listener and timer threads; tests use this
    /// to `process_due` with a manual clock). Readers take a [`View`]
    /// instead: [`EngineHandle::view`].
    pub fn lock(&self) -> EngineGuard<'_> {
        EngineGuard {
            engine: self.shared.engine.lock(),
            shared: &self.shared,
        }
    }

    /// The engine as of now, for reading, without holding its lock while
    /// reading: the published view when nothing changed since it was
    /// taken, else a new one (published at once when the writer is idle,
    /// else when it finishes its current commit). Call it off the async
    /// runtime ([`EngineHandle::view_async`] on it).
    pub fn view(&self) -> Arc<View> {
        let want = self.shared.generation.load(Ordering::Acquire);
        loop {
            if let Some(view) = self.published_since(want) {
                return view;
            }
            // Not under the `published` lock: publishing takes it.
            if self.request_view() {
                continue;
            }
            let mut published = self.shared.published.lock();
            if published.generation < want {
                self.shared
                    .view_ready
                    .wait_for(&mut published, VIEW_RECHECK);
            }
        }
    }

    /// The published view, if it is of generation `want` or later.
    fn published_since(&self, want: u64) -> Option<Arc<View>> {
        let published = self.shared.published.lock();
        (published.generation >= want).then(|| Arc::clone(&published.view))
    }

    /// [`EngineHandle::view`] for async code: waits for the writer without
    /// blocking the runtime.
    pub async fn view_async(&self) -> Arc<View> {
        let want = self.shared.generation.load(Ordering::Acquire);
        loop {
            let notified = self.shared.view_published.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(view) = self.published_since(want) {
                return view;
            }
            if self.request_view() {
                continue;
            }
            let _ = tokio::time::timeout(VIEW_RECHECK, notified).await;
        }
    }

    /// Asks for a new view; publishes it at once if the writer is idle
    /// (returns whether it did).
    fn request_view(&self) -> bool {
        self.shared.view_wanted.store(true, Ordering::SeqCst);
        match self.shared.engine.try_lock() {
            // Releasing the lock publishes the view that was asked for.
            Some(engine) => {
                drop(EngineGuard {
                    engine,
                    shared: &self.shared,
                });
                true
            }
            None => false,
        }
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
    fn publish(&self, engine: EngineGuard<'_>, changes: Vec<Change>) {
        let now = self.now();
        let due = self
            .shared
            .last_checkpoint
            .lock()
            .is_none_or(|last| now - last >= CHECKPOINT_EVERY_MS);
        self.publish_with_checkpoint(engine, changes, due);
    }

    /// `publish`, writing a checkpoint even when nothing changed if `force`.
    fn publish_with_checkpoint(
        &self,
        mut engine: EngineGuard<'_>,
        mut changes: Vec<Change>,
        force: bool,
    ) {
        changes.extend(engine.take_changes());
        let scores = engine.take_score_changes();
        let purges = engine.take_purges();
        // Recorded as a first start walked them; routed for owners only.
        let backfilled = engine.take_backfilled();
        if let Some(recorder) = &self.shared.recorder {
            // Without changes the checkpoint may lag (nothing between it and
            // now changed), but not for long: a restart replays from it.
            let nothing = changes.is_empty() && scores.is_empty() && purges.is_empty();
            if force || !nothing || !backfilled.is_empty() {
                // Sized for a change's row and about one routed op each
                // (a first start hands over millions at once).
                let rows = changes.len() + scores.len() + purges.len() + 1;
                let mut ops = Vec::with_capacity(rows + changes.len() + backfilled.len());
                ops.extend(
                    changes
                        .iter()
                        .filter(|c| c.is_membership())
                        .map(|c| WriteOp::Membership(c.to_record())),
                );
                ops.extend(scores.into_iter().map(WriteOp::Score));
                let mut router = self.shared.router.lock();
                router.route_backfilled(&engine, &backfilled, &mut ops);
                router.route_into(&engine, &changes, &mut ops);
                // Deleted contacts: after everything recorded about them.
                router.forget_purged(&purges);
                drop(router);
                ops.extend(purges);
                let now = self.now();
                ops.push(WriteOp::Checkpoint { at: now });
                *self.shared.last_checkpoint.lock() = Some(now);
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
    pub fn owners_of(&self, key: &SubjectKey) -> std::collections::BTreeMap<String, String> {
        self.shared.router.lock().owners_of(key)
    }

    /// Blocks until every change recorded so far is in the store; call it
    /// (off the async runtime) before reading recorded history.
    pub fn flush_records(&self) {
        if let Some(recorder) = &self.shared.recorder {
            recorder.flush();
        }
    }

    /// The definitions in force (those of the published view: new
    /// definitions are published as they are applied).
    pub fn rules(&self) -> Arc<bellwether_rules::RuleSet> {
        self.shared.published.lock().view.shared_rules()
    }

    /// Applies new definitions and publishes the resulting changes.
    pub fn replace_rules(&self, rules: Arc<bellwether_rules::RuleSet>) {
        let now = self.now();
        // Published when the lock is released: `rules()` reads the view.
        self.shared.view_wanted.store(true, Ordering::SeqCst);
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

/// How often a reader waiting for a view checks again (a bound on a lost
/// wake-up; views are normally published when the writer releases its lock).
const VIEW_RECHECK: Duration = Duration::from_millis(50);

/// The view readers share, and the engine generation it is of.
struct Published {
    generation: u64,
    view: Arc<View>,
}

/// The engine, locked to drive it. Releasing it counts a generation and,
/// when a reader asked for one, publishes a new view first (O(1): the view
/// shares the engine's state).
pub struct EngineGuard<'a> {
    engine: MutexGuard<'a, Engine>,
    shared: &'a Shared,
}

impl std::ops::Deref for EngineGuard<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl std::ops::DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

impl Drop for EngineGuard<'_> {
    fn drop(&mut self) {
        let generation = self.shared.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if !self.shared.view_wanted.swap(false, Ordering::SeqCst) {
            return;
        }
        let view = Arc::new(self.engine.view());
        *self.shared.published.lock() = Published { generation, view };
        self.shared.view_ready.notify_all();
        self.shared.view_published.notify_waiters();
    }
}

/// Feeds committed writes to the engine (runs on the ingest listener thread).
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
    /// position (the next group waits for the write); the image is copied
    /// from a published view, without the engine lock, so timers go on
    /// while it is copied, encoded and written.
    fn snapshot(&mut self, graph: &crate::identity::IdentityGraph) {
        let Some((path, store)) = self.handle.shared.snapshots.lock().clone() else {
            return;
        };
        let started = std::time::Instant::now();
        let image = self.handle.view().subjects_image();
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
