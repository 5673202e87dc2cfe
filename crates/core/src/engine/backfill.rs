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
//! changes are then put in time order (stably: a group's own order holds).
//!
//! What that history holds is not news: the action layer is told to route
//! only the changes of the last [`ROUTED_HISTORY_MS`].

use super::state::{ContactState, SubjectKey};
use super::{Change, Engine};
use crate::message::{ContactId, Millis};

/// Of a backfilled history, the changes this recent are still routed (the
/// demo's inbox shows the last day's alerts; older ones are history).
pub(super) const ROUTED_HISTORY_MS: Millis = 24 * 3_600_000;

impl Engine {
    /// Replays every subject from its first message to `now`, recording each
    /// change at its instant. Returns the changes, oldest first.
    pub(super) fn backfill(&mut self, now: Millis) -> Vec<Change> {
        self.routed_from = now - ROUTED_HISTORY_MS;
        let mut changes = Vec::new();
        for group in self.backfill_groups(now) {
            for (key, first) in group {
                self.timers.schedule(key, Some(first));
            }
            changes.extend(self.process_due(now));
        }
        changes.sort_by_key(|change| change.at);
        self.fresh_scores.sort_by_key(|score| score.at);
        changes
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
