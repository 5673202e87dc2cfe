//! Rows of one `apply`, buffered per table and written multi-row by
//! [`flush`](super::flush), so a batch of thousands of ops costs a handful
//! of round trips.
//!
//! Writing buffers table by table instead of op by op gives the same result
//! as applying the ops one at a time because:
//! - no buffered op reads another table, and repeated keys are folded the
//!   way sequential application resolves them: the last `Identity` /
//!   `ContactAccount` per key wins, the first `NewAccount` wins;
//! - a merge re-homes rows already in the database with `UPDATE`s, and the
//!   buffered rows of earlier ops here with [`Pending::merge`]; only the
//!   account links are flushed before it, because a merge reads them;
//! - a re-homed message likewise: `UPDATE`s for stored rows, and
//!   [`Pending::rehome`] for buffered ones.

use bellwether_core::store::{MembershipRecord, ScoreRecord};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use serde_json::{Map, Value};

use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::store::{AccountLink, IdKind, MergeReason, StoreError};

use super::conn::Session;
use super::flush;

#[derive(Default)]
pub(super) struct Pending<'a> {
    pub(super) contacts: Vec<ContactRow>,
    pub(super) identities: Vec<(IdKind, &'a str, ContactId, Millis)>,
    identity_slots: HashMap<(IdKind, &'a str), usize>,
    pub(super) accounts: Vec<(&'a str, Millis)>,
    account_slots: HashMap<&'a str, usize>,
    pub(super) contact_accounts: Vec<ContactAccountRow<'a>>,
    contact_account_slots: HashMap<ContactId, usize>,
    /// Each event with its contact as re-homed by merges in this batch.
    pub(super) events: Vec<(&'a StoredEvent, Option<ContactId>)>,
    pub(super) contact_traits: TraitRows<'a, ContactId>,
    pub(super) account_traits: TraitRows<'a, &'a str>,
    pub(super) merges: Vec<(ContactId, ContactId, Millis, MergeReason, &'a str)>,
    pub(super) rejections: Vec<&'a Rejection>,
    /// `WriteOp::PruneRejections`, run after the rejections are inserted.
    pub(super) prune_rejections: Option<(u64, Millis)>,
    pub(super) memberships: Vec<&'a MembershipRecord>,
    /// Each with the packed forms before it when it ends a run.
    pub(super) scores: Vec<(&'a ScoreRecord, Option<Vec<u8>>)>,
    pub(super) checkpoint: Option<Millis>,
    /// Deletions, purges and unsuppressions, applied last: they delete
    /// rows this batch may have buffered.
    pub(super) privacy: Vec<&'a bellwether_core::store::WriteOp>,
}

/// `contact_accounts` row: contact, account, link, the revealing network,
/// since when.
pub(super) type ContactAccountRow<'a> = (ContactId, &'a str, AccountLink, Option<&'a str>, Millis);

pub(super) struct ContactRow {
    pub(super) id: ContactId,
    pub(super) created_at: Millis,
    pub(super) merged_into: Option<ContactId>,
}

pub(super) struct TraitRows<'a, Owner> {
    pub(super) owner: Vec<Owner>,
    pub(super) key: Vec<&'a str>,
    pub(super) value: Vec<&'a Value>,
    pub(super) at: Vec<Millis>,
    pub(super) seq: Vec<i64>,
}

impl<Owner> Default for TraitRows<'_, Owner> {
    fn default() -> Self {
        Self {
            owner: Vec::new(),
            key: Vec::new(),
            value: Vec::new(),
            at: Vec::new(),
            seq: Vec::new(),
        }
    }
}

impl<'a, Owner: Clone> TraitRows<'a, Owner> {
    fn push(&mut self, owner: Owner, traits: &'a Map<String, Value>, at: Millis, seq: i64) {
        for (key, value) in traits {
            self.owner.push(owner.clone());
            self.key.push(key);
            self.value.push(value);
            self.at.push(at);
            self.seq.push(seq);
        }
    }
}

/// Puts `row` in `rows`, replacing the earlier row with the same key.
fn upsert<K: std::hash::Hash + Eq, R>(
    rows: &mut Vec<R>,
    slots: &mut HashMap<K, usize>,
    key: K,
    row: R,
) {
    match slots.entry(key) {
        Entry::Occupied(slot) => rows[*slot.get()] = row,
        Entry::Vacant(slot) => {
            slot.insert(rows.len());
            rows.push(row);
        }
    }
}

impl<'a> Pending<'a> {
    pub(super) fn contact(&mut self, id: ContactId, created_at: Millis) {
        self.contacts.push(ContactRow {
            id,
            created_at,
            merged_into: None,
        });
    }

    pub(super) fn identity(
        &mut self,
        kind: IdKind,
        value: &'a str,
        contact: ContactId,
        first_seen: Millis,
    ) {
        let row = (kind, value, contact, first_seen);
        upsert(
            &mut self.identities,
            &mut self.identity_slots,
            (kind, value),
            row,
        );
    }

    pub(super) fn account(&mut self, group_id: &'a str, created_at: Millis) {
        if let Entry::Vacant(slot) = self.account_slots.entry(group_id) {
            slot.insert(self.accounts.len());
            self.accounts.push((group_id, created_at));
        }
    }

    pub(super) fn contact_account(
        &mut self,
        contact: ContactId,
        group_id: &'a str,
        link: AccountLink,
        via: Option<&'a str>,
        at: Millis,
    ) {
        let row = (contact, group_id, link, via, at);
        upsert(
            &mut self.contact_accounts,
            &mut self.contact_account_slots,
            contact,
            row,
        );
    }

    pub(super) fn event(&mut self, event: &'a StoredEvent) {
        self.events.push((event, event.contact_id));
    }

    pub(super) fn contact_traits(
        &mut self,
        contact: ContactId,
        traits: &'a Map<String, Value>,
        at: Millis,
        seq: i64,
    ) {
        self.contact_traits.push(contact, traits, at, seq);
    }

    pub(super) fn account_traits(
        &mut self,
        group_id: &'a str,
        traits: &'a Map<String, Value>,
        at: Millis,
        seq: i64,
    ) {
        self.account_traits.push(group_id, traits, at, seq);
    }

    pub(super) fn rejection(&mut self, rejection: &'a Rejection) {
        self.rejections.push(rejection);
    }

    /// Re-homes the buffered rows of `from` to `into` and records the merge;
    /// the caller re-homes the stored rows. Account links must have been
    /// flushed (see the module doc).
    pub(super) fn merge(
        &mut self,
        (from, into): (ContactId, ContactId),
        at: Millis,
        reason: MergeReason,
        message_id: &'a str,
    ) {
        let rehome = |contact: &mut ContactId| {
            if *contact == from {
                *contact = into;
            }
        };
        self.identities
            .iter_mut()
            .for_each(|row| rehome(&mut row.2));
        self.contact_traits.owner.iter_mut().for_each(rehome);
        for (_, contact) in &mut self.events {
            if *contact == Some(from) {
                *contact = Some(into);
            }
        }
        for row in &mut self.contacts {
            if row.id == from || row.merged_into == Some(from) {
                row.merged_into = Some(into);
            }
        }
        self.merges.push((from, into, at, reason, message_id));
    }

    /// Moves a buffered message and its buffered trait rows (see
    /// `WriteOp::Rehome`).
    pub(super) fn rehome(&mut self, seq: i64, from: ContactId, to: ContactId) {
        for (event, contact) in self.events.iter_mut().rev() {
            if event.seq == seq && *contact == Some(from) {
                *contact = Some(to);
            }
        }
        let rows = &mut self.contact_traits;
        for (owner, row_seq) in rows.owner.iter_mut().zip(&rows.seq) {
            if *row_seq == seq && *owner == from {
                *owner = to;
            }
        }
    }

    /// A buffered message leaves its contact, its buffered trait rows are
    /// dropped (see `WriteOp::Detach`).
    pub(super) fn detach(&mut self, seq: i64, from: ContactId) {
        for (event, contact) in self.events.iter_mut().rev() {
            if event.seq == seq && *contact == Some(from) {
                *contact = None;
            }
        }
        let rows = std::mem::take(&mut self.contact_traits);
        for i in 0..rows.owner.len() {
            if rows.seq[i] == seq && rows.owner[i] == from {
                continue;
            }
            self.contact_traits.owner.push(rows.owner[i]);
            self.contact_traits.key.push(rows.key[i]);
            self.contact_traits.value.push(rows.value[i]);
            self.contact_traits.at.push(rows.at[i]);
            self.contact_traits.seq.push(rows.seq[i]);
        }
    }

    /// Writes and empties the account-link buffer.
    pub(super) fn flush_contact_accounts<C: postgres::GenericClient>(
        &mut self,
        session: &mut Session<'_, C>,
    ) -> Result<(), StoreError> {
        self.contact_account_slots.clear();
        flush::contact_accounts(session, &std::mem::take(&mut self.contact_accounts))
    }

    /// Writes every buffer.
    pub(super) fn flush<C: postgres::GenericClient>(
        self,
        session: &mut Session<'_, C>,
    ) -> Result<(), StoreError> {
        flush::contacts(session, &self.contacts)?;
        flush::accounts(session, &self.accounts)?;
        flush::identities(session, &self.identities)?;
        flush::contact_accounts(session, &self.contact_accounts)?;
        flush::events(session, &self.events)?;
        flush::contact_traits(session, &self.contact_traits)?;
        flush::account_traits(session, &self.account_traits)?;
        flush::merges(session, &self.merges)?;
        flush::rejections(session, &self.rejections)?;
        if let Some((keep_newest, before)) = self.prune_rejections {
            flush::prune_rejections(session, keep_newest, before)?;
        }
        super::scores::insert(session, &self.scores)?;
        flush::memberships(session, &self.memberships, self.checkpoint)?;
        super::privacy::apply_all(session, &self.privacy)
    }
}
