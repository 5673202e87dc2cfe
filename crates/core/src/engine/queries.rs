//! Read access for the API and the CLI: current values, members, explanations,
//! and a full evaluation as of any instant.

use std::sync::Arc;

use bellwether_rules::{DefKind, Explanation, LevelExplanation, SubjectKind, SubjectView, Tracker};

use super::evaluate::{self, Plan};
use super::state::{AccountState, ContactState};
use super::values::Values;
use super::{Change, Member, View};
use crate::message::{ContactId, Millis};
use crate::subject::SubjectKey;

/// One membership, as `bellwether eval` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub kind: SubjectKind,
    pub id: String,
    pub segment: String,
}

impl Membership {
    /// The order `eval` lists memberships in: by kind's text (accounts
    /// first), id, segment.
    fn order_key(&self) -> (&'static str, &str, &str) {
        (self.kind.as_str(), &self.id, &self.segment)
    }
}

impl Ord for Membership {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl PartialOrd for Membership {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One subject's values as of an instant (what `bellwether eval --scores`
/// and `--tiers` write).
#[derive(Debug, Clone)]
pub struct SubjectValues {
    pub kind: SubjectKind,
    /// The contact's label or the account's group id.
    pub id: String,
    pub values: Values,
}

impl View {
    pub fn contact_values(&self, contact: ContactId) -> Option<&Values> {
        self.values.get(&SubjectKey::Contact(contact))
    }

    pub fn account_values(&self, group_id: &str) -> Option<&Values> {
        self.values.get(&SubjectKey::Account(Arc::from(group_id)))
    }

    /// Current size of each segment, in definition order.
    pub fn segment_sizes(&self) -> Vec<(String, usize)> {
        self.rules
            .order()
            .iter()
            .filter(|d| d.kind == DefKind::Segment)
            .map(|d| {
                (
                    d.name.to_string(),
                    self.members.get(&*d.name).map_or(0, |m| m.len()),
                )
            })
            .collect()
    }

    /// Members of a segment ordered by id, after the `after` id, at most `limit`.
    pub fn segment_members(&self, segment: &str, after: Option<&str>, limit: usize) -> Vec<Member> {
        let Some(members) = self.members.get(segment) else {
            return Vec::new();
        };
        let mut listed: Vec<Member> = members
            .iter()
            .map(|(key, entered_at)| Member {
                id: self.label(key),
                entered_at: *entered_at,
            })
            .filter(|m| after.is_none_or(|a| m.id.as_str() > a))
            .collect();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        listed.truncate(limit);
        listed
    }

    /// The most recent membership changes, oldest first.
    pub fn recent_changes(&self, limit: usize) -> Vec<Change> {
        let skip = self.recent.len().saturating_sub(limit);
        self.recent.iter().skip(skip).cloned().collect()
    }

    /// Why a contact is in or out of a segment, as of `now`.
    pub fn explain_contact(
        &self,
        contact: ContactId,
        segment: &str,
        now: Millis,
    ) -> Option<Explanation> {
        self.with_contact(contact, |view| {
            self.rules.explain_segment(segment, view, now)
        })
    }

    /// Why a contact is at its level of a tier, as of `now`: every level's
    /// condition explained, in order.
    pub fn explain_contact_tier(
        &self,
        contact: ContactId,
        tier: &str,
        now: Millis,
    ) -> Option<Vec<LevelExplanation>> {
        self.with_contact(contact, |view| self.rules.explain_tier(tier, view, now))
    }

    /// [`View::explain_contact`] or [`View::explain_account`] as the
    /// indented text tree people read (`bellwether explain`).
    pub fn explain_text(&self, key: &SubjectKey, segment: &str, now: Millis) -> Option<String> {
        let explanation = match key {
            SubjectKey::Contact(id) => self.explain_contact(*id, segment, now),
            SubjectKey::Account(group_id) => self.explain_account(group_id, segment, now),
        }?;
        Some(explanation.render())
    }

    /// Why an account is in or out of a segment, as of `now`.
    pub fn explain_account(
        &self,
        group_id: &str,
        segment: &str,
        now: Millis,
    ) -> Option<Explanation> {
        self.with_account(group_id, |view| {
            self.rules.explain_segment(segment, view, now)
        })
    }

    /// [`View::explain_contact_tier`] for an account.
    pub fn explain_account_tier(
        &self,
        group_id: &str,
        tier: &str,
        now: Millis,
    ) -> Option<Vec<LevelExplanation>> {
        self.with_account(group_id, |view| self.rules.explain_tier(tier, view, now))
    }

    /// Hands `visit` what the evaluator reads about a contact.
    fn with_contact<R>(
        &self,
        contact: ContactId,
        visit: impl FnOnce(&dyn SubjectView) -> Option<R>,
    ) -> Option<R> {
        let state = self.state.contacts.get(&contact)?;
        let account = self.state.account_of(state);
        let values = self.contact_values(contact).cloned().unwrap_or_default();
        evaluate::with_contact_view(state, account, &values, visit)
    }

    /// Hands `visit` what the evaluator reads about an account.
    fn with_account<R>(
        &self,
        group_id: &str,
        visit: impl FnOnce(&dyn SubjectView) -> Option<R>,
    ) -> Option<R> {
        let account = self.state.accounts.get(group_id)?;
        let empty = Values::default();
        let members = self.members_of(account, |id| {
            self.values.get(&SubjectKey::Contact(id)).unwrap_or(&empty)
        });
        let values = self.account_values(group_id).cloned().unwrap_or_default();
        evaluate::with_account_view(group_id, account, &members, &values, visit)
    }

    pub(super) fn members_of<'a>(
        &'a self,
        account: &'a AccountState,
        values: impl Fn(ContactId) -> &'a Values,
    ) -> Vec<evaluate::Member<'a>> {
        evaluate::sorted_members(account.contacts.iter().copied())
            .into_iter()
            .filter_map(|id| Some((self.state.contacts.get(&id)?, values(id), None)))
            .collect()
    }

    /// Every membership as of `at`, evaluated from scratch (the reference the
    /// live state is checked against), sorted. Contacts are evaluated in
    /// parallel, then accounts.
    pub fn evaluate_all(&self, at: Millis) -> Vec<Membership> {
        self.evaluate_all_with(&self.rules, at)
    }

    /// [`Engine::evaluate_all`] under other definitions: what a definition
    /// change would do, without applying it.
    pub fn evaluate_all_with(
        &self,
        rules: &bellwether_rules::RuleSet,
        at: Millis,
    ) -> Vec<Membership> {
        let mut out = Vec::new();
        for subject in self.evaluate_values_with(rules, at) {
            push_memberships(&mut out, subject.kind, &subject.id, &subject.values);
        }
        out.sort();
        out
    }

    /// Every subject's values (scores, segments, tiers) as of `at`, evaluated
    /// from scratch: contacts (in parallel), then accounts, unordered.
    pub fn evaluate_values(&self, at: Millis) -> Vec<SubjectValues> {
        self.evaluate_values_with(&self.rules, at)
    }

    fn evaluate_values_with(
        &self,
        rules: &bellwether_rules::RuleSet,
        at: Millis,
    ) -> Vec<SubjectValues> {
        let contact_values = self.evaluate_contacts(rules, at);
        let mut out = Vec::with_capacity(contact_values.len() + self.state.accounts.len());
        let empty = Values::default();
        for (group_id, account) in &self.state.accounts {
            let members = self.members_of(account, |id| contact_values.get(&id).unwrap_or(&empty));
            let timelines = evaluate::timelines_of(&members);
            let events = bellwether_rules::Events::merged(&timelines, account.order.stamp());
            // A fresh tracker: one pass over the history, the same state
            // the live engine reaches incrementally.
            let mut tracker = Tracker::new();
            tracker.advance(rules.track_plan(), SubjectKind::Account, events, at);
            let on = evaluate::AccountOn {
                events,
                tracker: Some(&tracker),
            };
            let values = evaluate::evaluate_account_on(
                rules,
                group_id,
                account,
                &members,
                on,
                at,
                Plan::Everything,
            );
            out.push(SubjectValues {
                kind: SubjectKind::Account,
                id: group_id.to_string(),
                values,
            });
        }
        for (id, values) in contact_values {
            let label = self
                .state
                .contacts
                .get(&id)
                .map(|c| c.label.clone())
                .unwrap_or_default();
            out.push(SubjectValues {
                kind: SubjectKind::Contact,
                id: label,
                values,
            });
        }
        out
    }

    fn evaluate_contacts(
        &self,
        rules: &bellwether_rules::RuleSet,
        at: Millis,
    ) -> std::collections::HashMap<ContactId, Values> {
        let contacts: Vec<(&ContactId, &ContactState)> = self.state.contacts.iter().collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .max(1);
        let chunk = contacts.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = contacts
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(id, c)| {
                                let account = self.state.account_of(c);
                                let mut tracker = Tracker::new();
                                let plan = rules.track_plan();
                                tracker.advance(
                                    plan,
                                    SubjectKind::Contact,
                                    (&c.timeline).into(),
                                    at,
                                );
                                (
                                    **id,
                                    evaluate::evaluate_contact(
                                        rules,
                                        c,
                                        account,
                                        at,
                                        Plan::Everything,
                                        Some(&tracker),
                                    ),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        })
    }

    /// Live memberships right now, in the same form as [`Engine::evaluate_all`].
    pub fn live_memberships(&self) -> Vec<Membership> {
        let mut out = Vec::new();
        for (segment, members) in &self.members {
            for key in members.keys() {
                out.push(Membership {
                    kind: key.kind(),
                    id: self.label(key),
                    segment: segment.clone(),
                });
            }
        }
        out.sort();
        out
    }

    /// Health of every definition, in dependency order.
    pub fn definition_health(&self) -> Vec<super::DefinitionHealth> {
        self.rules
            .order()
            .iter()
            .enumerate()
            .map(|(position, d)| super::DefinitionHealth {
                kind: d.kind,
                name: d.name.to_string(),
                subject: d.subject,
                evaluations: self.health.evaluations(position, &d.name),
                last_change: self.health.last_change(&d.name),
            })
            .collect()
    }

    /// Subject evaluations since start. It grows whenever anything was
    /// evaluated (an event, a timer, a merge, a definitions change), so a
    /// reader can tell whether a result it cached may be stale.
    pub fn total_evaluations(&self) -> u64 {
        self.health.total_evaluations()
    }

    /// The `q` quantile of recent subject evaluation times.
    pub fn evaluation_time(&self, q: f64) -> Option<std::time::Duration> {
        self.health.evaluation_time(q)
    }

    /// Live contacts and accounts.
    pub fn subject_counts(&self) -> (usize, usize) {
        (self.state.contacts.len(), self.state.accounts.len())
    }

    /// Which kind of subject a segment is for.
    pub fn segment_subject(&self, segment: &str) -> Option<SubjectKind> {
        self.rules
            .order()
            .iter()
            .find(|d| d.kind == DefKind::Segment && &*d.name == segment)
            .map(|d| d.subject)
    }
}

pub(super) fn push_memberships(
    out: &mut Vec<Membership>,
    kind: SubjectKind,
    id: &str,
    values: &Values,
) {
    for (segment, member) in values.segments() {
        if member {
            out.push(Membership {
                kind,
                id: id.to_owned(),
                segment: segment.to_string(),
            });
        }
    }
}
