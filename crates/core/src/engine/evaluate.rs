//! Evaluating one subject: every definition of its kind, in the rule set's
//! dependency order, through views that borrow the engine's state (no
//! timeline is copied: an account reads its members' merged).
//!
//! Invariant: pure. The result depends only on the state and the instant.

use std::collections::HashSet;
use std::sync::Arc;

use bellwether_rules::{
    scan_future_changes, DefKind, DefRef, Events, RuleSet, ScoreValue, SubjectKind, SubjectView,
    Timeline, Tracker, Traits,
};

use super::state::{AccountState, ContactState};
use crate::message::ContactId;

use super::values::{Instants, OwnNexts, Slot, Values};

/// What a tracked evaluation tells besides the values, by position in the
/// rule set's order.
struct TrackedOut {
    next: Instants,
    evaluated: Vec<bool>,
    decided: Vec<Option<u8>>,
}

struct ContactView<'a> {
    id: &'a str,
    timeline: &'a Timeline,
    traits: &'a Traits,
    account_traits: Option<&'a Traits>,
    values: &'a Values,
    tracker: Option<&'a Tracker>,
    /// (instant, first stored change after it), asked by every definition
    /// of one evaluation; `None` for an account's members (an account
    /// never asks for theirs).
    future: Option<&'a FutureCache>,
}

impl SubjectView for ContactView<'_> {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Contact
    }
    fn id(&self) -> &str {
        self.id
    }
    fn events(&self) -> Events<'_> {
        Events::from(self.timeline)
    }
    fn traits(&self) -> &Traits {
        self.traits
    }
    fn account_traits(&self) -> Option<&Traits> {
        self.account_traits
    }
    fn score(&self, name: &str) -> Option<ScoreValue> {
        self.values.score(name)
    }
    fn in_segment(&self, name: &str) -> Option<bool> {
        self.values.in_segment(name)
    }
    fn tier(&self, name: &str) -> Option<Arc<str>> {
        self.values.tier(name).cloned()
    }
    fn tracker(&self) -> Option<&Tracker> {
        self.tracker
    }
    fn cached_future_changes(&self, now: i64) -> Option<Option<i64>> {
        let future = self.future?;
        Some(future.get(now, || scan_future_changes(self, now)))
    }
}

struct AccountView<'a> {
    id: &'a str,
    events: Events<'a>,
    traits: &'a Traits,
    contacts: &'a [ContactView<'a>],
    values: &'a Values,
    tracker: Option<&'a Tracker>,
    future: &'a FutureCache,
}

impl SubjectView for AccountView<'_> {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Account
    }
    fn id(&self) -> &str {
        self.id
    }
    fn events(&self) -> Events<'_> {
        self.events
    }
    fn traits(&self) -> &Traits {
        self.traits
    }
    fn account_traits(&self) -> Option<&Traits> {
        Some(self.traits)
    }
    fn score(&self, name: &str) -> Option<ScoreValue> {
        self.values.score(name)
    }
    fn in_segment(&self, name: &str) -> Option<bool> {
        self.values.in_segment(name)
    }
    fn tier(&self, name: &str) -> Option<Arc<str>> {
        self.values.tier(name).cloned()
    }
    fn tracker(&self) -> Option<&Tracker> {
        self.tracker
    }
    fn cached_future_changes(&self, now: i64) -> Option<Option<i64>> {
        Some(self.future.get(now, || scan_future_changes(self, now)))
    }
    fn for_each_contact(&self, visit: &mut dyn FnMut(&dyn SubjectView)) {
        for contact in self.contacts {
            visit(contact);
        }
    }
}

/// A view's first stored change after an instant, computed once.
#[derive(Default)]
struct FutureCache(std::cell::Cell<Option<(i64, Option<i64>)>>);

impl FutureCache {
    /// Under [`Plan::Tracked`], definitions are told of no future change:
    /// their own next changes are kept apart, and the subject's adds the
    /// stored ones once ([`with_own`]).
    fn for_plan(plan: &Plan<'_>, now: i64) -> Self {
        let cache = FutureCache::default();
        if plan.tracked() {
            cache.0.set(Some((now, None)));
        }
        cache
    }

    fn get(&self, now: i64, compute: impl FnOnce() -> Option<i64>) -> Option<i64> {
        match self.0.get() {
            Some((at, next)) if at == now => next,
            _ => {
                let next = compute();
                self.0.set(Some((now, next)));
                next
            }
        }
    }
}

/// Hands a view of the subject (with the values computed so far) to a visitor.
type WithView<'f> = dyn Fn(&Values, &mut dyn FnMut(&dyn SubjectView)) + 'f;

/// Definitions as (kind, name).
pub(crate) type DefSet = HashSet<(DefKind, Arc<str>)>;

/// Values still valid at the instant, and which definitions to evaluate
/// again on top of them (by position in the rule set's order).
pub(crate) struct Dirty {
    pub(crate) start: Values,
    pub(crate) flags: Vec<bool>,
}

/// What to evaluate for one subject.
pub(crate) enum Plan<'a> {
    /// Every definition of the subject's kind.
    Everything,
    /// Only `changed`, on top of `start`: values from an evaluation still
    /// valid at this instant, of which only the `unchanged` definitions are
    /// kept (the rest were redefined or dropped).
    Only {
        start: Values,
        changed: &'a DefSet,
        unchanged: &'a DefSet,
    },
    /// The engine's own evaluation: every definition, or only the dirty
    /// ones (and those reading a value that changed); each definition's own
    /// next-change instant is kept in [`Values::own`].
    Tracked(Option<Dirty>),
}

impl Plan<'_> {
    /// The values to start from.
    fn start(&mut self, rules: &RuleSet) -> Values {
        let (start, unchanged) = match self {
            Plan::Only {
                start, unchanged, ..
            } => (start, *unchanged),
            Plan::Tracked(Some(dirty)) => return std::mem::take(&mut dirty.start),
            Plan::Everything | Plan::Tracked(None) => return Values::default(),
        };
        let mut values = std::mem::take(start);
        values.own = None;
        values.retain_for(rules, |kind, name| {
            unchanged.contains(&(kind, name.clone()))
        });
        values
    }

    fn includes(&self, def: &DefRef) -> bool {
        match self {
            Plan::Everything | Plan::Tracked(_) => true,
            Plan::Only { changed, .. } => changed.contains(&(def.kind, def.name.clone())),
        }
    }

    /// Whether own next-change instants are kept (and future stored
    /// changes left out of each definition's).
    fn tracked(&self) -> bool {
        matches!(self, Plan::Tracked(_))
    }
}

/// Evaluates the planned definitions of `kind` against a view of the values
/// so far. Under [`Plan::Tracked`], returns each definition's own next
/// change and which definitions were computed too.
fn evaluate_kind(
    rules: &RuleSet,
    kind: SubjectKind,
    now: i64,
    mut plan: Plan<'_>,
    view: &WithView<'_>,
) -> (Values, Option<TrackedOut>) {
    let mut values = plan.start(rules);
    let order = rules.order();
    let (mut own, mut decided) = match values.own.take() {
        _ if !plan.tracked() => (None, Vec::new()),
        Some(kept) => (Some(kept.next), kept.decided),
        None => (Some(Instants::none(order.len())), vec![None; order.len()]),
    };
    let mut evaluated = vec![false; if own.is_some() { order.len() } else { 0 }];
    let flags = match &plan {
        Plan::Tracked(Some(dirty)) => Some(dirty.flags.as_slice()),
        _ => None,
    };
    // Which definitions changed value in this evaluation (read by dirty ones).
    let mut changed = vec![false; if flags.is_some() { order.len() } else { 0 }];
    for (at, def) in order.iter().enumerate() {
        if def.subject != kind || !plan.includes(def) {
            continue;
        }
        if let Some(flags) = flags {
            let reads_changed = rules.triggers()[at].deps().iter().any(|d| changed[*d]);
            if !flags[at] && !reads_changed {
                continue;
            }
        }
        if let Some(evaluated) = evaluated.get_mut(at) {
            *evaluated = true;
        }
        let mut computed: Option<Computed> = None;
        view(&values, &mut |subject| {
            computed = Some(compute(rules, def.kind, &def.name, subject, now));
        });
        let next = match computed {
            Some(Computed::Score(Some(score))) => {
                let next = score.next_change;
                let old = values.replace_score(rules, kind, at, score);
                if flags.is_some() {
                    changed[at] = old.is_none_or(|old| {
                        !old.same_form(&score) || old.next_change != score.next_change
                    });
                }
                next
            }
            Some(Computed::Segment(Some((result, operand)))) => {
                if let Some(decided) = decided.get_mut(at) {
                    *decided = operand.and_then(|operand| u8::try_from(operand).ok());
                }
                let old = values.replace(rules, kind, at, Slot::Segment(result.value));
                if flags.is_some() {
                    changed[at] = old != Slot::Segment(result.value);
                }
                result.next_change
            }
            Some(Computed::Tier(Some(result))) => {
                let level = result.value.map_or(Slot::Unset, Slot::Tier);
                let old = values.replace(rules, kind, at, level.clone());
                if flags.is_some() {
                    changed[at] = old != level;
                }
                result.next_change
            }
            _ => continue,
        };
        match own.as_mut() {
            Some(own) => own.set(at, next),
            None => values.note_change(next),
        }
    }
    if let Some(own) = &own {
        values.next_change = first_own_next(rules, kind, own);
    }
    let tracked = own.map(|next| TrackedOut {
        next,
        evaluated,
        decided,
    });
    (values, tracked)
}

enum Computed {
    Score(Option<ScoreValue>),
    /// With the top-level operand that decided it.
    Segment(Option<(bellwether_rules::Evaluated<bool>, Option<usize>)>),
    Tier(Option<bellwether_rules::Evaluated<Option<Arc<str>>>>),
}

fn compute(
    rules: &RuleSet,
    kind: DefKind,
    name: &str,
    subject: &dyn SubjectView,
    now: i64,
) -> Computed {
    match kind {
        DefKind::Score => Computed::Score(rules.evaluate_score(name, subject, now)),
        DefKind::Segment => Computed::Segment(rules.evaluate_segment_deciding(name, subject, now)),
        DefKind::Tier => Computed::Tier(rules.evaluate_tier(name, subject, now)),
    }
}

/// Evaluates a contact; `tracker` (when at `now` for these rules) answers
/// the aggregates it keeps.
pub(crate) fn evaluate_contact(
    rules: &RuleSet,
    contact: &ContactState,
    account: Option<&AccountState>,
    now: i64,
    plan: Plan<'_>,
    tracker: Option<&Tracker>,
) -> Values {
    let account_traits = account.map(|a| &a.traits);
    let future = FutureCache::for_plan(&plan, now);
    let (values, own) = evaluate_kind(rules, SubjectKind::Contact, now, plan, &|values, visit| {
        visit(&ContactView {
            id: &contact.label,
            timeline: &contact.timeline,
            traits: &contact.traits,
            account_traits,
            values,
            tracker,
            future: Some(&future),
        })
    });
    let inputs = [Some(&contact.traits), account_traits];
    with_own(rules, values, own, now, (&contact.timeline).into(), &inputs)
}

/// Keeps the definitions' own next changes (when tracked) and adds the
/// first stored event or trait change after `now` to the subject's: what
/// `scan_future_changes` reads through a view, read here once per subject
/// instead of once per definition.
fn with_own(
    rules: &RuleSet,
    mut values: Values,
    own: Option<TrackedOut>,
    now: i64,
    events: Events<'_>,
    traits: &[Option<&Traits>],
) -> Values {
    let Some(TrackedOut {
        next,
        evaluated,
        decided,
    }) = own
    else {
        return values;
    };
    values.note_change(first_input_after(now, events, traits));
    values.own = Some(OwnNexts {
        plan: rules.track_plan().id(),
        at: now,
        stamp: events.stamp(),
        next,
        evaluated,
        decided,
    });
    values
}

/// The first of the own next changes (by position in the rule set's
/// order) of `kind`'s definitions.
pub(crate) fn first_own_next(rules: &RuleSet, kind: SubjectKind, own: &Instants) -> Option<i64> {
    rules
        .order()
        .iter()
        .zip(own.iter())
        .filter(|(def, _)| def.subject == kind)
        .filter_map(|(_, next)| next)
        .min()
}

/// The first stored event or trait change after `now`: an input that
/// will reach the subject's definitions by itself.
pub(crate) fn first_input_after(
    now: i64,
    events: Events<'_>,
    traits: &[Option<&Traits>],
) -> Option<i64> {
    let changes = traits.iter().flatten().map(|t| t.next_change_after(now));
    std::iter::once(events.next_event_after(now))
        .chain(changes)
        .flatten()
        .min()
}

/// A member contact of an account: its state, values and tracker.
pub(crate) type Member<'a> = (&'a ContactState, &'a Values, Option<&'a Tracker>);

/// Views of an account's member contacts (they read `account.x` from it).
fn member_views<'a>(account: &'a AccountState, members: &'a [Member<'a>]) -> Vec<ContactView<'a>> {
    members
        .iter()
        .map(|(c, values, tracker)| ContactView {
            id: &c.label,
            timeline: &c.timeline,
            traits: &c.traits,
            account_traits: Some(&account.traits),
            values,
            tracker: *tracker,
            future: None,
        })
        .collect()
}

/// Evaluates an account; its contacts' values must be current, and
/// `members` must be all of them.
pub(crate) fn evaluate_account(
    rules: &RuleSet,
    group_id: &str,
    account: &AccountState,
    members: &[Member<'_>],
    now: i64,
    plan: Plan<'_>,
) -> Values {
    let timelines = timelines_of(members);
    let on = AccountOn {
        events: Events::merged(&timelines, account.order.stamp()),
        tracker: None,
    };
    evaluate_account_on(rules, group_id, account, members, on, now, plan)
}

/// The timelines of members, to read as an account's events.
pub(crate) fn timelines_of<'a>(members: &[Member<'a>]) -> Vec<&'a Timeline> {
    members.iter().map(|(c, _, _)| &c.timeline).collect()
}

/// An account's events, and its tracker if it is kept.
#[derive(Clone, Copy)]
pub(crate) struct AccountOn<'a> {
    pub(crate) events: Events<'a>,
    pub(crate) tracker: Option<&'a Tracker>,
}

/// [`evaluate_account`] reading the account's events and tracker from
/// `on`: the engine gathers the members only when a definition reading
/// them may run, but the events always.
pub(crate) fn evaluate_account_on(
    rules: &RuleSet,
    group_id: &str,
    account: &AccountState,
    members: &[Member<'_>],
    on: AccountOn<'_>,
    now: i64,
    plan: Plan<'_>,
) -> Values {
    let contacts = member_views(account, members);
    let future = FutureCache::for_plan(&plan, now);
    let (values, own) = evaluate_kind(rules, SubjectKind::Account, now, plan, &|values, visit| {
        visit(&AccountView {
            id: group_id,
            events: on.events,
            traits: &account.traits,
            contacts: &contacts,
            values,
            tracker: on.tracker,
            future: &future,
        })
    });
    with_own(rules, values, own, now, on.events, &[Some(&account.traits)])
}

/// Contact ids in a stable order, for deterministic account evaluation.
pub(crate) fn sorted_members(ids: impl IntoIterator<Item = ContactId>) -> Vec<ContactId> {
    let mut ids: Vec<_> = ids.into_iter().collect();
    ids.sort_unstable();
    ids
}

/// Hands a view of a contact (reading `values` for references) to `visit`.
pub(crate) fn with_contact_view<R>(
    contact: &ContactState,
    account: Option<&AccountState>,
    values: &Values,
    visit: impl FnOnce(&dyn SubjectView) -> R,
) -> R {
    visit(&ContactView {
        id: &contact.label,
        timeline: &contact.timeline,
        traits: &contact.traits,
        account_traits: account.map(|a| &a.traits),
        values,
        tracker: None,
        future: None,
    })
}

/// Hands a view of an account (its contacts' events merged; `members`
/// must be all of them) to `visit`.
pub(crate) fn with_account_view<R>(
    group_id: &str,
    account: &AccountState,
    members: &[Member<'_>],
    values: &Values,
    visit: impl FnOnce(&dyn SubjectView) -> R,
) -> R {
    let timelines = timelines_of(members);
    let contacts = member_views(account, members);
    visit(&AccountView {
        id: group_id,
        events: Events::merged(&timelines, account.order.stamp()),
        traits: &account.traits,
        contacts: &contacts,
        values,
        tracker: None,
        future: &FutureCache::default(),
    })
}
