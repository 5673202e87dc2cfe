//! What a definitions change would do, without applying it, as cheaply as
//! applying it: only the definitions whose meaning changed (and those that
//! depend on them) are evaluated, on top of each subject's live values,
//! unless the subject (or, for an account, one of its contacts) has a timer
//! due: then everything is evaluated for it, as the timer would. Equal to [`Engine::evaluate_all_with`], the
//! from-scratch reference (a test checks it).

use std::collections::HashMap;

use bellwether_rules::{RuleSet, SubjectKind};

use super::evaluate::{self, Plan};
use super::queries::{push_memberships, Membership};
use super::values::Values;
use super::View;
use crate::message::{ContactId, Millis};
use crate::subject::SubjectKey;

impl View {
    /// Every membership as of `at` under `rules`, sorted.
    pub fn memberships_under(&self, rules: &RuleSet, at: Millis) -> Vec<Membership> {
        // Subjects of a kind no definition change touches keep their live
        // values as they are.
        let super::DefinitionChange {
            changed,
            unchanged,
            touched_kinds: touched,
        } = self.definition_change(rules);
        let current =
            |live: Option<&Values>| live.is_some_and(|v| v.next_change.is_none_or(|t| t > at));
        let plan = |values: &Values| Plan::Only {
            start: values.clone(),
            changed: &changed,
            unchanged: &unchanged,
        };
        let contacts_touched = touched.contains(&SubjectKind::Contact);
        let contact_values: HashMap<ContactId, Values> = self
            .state
            .contacts
            .iter()
            .map(|(id, contact)| {
                let live = self.values.get(&SubjectKey::Contact(*id));
                let plan = match live.filter(|_| current(live)) {
                    Some(values) if !contacts_touched => return (*id, values.clone()),
                    Some(values) => plan(values),
                    None => Plan::Everything,
                };
                let account = self.state.account_of(contact);
                (
                    *id,
                    evaluate::evaluate_contact(rules, contact, account, at, plan, None),
                )
            })
            .collect();
        let mut out = Vec::new();
        for (id, values) in &contact_values {
            if let Some(contact) = self.state.contacts.get(id) {
                push_memberships(&mut out, SubjectKind::Contact, &contact.label, values);
            }
        }
        let accounts_touched = touched.contains(&SubjectKind::Account);
        let empty = Values::default();
        for (group_id, account) in &self.state.accounts {
            let live = self.values.get(&SubjectKey::Account(group_id.clone()));
            // A member's timer re-evaluates its account too.
            let members_current = account
                .contacts
                .iter()
                .all(|id| current(self.values.get(&SubjectKey::Contact(*id))));
            let plan = match live.filter(|_| members_current && current(live)) {
                Some(values) if !accounts_touched => {
                    push_memberships(&mut out, SubjectKind::Account, group_id, values);
                    continue;
                }
                Some(values) => plan(values),
                None => Plan::Everything,
            };
            let members = self.members_of(account, |id| contact_values.get(&id).unwrap_or(&empty));
            let values = evaluate::evaluate_account(rules, group_id, account, &members, at, plan);
            push_memberships(&mut out, SubjectKind::Account, group_id, &values);
        }
        out.sort();
        out
    }
}
