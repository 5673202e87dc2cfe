//! Exact segment transitions over a period, recomputed from the stored
//! events: each subject is evaluated when it becomes known and then at each
//! of its next-change instants (exactly what the live engine's timers do),
//! so entries are found at their true instant even for history that was
//! imported rather than lived through.

use bellwether_rules::{Events, RuleSet, SubjectKind, Timeline};

use super::evaluate::{self, Plan};
use super::parallel;
use super::state::{AccountState, ContactState};
use super::subjects::known_at;
use super::values::Values;
use super::View;
use crate::message::{ContactId, Millis};
use crate::subject::SubjectKey;

/// One subject's membership of a segment over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transitions {
    pub key: SubjectKey,
    /// Whether it was a member at `from`.
    pub member_at_start: bool,
    /// Its first entry in the period, if any.
    pub first_entry: Option<Millis>,
}

impl View {
    /// Every subject known before `to` whose membership of `segment` (under
    /// `rules`, which must define it) was true at some point in `[from, to)`,
    /// sorted by key.
    pub fn segment_transitions(
        &self,
        rules: &RuleSet,
        segment: &str,
        from: Millis,
        to: Millis,
    ) -> Vec<Transitions> {
        let Some(kind) = rules
            .order()
            .iter()
            .find(|d| &*d.name == segment)
            .map(|d| d.subject)
        else {
            return Vec::new();
        };
        let mut out: Vec<Transitions> = match kind {
            SubjectKind::Contact => {
                let contacts: Vec<_> = self.state.contacts.iter().collect();
                parallel::map(&contacts, |(id, contact)| {
                    let account = self.state.account_of(contact);
                    let evaluate = |at| {
                        evaluate::evaluate_contact(
                            rules,
                            contact,
                            account,
                            at,
                            Plan::Everything,
                            None,
                        )
                    };
                    let key = SubjectKey::Contact(**id);
                    walk(key, segment, from, contact.first_seen()?, to, evaluate)
                })
                .into_iter()
                .flatten()
                .collect()
            }
            SubjectKind::Account => {
                let accounts: Vec<_> = self.state.accounts.iter().collect();
                parallel::map(&accounts, |(group_id, account)| {
                    let contacts = self.account_contacts(account);
                    let first_seen = contacts.iter().filter_map(|c| c.1.first_seen()).min()?;
                    let mut walk_account = AccountWalk::new(rules, group_id, account, contacts);
                    let evaluate = |at| walk_account.evaluate(at);
                    let key = SubjectKey::Account((*group_id).clone());
                    walk(key, segment, from, first_seen, to, evaluate)
                })
                .into_iter()
                .flatten()
                .collect()
            }
        };
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    fn account_contacts<'a>(
        &'a self,
        account: &AccountState,
    ) -> Vec<(ContactId, &'a ContactState)> {
        evaluate::sorted_members(account.contacts.iter().copied())
            .into_iter()
            .filter_map(|id| Some((id, self.state.contacts.get(&id)?)))
            .collect()
    }
}

/// Follows one subject from just before `from` (or from when it became
/// known, `first_seen`) through its next-change instants until `to`;
/// `None` if it was never a member in the period.
fn walk(
    key: SubjectKey,
    segment: &str,
    from: Millis,
    first_seen: Millis,
    to: Millis,
    mut evaluate: impl FnMut(Millis) -> Values,
) -> Option<Transitions> {
    let is_member = |v: &Values| v.in_segment(segment).unwrap_or(false);
    // A member just before the period is a member at its start; an entry
    // at `from` itself is an entry in the period.
    let mut at = match first_seen < from {
        true => from - 1,
        false => first_seen,
    };
    if at >= to {
        return None;
    }
    let mut values = evaluate(at);
    if at < from && is_member(&values) {
        return Some(Transitions {
            key,
            member_at_start: true,
            first_entry: None,
        });
    }
    loop {
        if is_member(&values) {
            return Some(Transitions {
                key,
                member_at_start: false,
                first_entry: Some(at),
            });
        }
        match values.next_change.map(|t| t.max(at + 1)) {
            Some(next) if next < to => {
                at = next;
                values = evaluate(at);
            }
            _ => return None,
        }
    }
}

/// An account followed through time: its contacts' timelines read as one,
/// each contact's values kept until their own next change.
struct AccountWalk<'a> {
    rules: &'a RuleSet,
    group_id: &'a str,
    account: &'a AccountState,
    contacts: Vec<(&'a ContactState, Option<Values>)>,
    timelines: Vec<&'a Timeline>,
    /// Whether the rules define anything for contacts.
    contact_rules: bool,
}

impl<'a> AccountWalk<'a> {
    fn new(
        rules: &'a RuleSet,
        group_id: &'a str,
        account: &'a AccountState,
        contacts: Vec<(ContactId, &'a ContactState)>,
    ) -> Self {
        let timelines = contacts.iter().map(|(_, c)| &c.timeline).collect();
        Self {
            rules,
            group_id,
            account,
            contacts: contacts.into_iter().map(|(_, c)| (c, None)).collect(),
            timelines,
            contact_rules: rules
                .order()
                .iter()
                .any(|d| d.subject == SubjectKind::Contact),
        }
    }

    /// The account's values at `at` (instants must not decrease). The next
    /// change is the earliest of the account's and its contacts' (a
    /// contact's change, or one becoming known, moves the account).
    fn evaluate(&mut self, at: Millis) -> Values {
        let mut next: Option<Millis> = None;
        let mut earliest = |t: Option<Millis>| {
            next = match (next, t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        for (contact, cached) in &mut self.contacts {
            if !known_at(contact, at) {
                earliest(contact.first_seen());
                continue;
            }
            let stale = cached
                .as_ref()
                .is_none_or(|v| v.next_change.is_some_and(|t| t <= at));
            if stale {
                *cached = Some(match self.contact_rules {
                    true => evaluate::evaluate_contact(
                        self.rules,
                        contact,
                        Some(self.account),
                        at,
                        Plan::Everything,
                        None,
                    ),
                    false => Values::default(),
                });
            }
            earliest(cached.as_ref().and_then(|v| v.next_change));
        }
        let members: Vec<evaluate::Member<'_>> = self
            .contacts
            .iter()
            .filter_map(|(c, v)| Some((*c, v.as_ref()?, None)))
            .filter(|(c, _, _)| known_at(c, at))
            .collect();
        let on = evaluate::AccountOn {
            events: Events::merged(&self.timelines, self.account.order.stamp()),
            tracker: None,
        };
        let mut values = evaluate::evaluate_account_on(
            self.rules,
            self.group_id,
            self.account,
            &members,
            on,
            at,
            Plan::Everything,
        );
        earliest(values.next_change);
        values.next_change = next;
        values
    }
}
