//! A first start on a store that already holds events (after an import,
//! the demo): instead of everyone "entering" at start-up, the membership
//! and score history is recorded at its true instants. Each subject gets a
//! timer at its first message; from there its own next-change instants
//! (every later event, window edge and threshold crossing) carry it, in
//! time order, up to now.
//!
//! Subjects are walked one account at a time (its contacts and itself;
//! then contacts without an account): no subject reads another group's
//! state, so the values are those of one walk in global time order, and
//! a group's state stays in the CPU's caches while it is walked.
//!
//! What that history holds is not news: the action layer is told to route
//! only the changes of the last [`ROUTED_HISTORY_MS`]. Older ones, and
//! every score form, are written while the walk goes on, by a thread of
//! their own, group after group (each subject's own rows in time order,
//! which is all their readers need); the older segment changes are then
//! handed over by instant, then subject, for owner assignments only
//! ([`Engine::take_backfilled`]), the recent changes like any others. The
//! rows are written before the engine's first checkpoint, so a start that
//! stops half way leaves rows without a checkpoint; the next start
//! discards them (`Store::discard_unconfirmed_history`) and walks again.

use crossbeam_channel::Receiver;

use super::state::ContactState;
use super::{Change, DefKind, Engine};
use crate::message::{ContactId, Millis};
use crate::progress::Progress;
use crate::store::{StoreError, WriteOp};
use crate::subject::SubjectKey;

/// The thread that writes a first start's history beside the walk.
const HISTORY_THREAD: &str = "history writer";

/// Of a backfilled history, the changes this recent are still routed (the
/// demo's inbox shows the last day's alerts; older ones are history).
pub(super) const ROUTED_HISTORY_MS: Millis = 24 * 3_600_000;

/// Writes one transaction of recorded history (`Store::apply`).
pub(super) type WriteHistory<'a> = dyn Fn(&[WriteOp]) -> Result<(), StoreError> + Sync + 'a;

/// History rows written per transaction while the walk goes on.
const ROWS_PER_TRANSACTION: usize = 50_000;

/// Groups' rows waiting for the writer before the walk waits.
const QUEUED_GROUPS: usize = 256;

impl Engine {
    /// Replays every subject from its first message to `now`, recording each
    /// change at its instant: score forms and changes older than
    /// `routed_from` go to `write` (`Store::apply`) as the walk goes; the
    /// recent changes are returned, oldest first. `progress` is told
    /// (groups walked, groups) after each group.
    pub(super) fn backfill(
        &mut self,
        now: Millis,
        write: &WriteHistory<'_>,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Change>, StoreError> {
        self.routed_from = now - ROUTED_HISTORY_MS;
        let groups = self.backfill_groups(now);
        let total = groups.len() as u64;
        let mut recent = Vec::new();
        let mut backfilled = Vec::new();
        let written = std::thread::scope(|scope| {
            let (rows, queue) = crossbeam_channel::bounded(QUEUED_GROUPS);
            let writer = std::thread::Builder::new()
                .name("bellwether-history".into())
                .spawn_scoped(scope, move || write_rows(write, &queue))
                .map_err(|source| StoreError::Thread {
                    name: HISTORY_THREAD,
                    source,
                })?;
            for (done, group) in (1..).zip(groups) {
                for (key, first) in group {
                    self.timers.schedule(key, Some(first));
                }
                let changes = self.process_due(now);
                let mut ops: Vec<WriteOp> = std::mem::take(&mut self.fresh_scores)
                    .into_iter()
                    .map(WriteOp::Score)
                    .collect();
                for change in changes {
                    if change.at >= self.routed_from {
                        recent.push(change);
                        continue;
                    }
                    if change.is_membership() {
                        ops.push(WriteOp::Membership(change.to_record()));
                    }
                    if change.definition_kind == DefKind::Segment {
                        backfilled.push(change);
                    }
                }
                // A writer that stopped failed: its error is returned below.
                if !ops.is_empty() && rows.send(ops).is_err() {
                    break;
                }
                progress.advanced(done, total);
            }
            drop(rows);
            writer.join().unwrap_or(Err(StoreError::ThreadPanicked {
                name: HISTORY_THREAD,
            }))
        })?;
        tracing::debug!(rows = written, "history written");
        // By instant, then subject (owners are assigned in turn, so the
        // order of simultaneous entries must not depend on the walk's);
        // stable, so each subject's own order holds.
        let order = |a: &Change, b: &Change| (a.at, &a.key).cmp(&(b.at, &b.key));
        backfilled.sort_by(order);
        self.backfilled = backfilled;
        recent.sort_by(order);
        Ok(recent)
    }

    /// The segment changes of a first start's history before
    /// [`Engine::routed_from`], by instant then subject, written already:
    /// routed only to keep owners assigned. Empty after the first call.
    pub fn take_backfilled(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.backfilled)
    }

    /// Each account with its contacts, then each contact without an
    /// account alone, as (subject, first instant) pairs. `State` keeps a
    /// contact in the `contacts` of exactly the account it names.
    fn backfill_groups(&self, now: Millis) -> Vec<Vec<(SubjectKey, Millis)>> {
        let state = &self.view.state;
        let contact = |id: &ContactId, contact: &ContactState| {
            let first = contact.first_seen().unwrap_or(now).min(now);
            (SubjectKey::Contact(*id), first)
        };
        let accounts = state.accounts.iter().map(|(group_id, account)| {
            let members = account.contacts.iter();
            let mut group: Vec<_> = members
                .filter_map(|id| Some(contact(id, state.contacts.get(id)?)))
                .collect();
            let first = state.account_first_seen(account).unwrap_or(now).min(now);
            group.push((SubjectKey::Account(group_id.clone()), first));
            group
        });
        let alone = state
            .contacts
            .iter()
            .filter(|(_, c)| c.account.is_none())
            .map(|(id, c)| vec![contact(id, c)]);
        accounts.chain(alone).collect()
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
