//! What the action layer reads about a subject when it routes a change:
//! who it is, its traits and account, and why it is in a segment.

use bellwether_rules::Explanation;
use serde_json::{Map, Value};

use super::View;
use crate::message::Millis;
use crate::subject::SubjectKey;

/// A subject as a delivery describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectSnapshot {
    /// User id (else anonymous id) of a contact, group id of an account.
    pub id: String,
    pub traits: Map<String, Value>,
    /// A contact's account.
    pub account_id: Option<String>,
    pub account_traits: Map<String, Value>,
}

impl View {
    /// The subject as of `at`, or `None` when it no longer exists.
    pub fn subject_snapshot(&self, key: &SubjectKey, at: Millis) -> Option<SubjectSnapshot> {
        match key {
            SubjectKey::Contact(id) => {
                let contact = self.state.contacts.get(id)?;
                let account = self.state.account_of(contact);
                Some(SubjectSnapshot {
                    id: contact.label.clone(),
                    traits: contact.traits.snapshot_at(at),
                    account_id: account.and(contact.account.as_ref().map(|a| a.to_string())),
                    account_traits: account
                        .map(|a| a.traits.snapshot_at(at))
                        .unwrap_or_default(),
                })
            }
            SubjectKey::Account(group_id) => {
                let account = self.state.accounts.get(group_id)?;
                let traits = account.traits.snapshot_at(at);
                Some(SubjectSnapshot {
                    id: group_id.to_string(),
                    account_traits: traits.clone(),
                    traits,
                    account_id: None,
                })
            }
        }
    }

    /// One trait as a pool routes by it, as of `at`: `account.NAME` is the
    /// trait of the subject's account (an account's own), `trait.NAME` or
    /// `NAME` the subject's own; unset and `null` are `None`, as in
    /// [`View::subject_snapshot`], without copying the other traits.
    pub fn trait_at(&self, key: &SubjectKey, name: &str, at: Millis) -> Option<Value> {
        let own = name.strip_prefix("trait.").unwrap_or(name);
        let (traits, name) = match (key, name.strip_prefix("account.")) {
            (SubjectKey::Contact(id), Some(account_trait)) => {
                let contact = self.state.contacts.get(id)?;
                (&self.state.account_of(contact)?.traits, account_trait)
            }
            (SubjectKey::Contact(id), None) => (&self.state.contacts.get(id)?.traits, own),
            (SubjectKey::Account(group_id), account_trait) => {
                let account = self.state.accounts.get(group_id)?;
                (&account.traits, account_trait.unwrap_or(own))
            }
        };
        traits
            .get_at(name, at)
            .filter(|value| !value.is_null())
            .cloned()
    }

    /// Why the subject is in or out of `segment` as of `at`.
    pub fn explanation(&self, key: &SubjectKey, segment: &str, at: Millis) -> Option<Explanation> {
        self.with_view(key, |view| self.rules.explain_segment(segment, view, at))
            .flatten()
    }

    /// A subject's current score value at `at`.
    pub fn score_value(&self, key: &SubjectKey, score: &str, at: Millis) -> Option<f64> {
        Some(self.values.get(key)?.score(score)?.at(at))
    }
}
