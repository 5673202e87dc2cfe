//! Whole-population passes split over the machine's cores: a first
//! start's history walk ([`super::backfill`]) and a restart's evaluation
//! at the checkpoint ([`super::restore`]). No subject reads another
//! group's state (an account with its contacts, or a contact alone), so
//! each part of the groups goes to an engine of its own over the shared
//! subjects, and what it computed is merged back afterwards.

use std::sync::Arc;

use super::state::ContactState;
use super::{Change, Engine};
use crate::message::{ContactId, Millis};
use crate::subject::SubjectKey;

/// An account with its contacts, or a contact alone: each subject with
/// the instant of its first message. No group reads another's state.
pub(super) type Group = Vec<(SubjectKey, Millis)>;

impl Engine {
    /// An engine for one part of the groups: this one's subjects (shared),
    /// rules, watches and routing instant, nothing evaluated yet.
    pub(super) fn walker(&self) -> Engine {
        let mut walker = Engine::new(Arc::clone(&self.view.rules));
        walker.view.state = self.view.state.clone();
        walker.watches = self.watches.clone();
        walker.routed_from = self.routed_from;
        walker
    }

    /// Takes over what a walker computed for its groups: values,
    /// memberships, timers, trackers, counts and recent changes. A walker
    /// edits no subject: they stay shared with this engine's.
    pub(super) fn absorb_walker(&mut self, walker: Engine) {
        let Engine {
            view,
            timers,
            trackers,
            ..
        } = walker;
        self.view.values.extend(view.values);
        for (segment, members) in view.members {
            let merged = self.view.members.entry(segment).or_default();
            *merged = std::mem::take(merged).union(members);
        }
        self.view.health.absorb(view.health);
        self.timers.absorb(timers);
        self.trackers.extend(trackers);
        let mut recent: Vec<Change> = std::mem::take(&mut self.view.recent)
            .into_iter()
            .chain(view.recent)
            .collect();
        recent.sort_by_key(|change| change.at);
        let excess = recent.len().saturating_sub(super::RECENT_CHANGES);
        self.view.recent = recent.into_iter().skip(excess).collect();
    }

    /// Each account with its contacts, and each contact without an
    /// account alone, split into `parts` parts of about equal work (events
    /// walked): the largest group first to the lightest part. `State` keeps
    /// a contact in the `contacts` of exactly the account it names.
    pub(super) fn groups_in_parts(&self, now: Millis, parts: usize) -> Vec<Vec<Group>> {
        let state = &self.view.state;
        let contact = |id: &ContactId, contact: &ContactState| {
            let first = contact.first_seen().unwrap_or(now).min(now);
            ((SubjectKey::Contact(*id), first), contact.timeline.len())
        };
        let accounts = state.accounts.iter().map(|(group_id, account)| {
            let members = account.contacts.iter();
            let (mut group, events): (Group, Vec<usize>) = members
                .filter_map(|id| Some(contact(id, state.contacts.get(id)?)))
                .unzip();
            let first = state.account_first_seen(account).unwrap_or(now).min(now);
            group.push((SubjectKey::Account(group_id.clone()), first));
            // The account walks its members' events too.
            (group, 2 * events.iter().sum::<usize>() + 1)
        });
        let alone = state
            .contacts
            .iter()
            .filter(|(_, c)| c.account.is_none())
            .map(|(id, c)| {
                let (subject, events) = contact(id, c);
                (vec![subject], events + 1)
            });
        let mut groups: Vec<(Group, usize)> = accounts.chain(alone).collect();
        groups.sort_by_key(|(_, work)| std::cmp::Reverse(*work));
        let parts = parts.clamp(1, groups.len().max(1));
        let mut split: Vec<(usize, Vec<Group>)> = vec![(0, Vec::new()); parts];
        for (group, work) in groups {
            if let Some(lightest) = split.iter_mut().min_by_key(|(load, _)| *load) {
                lightest.0 += work;
                lightest.1.push(group);
            }
        }
        split.into_iter().map(|(_, groups)| groups).collect()
    }
}
