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

use bellwether_rules::{RuleSet, SubjectKind};

use super::evaluate::{self, Plan, Values};
use super::queries::Membership;
use super::state::SubjectKey;
use super::subjects::known_at;
use super::Engine;
use crate::message::{ContactId, Millis};

/// Values of every known subject as of the last instant replayed to.
pub struct Replay<'e> {
    engine: &'e Engine,
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
    pub fn new(engine: &'e Engine, rules: Arc<RuleSet>) -> Self {
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
        let mut touched: HashSet<Arc<str>> = HashSet::new();
        for (id, contact) in &state.contacts {
            if !known_at(contact, at) {
                continue;
            }
            let due = self
                .contacts
                .get(id)
                .is_none_or(|v| v.next_change.is_some_and(|t| t <= at));
            if !due {
                continue;
            }
            let account = contact.account.as_ref().and_then(|a| state.accounts.get(a));
            let values = match contact_rules {
                true => {
                    self.evaluations += 1;
                    evaluate::evaluate_contact(&self.rules, contact, account, at, Plan::Everything)
                }
                false => Values::default(),
            };
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
        for (group_id, account) in &self.engine.state.accounts {
            let members: Vec<_> = evaluate::sorted_members(account.contacts.iter().copied())
                .into_iter()
                .filter_map(|id| {
                    let values = self.contacts.get(&id)?;
                    Some((self.engine.state.contacts.get(&id)?, values))
                })
                .collect();
            if members.is_empty() {
                continue;
            }
            let due = touched.contains(group_id)
                || self.account_sizes.get(group_id) != Some(&members.len())
                || self
                    .accounts
                    .get(group_id)
                    .is_none_or(|v| v.next_change.is_some_and(|t| t <= at));
            if !due {
                continue;
            }
            self.evaluations += 1;
            let values = evaluate::evaluate_account(
                &self.rules,
                group_id,
                account,
                &members,
                at,
                Plan::Everything,
            );
            self.account_sizes.insert(group_id.clone(), members.len());
            self.accounts.insert(group_id.clone(), values);
        }
    }

    /// The members of `segment` as of the last instant, sorted.
    pub fn members(&self, segment: &str) -> BTreeSet<SubjectKey> {
        let contacts = self
            .contacts
            .iter()
            .filter(|(_, v)| v.segments.get(segment).copied().unwrap_or(false))
            .map(|(id, _)| SubjectKey::Contact(*id));
        let accounts = self
            .accounts
            .iter()
            .filter(|(_, v)| v.segments.get(segment).copied().unwrap_or(false))
            .map(|(g, _)| SubjectKey::Account(g.clone()));
        contacts.chain(accounts).collect()
    }

    /// A score of every known subject of its kind, as of the last instant.
    pub fn scores(&self, score: &str) -> Vec<(SubjectKey, f64)> {
        let Some(at) = self.at else {
            return Vec::new();
        };
        let contacts = self.contacts.iter().filter_map(|(id, v)| {
            let value = v.scores.get(score)?;
            Some((SubjectKey::Contact(*id), value.at(at)))
        });
        let accounts = self.accounts.iter().filter_map(|(g, v)| {
            let value = v.scores.get(score)?;
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
            push(&mut out, "contact", &label, values);
        }
        for (group_id, values) in &self.accounts {
            push(&mut out, "account", group_id, values);
        }
        out.sort();
        out
    }

    /// Subject evaluations done so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }
}

fn push(out: &mut Vec<Membership>, kind: &'static str, id: &str, values: &Values) {
    for (segment, member) in &values.segments {
        if *member {
            out.push(Membership {
                kind,
                id: id.to_owned(),
                segment: segment.to_string(),
            });
        }
    }
}
