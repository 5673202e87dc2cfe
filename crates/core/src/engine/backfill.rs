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
//! a group's state stays in the CPU's caches while it is walked. The
//! membership changes are then put in time order (stably: a group's own
//! order holds) and handed over like any others.
//!
//! Score forms, most of that history, are written while the walk goes on,
//! by a thread of their own, group after group (each subject's own rows in
//! time order, which is all their readers need). They are written before
//! the engine's first checkpoint, so a start that stops half way leaves
//! rows without a checkpoint; the next start discards them
//! (`Store::discard_unconfirmed_history`) and walks again.
//!
//! What that history holds is not news: the action layer is told to route
//! only the changes of the last [`ROUTED_HISTORY_MS`].

use crossbeam_channel::Receiver;

use super::state::{ContactState, SubjectKey};
use super::{Change, Engine};
use crate::message::{ContactId, Millis};
use crate::store::{ScoreRecord, StoreError, WriteOp};

/// Of a backfilled history, the changes this recent are still routed (the
/// demo's inbox shows the last day's alerts; older ones are history).
pub(super) const ROUTED_HISTORY_MS: Millis = 24 * 3_600_000;

/// Writes one transaction of recorded history (`Store::apply`).
pub(super) type WriteHistory<'a> = dyn Fn(&[WriteOp]) -> Result<(), StoreError> + Sync + 'a;

/// Score forms written per transaction while the walk goes on.
const SCORES_PER_TRANSACTION: usize = 50_000;

/// Groups' score forms waiting for the writer before the walk waits.
const QUEUED_GROUPS: usize = 256;

impl Engine {
    /// Replays every subject from its first message to `now`, recording each
    /// change at its instant: score forms go to `write` (`Store::apply`) as
    /// the walk goes; the membership changes are returned, oldest first.
    pub(super) fn backfill(
        &mut self,
        now: Millis,
        write: &WriteHistory<'_>,
    ) -> Result<Vec<Change>, StoreError> {
        self.routed_from = now - ROUTED_HISTORY_MS;
        let groups = self.backfill_groups(now);
        let mut changes = Vec::new();
        let written = std::thread::scope(|scope| {
            let (scores, queue) = crossbeam_channel::bounded(QUEUED_GROUPS);
            let writer = std::thread::Builder::new()
                .name("bellwether-history".into())
                .spawn_scoped(scope, move || write_scores(write, &queue))
                .map_err(|source| StoreError::Thread {
                    name: "history writer",
                    source,
                })?;
            for group in groups {
                for (key, first) in group {
                    self.timers.schedule(key, Some(first));
                }
                changes.extend(self.process_due(now));
                let recorded = std::mem::take(&mut self.fresh_scores);
                // A writer that stopped failed: its error is returned below.
                if !recorded.is_empty() && scores.send(recorded).is_err() {
                    break;
                }
            }
            drop(scores);
            writer
                .join()
                .unwrap_or_else(|_| Err(StoreError::Database("the history writer panicked".into())))
        })?;
        tracing::debug!(score_forms = written, "score history written");
        changes.sort_by_key(|change| change.at);
        Ok(changes)
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

/// Writes each group's score forms as they come, several groups per
/// transaction; returns how many were written.
fn write_scores(
    write: &WriteHistory<'_>,
    queue: &Receiver<Vec<ScoreRecord>>,
) -> Result<u64, StoreError> {
    let mut ops = Vec::with_capacity(SCORES_PER_TRANSACTION);
    let mut written = 0;
    for records in queue {
        ops.extend(records.into_iter().map(WriteOp::Score));
        if ops.len() >= SCORES_PER_TRANSACTION {
            write(&ops)?;
            written += ops.len() as u64;
            ops.clear();
        }
    }
    write(&ops)?;
    Ok(written + ops.len() as u64)
}
