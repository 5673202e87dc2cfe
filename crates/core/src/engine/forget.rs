//! Forgetting deleted contacts (SPEC §7, `WriteOp::DeleteContact`): the
//! engine drops everything it holds about them at the commit that deleted
//! them, and re-evaluates their accounts at once.
//!
//! A deleted contact leaves no trace, not even an exit: its memberships,
//! values, timers, tracker, the recent changes naming it and the interned
//! properties and page contexts only its events held are dropped
//! without recording changes (the store deleted its recorded history; an
//! exit would bring its id back into it and into webhooks). Its accounts
//! change normally: their exits and score changes are recorded and routed.
//! What the engine recorded about the contact before this commit may still
//! be on its way to the store: [`Engine::take_purges`] hands the purge that
//! follows it through the recorder, in order.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Engine;
use crate::message::{ContactId, Millis};
use crate::store::WriteOp;
use crate::subject::SubjectKey;

impl Engine {
    /// Applies the deletions among one commit's writes (before the rest).
    pub(super) fn forget_deleted(&mut self, ops: &[WriteOp], now: Millis) {
        let mut forgot = false;
        for op in ops {
            let WriteOp::DeleteContact(deletion) = op else {
                continue;
            };
            forgot = true;
            let accounts: BTreeSet<Arc<str>> = deletion
                .contacts
                .iter()
                .filter_map(|id| self.forget_contact(*id))
                .collect();
            self.purges.push(WriteOp::PurgeContactRecords {
                deletion: deletion.id.clone(),
                contacts: deletion.contacts.clone(),
            });
            for account in accounts {
                self.reevaluate(SubjectKey::Account(account), now);
            }
        }
        if forgot {
            // Their events' properties and page contexts go too.
            self.view.state.sweep_interned();
        }
    }

    /// Drops one contact; returns the account it belonged to.
    fn forget_contact(&mut self, id: ContactId) -> Option<Arc<str>> {
        let key = SubjectKey::Contact(id);
        let account = self.view.state.contacts.remove(&id).and_then(|c| c.account);
        if let Some(state) = account
            .as_ref()
            .and_then(|a| self.view.state.accounts.get_mut(a))
        {
            state.contacts.remove(&id);
            state.order.edited();
        }
        self.view.values.remove(&key);
        for (_, members) in self.view.members.iter_mut() {
            members.remove(&key);
        }
        self.timers.schedule(key.clone(), None);
        self.trackers.remove(&key);
        self.view.recent.retain(|change| change.key != key);
        self.fresh.retain(|change| change.key != key);
        self.fresh_scores.retain(|score| score.subject != key);
        self.departed.remove(&id);
        account
    }

    /// The purges of recorded history for contacts forgotten since the
    /// last call: recorded after everything recorded before them.
    pub fn take_purges(&mut self) -> Vec<WriteOp> {
        std::mem::take(&mut self.purges)
    }
}
