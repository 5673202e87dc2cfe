//! A first start on a store that already holds events (after an import,
//! the demo): instead of everyone "entering" at start-up, the membership
//! and score history is recorded at its true instants. Each subject gets a
//! timer at its first message; from there its own next-change instants
//! (every later event, window edge and threshold crossing) carry it, in
//! time order, up to now.
//!
//! Subjects are walked one group at a time (an account with its contacts,
//! or a contact without an account): no subject reads another group's
//! state, so the values are those of one walk in global time order, and
//! a group's state stays in the CPU's caches while it is walked. For the
//! same reason the groups are split over the machine's cores, each part
//! walked by an engine of its own over the shared subjects, whose results
//! are merged into this one afterwards.
//!
//! What that history holds is not news: the action layer is told to route
//! only the changes of the last [`ROUTED_HISTORY_MS`]. Older ones, and
//! every score form, are written while the walk goes on, by a thread of
//! their own, group after group (each subject's own rows in time order,
//! which is all their readers need; a subject's forms of one score in a
//! group as one row, [`ScoreRun`]); the older segment changes are then
//! handed over by instant, then subject, for owner assignments only
//! ([`Engine::take_backfilled`]), the recent changes like any others. The
//! rows are written before the engine's first checkpoint, so a start that
//! stops half way leaves rows without a checkpoint; the next start
//! discards them (`Store::discard_unconfirmed_history`) and walks again.

use crossbeam_channel::{Receiver, Sender};

use super::walkers::Group;
use super::{Change, DefKind, Engine};
use crate::message::Millis;
use crate::progress::Progress;
use crate::store::{ScoreRun, StoreError, WriteOp};

/// The thread that writes a first start's history beside the walk.
const HISTORY_THREAD: &str = "history writer";

/// A thread that walks part of a first start's groups.
const WALK_THREAD: &str = "history walk";

/// Of a backfilled history, the changes this recent are still routed (the
/// demo's inbox shows the last day's alerts; older ones are history).
pub(super) const ROUTED_HISTORY_MS: Millis = 24 * 3_600_000;

/// Writes one transaction of recorded history (`Store::apply`).
pub(super) type WriteHistory<'a> = dyn Fn(&[WriteOp]) -> Result<(), StoreError> + Sync + 'a;

/// History rows written per transaction while the walk goes on.
const ROWS_PER_TRANSACTION: usize = 50_000;

/// Groups' rows waiting for the writer before the walk waits.
const QUEUED_GROUPS: usize = 256;

/// What one walker recorded besides the rows it wrote.
#[derive(Default)]
struct Walked {
    /// Changes since `routed_from`, to be routed like live ones.
    recent: Vec<Change>,
    /// Older segment changes, for owner assignments only.
    backfilled: Vec<Change>,
}

impl Engine {
    /// Replays every subject from its first message to `now`, recording each
    /// change at its instant: score forms and changes older than
    /// `routed_from` go to `write` (`Store::apply`) as the walk goes; the
    /// recent changes are returned, oldest first. `progress` is told
    /// (groups walked, groups) after each group.
    ///
    /// The groups are split over the machine's cores, each part walked by
    /// an engine of its own that shares this one's subjects; their values,
    /// memberships, timers and trackers are merged back afterwards.
    pub(super) fn backfill(
        &mut self,
        now: Millis,
        write: &WriteHistory<'_>,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Change>, StoreError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.backfill_on(cores, now, write, progress)
    }

    /// [`Engine::backfill`] on up to `walkers` threads.
    pub(super) fn backfill_on(
        &mut self,
        walkers: usize,
        now: Millis,
        write: &WriteHistory<'_>,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Change>, StoreError> {
        self.routed_from = now - ROUTED_HISTORY_MS;
        let parts = self.groups_in_parts(now, walkers);
        let total: u64 = parts.iter().map(|part| part.len() as u64).sum();
        let (walks, written) = std::thread::scope(|scope| {
            let (rows, queue) = crossbeam_channel::bounded(QUEUED_GROUPS);
            let writer = std::thread::Builder::new()
                .name("bellwether-history".into())
                .spawn_scoped(scope, move || write_rows(write, &queue))
                .map_err(|source| StoreError::Thread {
                    name: HISTORY_THREAD,
                    source,
                })?;
            let (ticks, walked) = crossbeam_channel::unbounded();
            let mut threads = Vec::with_capacity(parts.len());
            for (index, groups) in parts.into_iter().enumerate() {
                let mut walker = self.walker();
                let (rows, ticks) = (rows.clone(), ticks.clone());
                let thread = std::thread::Builder::new()
                    .name(format!("bellwether-walk-{index}"))
                    .spawn_scoped(scope, move || {
                        let walked = walker.walk(groups, now, &rows, &ticks);
                        (walker, walked)
                    })
                    .map_err(|source| StoreError::Thread {
                        name: WALK_THREAD,
                        source,
                    })?;
                threads.push(thread);
            }
            // Each walker ticks once per group and hangs up when done.
            drop((rows, ticks));
            for (done, ()) in (1..).zip(walked.iter()) {
                progress.advanced(done, total);
            }
            // Every walker joined before any failure is returned (the scope
            // would re-raise a panic it had to join itself).
            let joined: Vec<_> = threads.into_iter().map(|thread| thread.join()).collect();
            let walks: Vec<_> = joined
                .into_iter()
                .map(|walk| walk.map_err(|_| StoreError::ThreadPanicked { name: WALK_THREAD }))
                .collect::<Result<_, _>>()?;
            let written = writer.join().unwrap_or(Err(StoreError::ThreadPanicked {
                name: HISTORY_THREAD,
            }))?;
            Ok::<_, StoreError>((walks, written))
        })?;
        tracing::debug!(rows = written, "history written");
        let mut recent = Vec::new();
        let mut backfilled = Vec::new();
        for (walker, walked) in walks {
            self.absorb_walker(walker);
            recent.extend(walked.recent);
            backfilled.extend(walked.backfilled);
        }
        // By instant, then subject (owners are assigned in turn, so the
        // order of simultaneous entries must not depend on the walk's);
        // stable, so each subject's own order holds.
        let order = |a: &Change, b: &Change| (a.at, &a.key).cmp(&(b.at, &b.key));
        backfilled.sort_by(order);
        self.backfilled = backfilled;
        recent.sort_by(order);
        tracing::debug!(
            evaluations = self.view.health.total_evaluations(),
            held = self.view.health.held_timers(),
            "history walked (subject evaluations, and timers that reached no definition)"
        );
        Ok(recent)
    }

    /// Walks `groups` one after another up to `now`: their rows go to
    /// `rows`, one tick per group to `ticks`.
    fn walk(
        &mut self,
        groups: Vec<Group>,
        now: Millis,
        rows: &Sender<Vec<WriteOp>>,
        ticks: &Sender<()>,
    ) -> Walked {
        let mut walked = Walked::default();
        for group in groups {
            for (key, first) in group {
                self.timers.schedule(key, Some(first));
            }
            let changes = self.process_due(now);
            let mut ops: Vec<WriteOp> = ScoreRun::split(std::mem::take(&mut self.fresh_scores))
                .into_iter()
                .map(WriteOp::ScoreRun)
                .collect();
            for change in changes {
                if change.at >= self.routed_from {
                    walked.recent.push(change);
                    continue;
                }
                if change.is_membership() {
                    ops.push(WriteOp::Membership(change.to_record()));
                }
                if change.definition_kind == DefKind::Segment {
                    walked.backfilled.push(change);
                }
            }
            // A writer that stopped failed: its error is returned by the
            // caller.
            if !ops.is_empty() && rows.send(ops).is_err() {
                break;
            }
            // The caller listens until every walker hangs up.
            let _ = ticks.send(());
        }
        // Windows grew while the history passed through them, and the walk
        // left each where its subject was last evaluated: settled here, on
        // this walker's core.
        self.settle_trackers(now);
        walked
    }

    /// The segment changes of a first start's history before
    /// [`Engine::routed_from`], by instant then subject, written already:
    /// routed only to keep owners assigned. Empty after the first call.
    pub fn take_backfilled(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.backfilled)
    }

    /// How many changes [`Engine::take_backfilled`] would hand over.
    pub fn backfilled_len(&self) -> usize {
        self.backfilled.len()
    }

    /// Changes before this instant were recorded by a backfill: history,
    /// not to be routed.
    pub fn routed_from(&self) -> Millis {
        self.routed_from
    }
}

/// Writes each group's rows as they come, several groups per transaction;
/// returns how many were written.
fn write_rows(write: &WriteHistory<'_>, queue: &Receiver<Vec<WriteOp>>) -> Result<u64, StoreError> {
    let mut ops = Vec::with_capacity(ROWS_PER_TRANSACTION);
    let mut written = 0;
    for rows in queue {
        ops.extend(rows);
        if ops.len() >= ROWS_PER_TRANSACTION {
            write(&ops)?;
            written += ops.len() as u64;
            ops.clear();
        }
    }
    write(&ops)?;
    Ok(written + ops.len() as u64)
}
