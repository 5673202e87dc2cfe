//! Which definitions a timer re-evaluates: those whose own next-change
//! instant came, and those an input reached since the subject's last
//! evaluation (an event their selectors name, a trait they read, a change
//! at one of an account's contacts). The others keep their values: a
//! subject due because one window edge passed costs one definition, not
//! the whole rule set (see `bellwether_rules::Triggers`). An account hears
//! of its contacts only the changes its definitions read
//! ([`read_by_accounts_change`]).

use bellwether_rules::{Event, Events, MemberChange, RuleSet, SubjectKind, Traits};

use super::evaluate::{first_input_after, first_own_next, Dirty, Plan};
use super::values::{Slot, Values};
use super::Engine;
use crate::message::Millis;
use crate::subject::SubjectKey;

/// What may have reached a subject's definitions since its last evaluation.
struct Inputs<'a> {
    kind: SubjectKind,
    events: Events<'a>,
    traits: &'a Traits,
    /// A contact's account's traits.
    account_traits: Option<&'a Traits>,
    /// For an account: what changed at its contacts at this instant.
    members: Option<&'a MemberChange>,
}

/// What a timer does for a subject.
pub(super) enum Due {
    /// Evaluate it by this plan.
    Evaluate(Plan<'static>),
    /// Nothing reached any of its definitions: its values hold at the
    /// instant, and it is next due at `next` (the first of its definitions'
    /// own next changes and its next stored input).
    Idle { next: Option<Millis> },
}

impl Engine {
    /// What a timer at `at` does for `key`: evaluate every definition when
    /// the last evaluation kept no own next changes for these rules (or its
    /// timeline was edited since), else only the dirty ones; nothing at
    /// all when none is (an event no definition names, a member's change
    /// its account does not read).
    pub(super) fn due_plan(
        &self,
        key: &SubjectKey,
        at: Millis,
        members: Option<&MemberChange>,
    ) -> Due {
        let Some(previous) = self.view.values.get(key) else {
            return Due::Evaluate(Plan::Tracked(None));
        };
        let state = &self.view.state;
        let timelines = match key {
            SubjectKey::Account(group_id) => state
                .accounts
                .get(group_id)
                .map(|account| state.member_timelines(account))
                .unwrap_or_default(),
            SubjectKey::Contact(_) => Vec::new(),
        };
        let inputs = match key {
            SubjectKey::Contact(id) => state.contacts.get(id).map(|contact| Inputs {
                kind: SubjectKind::Contact,
                events: (&contact.timeline).into(),
                traits: &contact.traits,
                account_traits: state.account_of(contact).map(|a| &a.traits),
                members: None,
            }),
            SubjectKey::Account(group_id) => state.accounts.get(group_id).map(|account| Inputs {
                kind: SubjectKind::Account,
                events: Events::merged(&timelines, account.order.stamp()),
                traits: &account.traits,
                account_traits: None,
                members,
            }),
        };
        let Some(inputs) = inputs else {
            return Due::Evaluate(Plan::Tracked(None));
        };
        let rules = &self.view.rules;
        match dirty_flags(rules, previous, at, &inputs) {
            Some(flags) if !flags.contains(&true) => Due::Idle {
                next: idle_next(rules, previous, at, &inputs),
            },
            Some(flags) => Due::Evaluate(Plan::Tracked(Some(Dirty {
                start: previous.clone(),
                flags,
            }))),
            None => Due::Evaluate(Plan::Tracked(None)),
        }
    }
}

/// When a subject none of whose definitions a timer reached is next due:
/// what its evaluation at `at` would have found (`evaluate::with_own`),
/// its definitions' own next changes being those kept.
fn idle_next(
    rules: &RuleSet,
    previous: &Values,
    at: Millis,
    inputs: &Inputs<'_>,
) -> Option<Millis> {
    let own = previous.own.as_ref()?;
    let own_next = first_own_next(rules, inputs.kind, &own.next);
    let traits = [Some(inputs.traits), inputs.account_traits];
    let input = first_input_after(at, inputs.events, &traits);
    [own_next, input].into_iter().flatten().min()
}

/// Per definition (by position in the order), whether it must be evaluated
/// at `at`; `None` when everything must.
fn dirty_flags(
    rules: &RuleSet,
    previous: &Values,
    at: Millis,
    inputs: &Inputs<'_>,
) -> Option<Vec<bool>> {
    let own = previous.own.as_ref()?;
    if own.plan != rules.track_plan().id()
        || own.at > at
        || own.stamp != inputs.events.stamp()
        || own.next.len() != rules.order().len()
        || own.decided.len() != rules.order().len()
    {
        return None;
    }
    let since = own.at;
    let changed_in = |traits: &Traits| traits.next_change_after(since).is_some_and(|t| t <= at);
    let own_traits = changed_in(inputs.traits);
    let account_traits = inputs.account_traits.is_some_and(changed_in);
    let any_arrived = inputs
        .events
        .next_event_after(since)
        .is_some_and(|t| t <= at);
    let arrived: Vec<&Event> = match any_arrived {
        true => inputs.events.range(since + 1, at).collect(),
        false => Vec::new(),
    };
    let flags = rules
        .order()
        .iter()
        .zip(rules.triggers())
        .zip(own.next.iter())
        .zip(&own.decided)
        .map(|(((def, triggers), next), decided)| {
            // While one operand decides a segment, only its inputs count.
            let triggers = triggers.deciding(decided.map(usize::from));
            def.subject == inputs.kind
                && (next.is_some_and(|next| next <= at)
                    || (own_traits && triggers.by_own_traits())
                    || (account_traits && triggers.by_account_traits())
                    || inputs
                        .members
                        .is_some_and(|members| triggers.by_members(members, &arrived))
                    || arrived.iter().any(|event| triggers.by_event(event)))
        })
        .collect();
    Some(flags)
}

/// What of a contact's change its account reads: the definitions among
/// [`RuleSet::read_by_accounts`] whose value (a score's closed form, a
/// membership, a tier level) differs, or a score whose next change came
/// sooner; everything for a contact evaluated for the first time.
///
/// A score's next change moving later (every event does it to
/// `days_since(any) >= 14`) is not a change the account must hear of: the
/// account keeps the earlier instant among its own, and a next change may
/// be early, never late; evaluated then, it finds the later one.
pub(super) fn read_by_accounts_change(
    rules: &RuleSet,
    previous: Option<&Values>,
    values: &Values,
) -> MemberChange {
    let Some(previous) = previous else {
        return MemberChange {
            everything: true,
            ..MemberChange::default()
        };
    };
    let defs = rules
        .read_by_accounts()
        .iter()
        .copied()
        .filter(|&at| match (previous.at(rules, at), values.at(rules, at)) {
            (Slot::Score(was), Slot::Score(is)) => {
                !was.same_form(is) || sooner(was.next_change, is.next_change)
            }
            (was, is) => was != is,
        })
        .collect();
    MemberChange {
        defs,
        ..MemberChange::default()
    }
}

/// Whether a next-change instant moved earlier (or appeared).
fn sooner(was: Option<i64>, is: Option<i64>) -> bool {
    match (was, is) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(was), Some(is)) => is < was,
    }
}

/// Whether an evaluation with these dirty `flags` may compute a definition
/// that reads an account's contacts: a flagged one, or one reading a value
/// a flagged one may change (the cascade of `evaluate_kind`). When none
/// may, the account's members need not be gathered.
pub(super) fn may_read_members(rules: &RuleSet, flags: &[bool]) -> bool {
    let triggers = rules.triggers();
    let mut may_run = vec![false; flags.len()];
    for at in 0..flags.len().min(triggers.len()) {
        may_run[at] = flags[at] || triggers[at].deps().iter().any(|d| may_run[*d]);
        if may_run[at] && triggers[at].reads_members() {
            return true;
        }
    }
    false
}
