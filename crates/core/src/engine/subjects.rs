//! Subjects as reports see them: who was known at an instant, their first
//! behavior in a period, and their first outcome event after an instant.
//!
//! A subject is *known* at T when its earliest stored message (behavior,
//! identify or group) is at or before T; an account is known when one of its
//! current contacts is. Identity and account links are today's: a merge or
//! re-link recorded later applies to the past too.

use bellwether_rules::{EventSelector, SubjectKind, SubjectView, ValueProperty};

use super::evaluate;
use super::state::{AccountState, ContactState};
use super::values::Values;
use super::View;
use crate::message::Millis;
use crate::subject::SubjectKey;

impl View {
    /// Every subject of `kind` known at `at`, with its label, sorted by key.
    pub fn known_subjects(&self, kind: SubjectKind, at: Millis) -> Vec<(SubjectKey, String)> {
        let mut out: Vec<(SubjectKey, String)> = match kind {
            SubjectKind::Contact => self
                .state
                .contacts
                .iter()
                .filter(|(_, c)| known_at(c, at))
                .map(|(id, c)| (SubjectKey::Contact(*id), c.label.clone()))
                .collect(),
            SubjectKind::Account => self
                .state
                .accounts
                .iter()
                .filter(|(_, a)| self.account_known_at(a, at))
                .map(|(g, _)| (SubjectKey::Account(g.clone()), g.to_string()))
                .collect(),
        };
        out.sort();
        out
    }

    /// Every event name seen in stored behavior events.
    pub fn seen_event_names(&self) -> std::collections::BTreeSet<String> {
        self.state
            .event_names()
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.to_string())
            .collect()
    }

    /// How people name the subject (user id, group id); `None` if unknown.
    pub fn label_of(&self, key: &SubjectKey) -> Option<String> {
        match key {
            SubjectKey::Contact(id) => self.state.contacts.get(id).map(|c| c.label.clone()),
            SubjectKey::Account(g) => self.state.accounts.get(g).map(|_| g.to_string()),
        }
    }

    /// The current members of a segment, sorted (empty if none or unknown).
    pub fn member_keys(&self, segment: &str) -> Vec<SubjectKey> {
        self.members
            .get(segment)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The instant of the subject's first event matched by `outcome` in
    /// `(after, until]`; for an account, any of its contacts' events.
    pub fn first_outcome(
        &self,
        key: &SubjectKey,
        outcome: &EventSelector,
        after: Millis,
        until: Millis,
    ) -> Option<Millis> {
        self.with_view(key, |view| outcome.first_between(view, after, until))
            .flatten()
    }

    /// How many of the subject's events `selector` matches in
    /// `(after, until]`, and the sum of their `value`.
    pub fn outcome_value(
        &self,
        key: &SubjectKey,
        selector: &EventSelector,
        value: &ValueProperty,
        after: Millis,
        until: Millis,
    ) -> (u64, f64) {
        self.with_view(key, |view| selector.sum_between(view, value, after, until))
            .unwrap_or((0, 0.0))
    }

    /// The instant of the subject's first behavior event in `[from, to)`.
    pub fn first_activity(&self, key: &SubjectKey, from: Millis, to: Millis) -> Option<Millis> {
        let first_in = |c: &ContactState| {
            c.timeline
                .next_event_after(from.saturating_sub(1))
                .filter(|t| *t < to)
        };
        match key {
            SubjectKey::Contact(id) => self.state.contacts.get(id).and_then(first_in),
            SubjectKey::Account(g) => {
                let account = self.state.accounts.get(g)?;
                account
                    .contacts
                    .iter()
                    .filter_map(|id| self.state.contacts.get(id).and_then(first_in))
                    .min()
            }
        }
    }

    /// Runs `visit` with a view of the subject and its current values.
    pub(super) fn with_view<R>(
        &self,
        key: &SubjectKey,
        visit: impl FnOnce(&dyn SubjectView) -> R,
    ) -> Option<R> {
        let empty = Values::default();
        match key {
            SubjectKey::Contact(id) => {
                let contact = self.state.contacts.get(id)?;
                let account = self.state.account_of(contact);
                let values = self.values.get(key).unwrap_or(&empty);
                Some(evaluate::with_contact_view(contact, account, values, visit))
            }
            SubjectKey::Account(group_id) => {
                let account = self.state.accounts.get(group_id)?;
                let members = self.members_of(account, |id| {
                    self.values.get(&SubjectKey::Contact(id)).unwrap_or(&empty)
                });
                let values = self.values.get(key).unwrap_or(&empty);
                Some(evaluate::with_account_view(
                    group_id, account, &members, values, visit,
                ))
            }
        }
    }

    pub(super) fn account_known_at(&self, account: &AccountState, at: Millis) -> bool {
        self.state
            .account_first_seen(account)
            .is_some_and(|t| t <= at)
    }
}

pub(super) fn known_at(contact: &ContactState, at: Millis) -> bool {
    contact.first_seen().is_some_and(|t| t <= at)
}
