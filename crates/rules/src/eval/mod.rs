//! The evaluator: the value of a checked expression for one subject at an
//! instant `now`, and the earliest later instant at which that value could
//! change if no new event arrives (`next`).
//!
//! `next` is exact or early, never late: window edges passing an event,
//! `days_since` and decaying scores crossing a threshold (solved in
//! [`motion`]), and stored events or trait changes after `now` (they count as
//! arriving at their time).

mod aggregate;
pub(crate) mod motion;
mod ops;
mod predicate;
mod props;
mod sequence;
mod tracked;
pub(crate) mod window;

use crate::ir::{Node, NodeKind};
use crate::subject::SubjectView;
use crate::timeline::Event;
use crate::track::{TrackPlan, Tracker};
use crate::value::Val;
use motion::Motion;
pub(crate) use props::property;

/// The earlier of two optional instants (`None` = never).
pub(crate) fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A value at `now`, how it moves, and until when that holds.
#[derive(Clone, Debug)]
pub(crate) struct Out<'a> {
    pub(crate) val: Val<'a>,
    /// For a number that changes continuously: its closed form.
    pub(crate) motion: Option<Motion>,
    /// The first instant after `now` at which `val`/`motion` may no longer hold.
    pub(crate) next: Option<i64>,
}

impl<'a> Out<'a> {
    pub(crate) fn still(val: Val<'a>) -> Self {
        Out {
            val,
            motion: None,
            next: None,
        }
    }

    pub(crate) fn until(val: Val<'a>, next: Option<i64>) -> Self {
        Out {
            val,
            motion: None,
            next,
        }
    }
}

/// Records sub-expression values for explanations; a no-op when evaluating.
pub(crate) trait Trace {
    const ON: bool;
    fn open(&mut self);
    fn close(&mut self, node: &Node, out: &Out<'_>, detail: Detail<'_>);
}

/// What an aggregate saw, for explanations.
#[derive(Default)]
pub(crate) struct Detail<'e> {
    pub(crate) events: Vec<&'e Event>,
    pub(crate) contacts: Vec<String>,
    /// For `days_until` / `days_since` of a trait: the instant it holds.
    pub(crate) instant: Option<i64>,
}

pub(crate) struct NoTrace;

impl Trace for NoTrace {
    const ON: bool = false;
    fn open(&mut self) {}
    fn close(&mut self, _: &Node, _: &Out<'_>, _: Detail<'_>) {}
}

pub(crate) struct Eval<'a, 't, T: Trace> {
    pub(crate) subject: &'a dyn SubjectView,
    pub(crate) now: i64,
    pub(crate) trace: &'t mut T,
    /// The rule set's plan, when `node`s come from it (their slots mean
    /// something only then).
    pub(crate) plan: Option<&'a TrackPlan>,
    /// The subject's tracker, when it holds this plan's state at `now`.
    pub(crate) tracker: Option<&'a Tracker>,
}

/// The subject's tracker if it holds `plan`'s state at `now`.
pub(crate) fn ready_tracker<'a>(
    subject: &'a dyn SubjectView,
    plan: Option<&TrackPlan>,
    now: i64,
) -> Option<&'a Tracker> {
    let plan = plan?;
    subject.tracker().filter(|t| t.ready(plan.id, now))
}

/// Evaluates `node` for `subject` at `now`, including stored future changes
/// in `next`. With `plan` (the rule set's), slotted aggregates are read from
/// the subject's tracker when it is ready at `now`.
pub(crate) fn evaluate<'a, T: Trace>(
    node: &'a Node,
    subject: &'a dyn SubjectView,
    now: i64,
    plan: Option<&'a TrackPlan>,
    trace: &mut T,
) -> Out<'a> {
    evaluate_deciding(node, subject, now, plan, trace).0
}

/// [`evaluate`], and which top-level operand decided the condition when
/// it is an `and` (the first false one) or an `or` (the first true one):
/// while that operand keeps its value, the others cannot change the answer
/// (see `Triggers::deciding`). `None` when every operand was read.
pub(crate) fn evaluate_deciding<'a, T: Trace>(
    node: &'a Node,
    subject: &'a dyn SubjectView,
    now: i64,
    plan: Option<&'a TrackPlan>,
    trace: &mut T,
) -> (Out<'a>, Option<usize>) {
    let mut eval = Eval {
        subject,
        now,
        trace,
        plan,
        tracker: ready_tracker(subject, plan, now),
    };
    // A trace records the root node too (`Eval::eval`); explanations do
    // not ask which operand decided.
    let (mut out, decided) = match &node.kind {
        NodeKind::And(items) if !T::ON => eval.logical_deciding(items, None, false),
        NodeKind::Or(items) if !T::ON => eval.logical_deciding(items, None, true),
        _ => (eval.eval(node, None), None),
    };
    out.next = earliest(out.next, future_changes(subject, now));
    (out, decided)
}

/// The first stored event or trait change after `now` (the subject may
/// remember it: every definition of one evaluation asks).
pub(crate) fn future_changes(subject: &dyn SubjectView, now: i64) -> Option<i64> {
    subject
        .cached_future_changes(now)
        .unwrap_or_else(|| scan_future_changes(subject, now))
}

/// [`future_changes`] computed from the subject's timeline and traits.
pub fn scan_future_changes(subject: &dyn SubjectView, now: i64) -> Option<i64> {
    let events = subject.events().next_event_after(now);
    let traits = subject.traits().next_change_after(now);
    let account = subject
        .account_traits()
        .and_then(|t| t.next_change_after(now));
    earliest(earliest(events, traits), account)
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    /// Evaluates a node; `event` is the event a `where` predicate is testing.
    pub(crate) fn eval(&mut self, node: &'a Node, event: Option<&'a Event>) -> Out<'a> {
        if !T::ON || event.is_some() {
            return self.eval_kind(node, event, &mut Detail::default());
        }
        self.trace.open();
        let mut detail = Detail::default();
        let out = self.eval_kind(node, event, &mut detail);
        self.trace.close(node, &out, detail);
        out
    }

    fn eval_kind(
        &mut self,
        node: &'a Node,
        event: Option<&'a Event>,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        match &node.kind {
            NodeKind::Lit(value) => Out::still(Val::from_value(value)),
            NodeKind::Trait { scope, path } => self.trait_value(*scope, path),
            NodeKind::Past { scope, path, ago } => self.past_value(*scope, path, *ago),
            NodeKind::TraitDays {
                direction,
                scope,
                path,
            } => self.trait_days(*direction, *scope, path, detail),
            NodeKind::Prop(path) => {
                Out::still(event.map_or(Val::Missing, |e| props::property(e, path)))
            }
            NodeKind::Not(inner) => {
                let out = self.eval(inner, event);
                Out::until(Val::Bool(!out.val.is_true()), out.next)
            }
            NodeKind::And(items) => self.logical(items, event, false),
            NodeKind::Or(items) => self.logical(items, event, true),
            NodeKind::Cmp(op, lhs, rhs) => self.compare(*op, lhs, rhs, event),
            NodeKind::Between(value, low, high) => self.between(value, low, high, event),
            NodeKind::In {
                negated,
                item,
                list,
            } => self.membership(*negated, item, list, event),
            NodeKind::Contains(hay, needle) => self.binary_test(hay, needle, event, ops::contains),
            NodeKind::StartsWith(text, prefix) => {
                self.binary_test(text, prefix, event, ops::starts_with)
            }
            NodeKind::Matches(text, regex) => self.regex_match(text, regex, event),
            NodeKind::Arith(op, lhs, rhs) => self.arith(*op, lhs, rhs, event),
            NodeKind::Neg(inner) => self.negate(inner, event),
            _ => self.eval_aggregate(node, detail),
        }
    }

    /// `and` (`short_on` = false) / `or` (`short_on` = true).
    ///
    /// A deciding operand fixes the result until it changes; when none decides,
    /// the result holds until any operand changes.
    fn logical(&mut self, items: &'a [Node], event: Option<&'a Event>, short_on: bool) -> Out<'a> {
        self.logical_deciding(items, event, short_on).0
    }

    /// [`Eval::logical`], with the position of the operand that decided.
    fn logical_deciding(
        &mut self,
        items: &'a [Node],
        event: Option<&'a Event>,
        short_on: bool,
    ) -> (Out<'a>, Option<usize>) {
        let mut next = None;
        for (at, item) in items.iter().enumerate() {
            let out = self.eval(item, event);
            if out.val.is_true() == short_on {
                if T::ON {
                    self.finish_for_trace(items, item, event);
                }
                return (Out::until(Val::Bool(short_on), out.next), Some(at));
            }
            next = earliest(next, out.next);
        }
        (Out::until(Val::Bool(!short_on), next), None)
    }

    /// Explanations show every operand, even after the result is decided.
    fn finish_for_trace(&mut self, items: &'a [Node], decided: &'a Node, event: Option<&'a Event>) {
        let position = items
            .iter()
            .position(|i| std::ptr::eq(i, decided))
            .unwrap_or(items.len());
        for rest in items.iter().skip(position + 1) {
            self.eval(rest, event);
        }
    }

    fn eval_aggregate(&mut self, node: &'a Node, detail: &mut Detail<'a>) -> Out<'a> {
        if let Some(out) = self.tracked(node) {
            return out;
        }
        match &node.kind {
            NodeKind::Count(sel, win) => self.count(sel, win, detail),
            NodeKind::Exists(sel, win) => self.exists(sel, win, detail),
            NodeKind::DaysSince(sel) => self.days_since(sel, detail),
            NodeKind::ActiveDays(win) => self.active_days(win, detail),
            NodeKind::Agg(op, sel, prop, win) => {
                self.property_aggregate(*op, sel, prop, win, detail)
            }
            NodeKind::Pick {
                first,
                sel,
                win,
                field,
            } => self.pick(*first, sel, win, field, detail),
            NodeKind::Sequence { steps, within, win } => self.sequence(steps, *within, win, detail),
            NodeKind::EachFollowed(each) => self.each_followed(each, detail),
            NodeKind::Score(name) => self.score(name),
            NodeKind::InSegment(name) => {
                Out::still(Val::Bool(self.subject.in_segment(name) == Some(true)))
            }
            NodeKind::Tier(name) => Out::still(match self.subject.tier(name) {
                Some(level) => Val::Str(std::borrow::Cow::Owned(level.to_string())),
                None => Val::Missing,
            }),
            NodeKind::CountContacts(inner) => self.count_contacts(inner, detail),
            _ => Out::still(Val::Missing),
        }
    }

    fn score(&mut self, name: &str) -> Out<'a> {
        let Some(score) = self.subject.score(name) else {
            return Out::still(Val::Missing);
        };
        let next = score.next_change.map(|t| t.max(self.now.saturating_add(1)));
        match Motion::of_score(&score) {
            Some(motion) => Out {
                val: Val::Num(motion.at(self.now)),
                motion: Some(motion),
                next,
            },
            None => Out::until(Val::Num(score.at(self.now)), next),
        }
    }

    /// `count(contacts where <expression>)`: each contact evaluated on its own.
    fn count_contacts(&mut self, inner: &'a Node, detail: &mut Detail<'a>) -> Out<'a> {
        let (now, plan, mut count, mut next) = (self.now, self.plan, 0usize, None);
        self.subject.for_each_contact(&mut |contact| {
            // The account's events are its contacts' events, so
            // only their trait changes are added to the account's.
            let mut eval = Eval {
                subject: contact,
                now,
                trace: &mut NoTrace,
                plan,
                tracker: ready_tracker(contact, plan, now),
            };
            let mut out = eval.eval(inner, None);
            out.next = earliest(out.next, contact.traits().next_change_after(now));
            if out.val.is_true() {
                count += 1;
                if T::ON {
                    detail.contacts.push(contact.id().to_owned());
                }
            }
            next = earliest(next, out.next);
        });
        Out::until(Val::Num(count as f64), next)
    }
}

/// The time of the first event of `subject` that `sel` matches in the
/// inclusive range `[from, to]` (report outcomes).
pub(crate) fn first_matching(
    sel: &crate::ir::Sel,
    subject: &dyn SubjectView,
    from: i64,
    to: i64,
) -> Option<i64> {
    let mut eval = Eval {
        subject,
        now: to,
        trace: &mut NoTrace,
        plan: None,
        tracker: None,
    };
    eval.first_match(sel, window::Range { from, to })
        .map(|event| event.time)
}

/// How many events of `subject` that `sel` matches in the inclusive range
/// `[from, to]`, and the sum of the number at `value` over them (events
/// whose value is missing or not a number add nothing), summed exactly.
pub(crate) fn sum_matching(
    sel: &crate::ir::Sel,
    value: &crate::ir::PropPath,
    subject: &dyn SubjectView,
    from: i64,
    to: i64,
) -> (u64, f64) {
    let mut eval = Eval {
        subject,
        now: to,
        trace: &mut NoTrace,
        plan: None,
        tracker: None,
    };
    let mut sum = crate::track::sum::ExactSum::default();
    let mut matched = 0;
    for event in eval.span(window::Range { from, to }) {
        if eval.matches(sel, event) {
            matched += 1;
            if let Val::Num(n) = props::property(event, value) {
                sum.add(n);
            }
        }
    }
    (matched, sum.value())
}
