//! Replaying stored history: definitions evaluated as of a series of
//! increasing instants (backtests, score quality), on the events the engine
//! holds, ignoring everything after each instant.
//!
//! Like the live engine, a subject is re-evaluated only when its values may
//! have changed: at or after the next-change instant of its last evaluation
//! (exact or early, never late), when it becomes known, or (an account)
//! when one of its contacts was re-evaluated. So the values at each instant
//! equal a full evaluation at that instant; a property test checks the
//! result against the live engine's memberships.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use bellwether_rules::{Events, RuleSet, SubjectKind};

use super::evaluate::{self, Plan};
use super::parallel;
use super::queries::{push_memberships, Membership};
use super::state::ContactState;
use super::subjects::known_at;
use super::values::Values;
use super::View;
use crate::message::{ContactId, Millis};
use crate::subject::SubjectKey;

/// Values of every known subject as of the last instant replayed to.
pub struct Replay<'e> {
    engine: &'e View,
    rules: Arc<RuleSet>,
    contacts: HashMap<ContactId, Values>,
    accounts: HashMap<Arc<str>, Values>,
    /// Known contacts per account when it was last evaluated.
    account_sizes: HashMap<Arc<str>, usize>,
    at: Option<Millis>,
    /// Subject evaluations so far (to bound and report the work).
    evaluations: u64,
}

impl<'e> Replay<'e> {
    /// A replay of `rules` over the engine's stored events.
    pub fn new(engine: &'e View, rules: Arc<RuleSet>) -> Self {
        Self {
            engine,
            rules,
            contacts: HashMap::new(),
            accounts: HashMap::new(),
            account_sizes: HashMap::new(),
            at: None,
            evaluations: 0,
        }
    }

    /// Brings every subject's values to `at`; instants must not decrease.
    pub fn advance(&mut self, at: Millis) {
        let at = self.at.map_or(at, |last| at.max(last));
        self.at = Some(at);
        let state = &self.engine.state;
        let has = |kind| self.rules.order().iter().any(|d| d.subject == kind);
        let (contact_rules, account_rules) = (has(SubjectKind::Contact), has(SubjectKind::Account));
        let due: Vec<(&ContactId, &ContactState)> = state
            .contacts
            .iter()
            .filter(|(id, contact)| {
                known_at(contact, at)
                    && self
                        .contacts
                        .get(id)
                        .is_none_or(|v| v.next_change.is_some_and(|t| t <= at))
            })
            .collect();
        let rules = &*self.rules;
        let evaluated = parallel::map(&due, |(_, contact)| match contact_rules {
            true => {
                let account = state.account_of(contact);
                evaluate::evaluate_contact(rules, contact, account, at, Plan::Everything, None)
            }
            false => Values::default(),
        });
        let mut touched: HashSet<Arc<str>> = HashSet::new();
        for ((id, contact), values) in due.into_iter().zip(evaluated) {
            self.evaluations += u64::from(contact_rules);
            self.contacts.insert(*id, values);
            if let Some(account) = &contact.account {
                touched.insert(account.clone());
            }
        }
        if account_rules {
            self.advance_accounts(at, &touched);
        }
    }

    fn advance_accounts(&mut self, at: Millis, touched: &HashSet<Arc<str>>) {
        let state = &self.engine.state;
        let mut due = Vec::new();
        for (group_id, account) in &state.accounts {
            let known = account
                .contacts
                .iter()
                .filter(|id| self.contacts.contains_key(id))
                .count();
            if known == 0 {
                continue;
            }
            let is_due = touched.contains(group_id)
                || self.account_sizes.get(group_id) != Some(&known)
                || self
                    .accounts
                    .get(group_id)
                    .is_none_or(|v| v.next_change.is_some_and(|t| t <= at));
            if is_due {
                self.account_sizes.insert(group_id.clone(), known);
                due.push((group_id, account));
            }
        }
        let (rules, contacts) = (&*self.rules, &self.contacts);
        let evaluated = parallel::map(&due, |(group_id, account)| {
            let members: Vec<_> = evaluate::sorted_members(account.contacts.iter().copied())
                .into_iter()
                .filter_map(|id| Some((state.contacts.get(&id)?, contacts.get(&id)?, None)))
                .collect();
            // Every contact's events: those after `at` (contacts not known
            // yet) only move the next change earlier.
            let timelines = state.member_timelines(account);
            let on = evaluate::AccountOn {
                events: Events::merged(&timelines, account.order.stamp()),
                tracker: None,
            };
            evaluate::evaluate_account_on(
                rules,
                group_id,
                account,
                &members,
                on,
                at,
                Plan::Everything,
            )
        });
        for ((group_id, _), values) in due.into_iter().zip(evaluated) {
            self.evaluations += 1;
            self.accounts.insert(group_id.clone(), values);
        }
    }

    /// The members of `segment` as of the last instant, sorted.
    pub fn members(&self, segment: &str) -> BTreeSet<SubjectKey> {
        let contacts = self
            .contacts
            .iter()
            .filter(|(_, v)| v.in_segment(segment).unwrap_or(false))
            .map(|(id, _)| SubjectKey::Contact(*id));
        let accounts = self
            .accounts
            .iter()
            .filter(|(_, v)| v.in_segment(segment).unwrap_or(false))
            .map(|(g, _)| SubjectKey::Account(g.clone()));
        contacts.chain(accounts).collect()
    }

    /// A score of every known subject of its kind, as of the last instant.
    pub fn scores(&self, score: &str) -> Vec<(SubjectKey, f64)> {
        let Some(at) = self.at else {
            return Vec::new();
        };
        let contacts = self.contacts.iter().filter_map(|(id, v)| {
            let value = v.score(score)?;
            Some((SubjectKey::Contact(*id), value.at(at)))
        });
        let accounts = self.accounts.iter().filter_map(|(g, v)| {
            let value = v.score(score)?;
            Some((SubjectKey::Account(g.clone()), value.at(at)))
        });
        let mut out: Vec<_> = contacts.chain(accounts).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Every membership as of the last instant, in the form of
    /// [`Engine::live_memberships`].
    pub fn memberships(&self) -> Vec<Membership> {
        let mut out = Vec::new();
        for (id, values) in &self.contacts {
            let label = self
                .engine
                .state
                .contacts
                .get(id)
                .map(|c| c.label.clone())
                .unwrap_or_default();
            push_memberships(&mut out, SubjectKind::Contact, &label, values);
        }
        for (group_id, values) in &self.accounts {
            push_memberships(&mut out, SubjectKind::Account, group_id, values);
        }
        out.sort();
        out
    }

    /// Subject evaluations done so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }
}
