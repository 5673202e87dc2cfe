//! A first start on a store that already holds events (after an import,
//! the demo): instead of everyone "entering" at start-up, the membership
//! and score history is recorded at its true instants. Each subject gets a
//! timer at its first message; from there its own next-change instants
//! (every later event, window edge and threshold crossing) carry it, in
//! time order across all subjects, up to now.
//!
//! What that history holds is not news: the action layer is told to route
//! only the changes of the last [`ROUTED_HISTORY_MS`].

use super::state::SubjectKey;
use super::{Change, Engine};
use crate::message::Millis;

/// Of a backfilled history, the changes this recent are still routed (the
/// demo's inbox shows the last day's alerts; older ones are history).
pub(super) const ROUTED_HISTORY_MS: Millis = 24 * 3_600_000;

impl Engine {
    /// Replays every subject from its first message to `now`, recording each
    /// change at its instant. Returns the changes, oldest first.
    pub(super) fn backfill(&mut self, now: Millis) -> Vec<Change> {
        let contacts: Vec<(SubjectKey, Millis)> = self
            .state
            .contacts
            .iter()
            .map(|(id, c)| {
                (
                    SubjectKey::Contact(*id),
                    c.first_seen().unwrap_or(now).min(now),
                )
            })
            .collect();
        let accounts: Vec<(SubjectKey, Millis)> = self
            .state
            .accounts
            .iter()
            .map(|(group_id, account)| {
                let first = self.view.state.account_first_seen(account).unwrap_or(now);
                (SubjectKey::Account(group_id.clone()), first.min(now))
            })
            .collect();
        for (key, first) in contacts.into_iter().chain(accounts) {
            self.timers.schedule(key, Some(first));
        }
        self.routed_from = now - ROUTED_HISTORY_MS;
        self.process_due(now)
    }

    /// Changes before this instant were recorded by a backfill: history,
    /// not to be routed.
    pub fn routed_from(&self) -> Millis {
        self.routed_from
    }
}
