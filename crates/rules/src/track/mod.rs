//! Incremental state per subject: the aggregates and score points a rule set
//! reads, advanced by the events since the last instant instead of
//! re-reading the whole history.
//!
//! A [`Tracker`] is exact at the instant it was last advanced to: its
//! answers equal the scan's. It follows its timeline by a cursor; when the
//! timeline is edited behind the cursor (a merge, a deletion), when time
//! goes back, or when the rule set changes, it starts over from the first
//! event (one pass over the history). Late events are taken in place
//! instead ([`Tracker::absorb`], `late`).

mod late;
pub(crate) mod plan;
mod reads;
mod score;
mod slot;
pub(crate) mod sum;

use crate::eval::{Eval, NoTrace};
use crate::events::Events;
use crate::ir::Field;
use crate::subject::{MemorySubject, SubjectKind};
use crate::timeline::Event;
use crate::value::{Val, Value};
pub use late::LateInsert;
pub use plan::TrackPlan;
use plan::{KindPlan, Measure, SlotSpec};
pub use reads::PropertyKeys;
pub(crate) use score::RulePoints;
use slot::{Item, SlotState};

/// One subject's incremental state for one rule set.
#[derive(Clone, Debug)]
pub struct Tracker {
    plan: u64,
    kind: SubjectKind,
    /// The instant it is exact at.
    at: i64,
    /// The last event fed, in timeline order.
    cursor: Option<(i64, u64)>,
    /// The timeline's stamp when fed.
    stamp: u64,
    slots: Vec<SlotState>,
    /// Per event rule of the tracked scores, points so far
    /// ([`KindPlan::event_rules`] order; no room for other rules).
    points: Vec<RulePoints>,
    /// How many times it started over from the first event.
    starts: u32,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new()
    }
}

impl Tracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Self {
        Tracker {
            plan: 0,
            kind: SubjectKind::Contact,
            at: i64::MIN,
            cursor: None,
            stamp: 0,
            slots: Vec::new(),
            points: Vec::new(),
            starts: 0,
        }
    }

    /// Brings the state to `now`: feeds the events after the cursor up to
    /// `now`, then moves every window's edges.
    pub fn advance(&mut self, plan: &TrackPlan, kind: SubjectKind, events: Events<'_>, now: i64) {
        let wanted = plan.kind(kind);
        if self.plan != plan.id
            || self.kind != kind
            || now < self.at
            || self.stamp != events.stamp()
        {
            self.reset(plan, kind, wanted, events);
        }
        let fresh = match self.cursor {
            Some(cursor) => events.after(cursor, now),
            None => events.range(i64::MIN, now),
        };
        let mut trace = NoTrace;
        let mut eval = Eval {
            subject: nobody(),
            now,
            trace: &mut trace,
            plan: None,
            tracker: None,
        };
        for event in fresh {
            self.feed(wanted, &mut eval, event, now);
            self.cursor = Some(event.key());
        }
        for (state, spec) in self.slots.iter_mut().zip(&wanted.slots) {
            state.slide(spec, now);
        }
        self.at = now;
    }

    fn reset(
        &mut self,
        plan: &TrackPlan,
        kind: SubjectKind,
        wanted: &KindPlan,
        events: Events<'_>,
    ) {
        *self = Tracker {
            plan: plan.id,
            kind,
            at: i64::MIN,
            cursor: None,
            stamp: events.stamp(),
            slots: vec![SlotState::default(); wanted.slots.len()],
            points: vec![RulePoints::default(); wanted.event_rules().count()],
            starts: self.starts.saturating_add(1),
        };
    }

    fn feed<'a>(
        &mut self,
        wanted: &'a KindPlan,
        eval: &mut Eval<'a, '_, NoTrace>,
        event: &'a Event,
        now: i64,
    ) {
        for (state, spec) in self.slots.iter_mut().zip(&wanted.slots) {
            if eval.matches(&spec.sel, event) {
                state.feed(spec, item(spec, event), now);
            }
        }
        for (points, (score, rule)) in self.points.iter_mut().zip(wanted.event_rules()) {
            if eval.matches(&rule.sel, event) {
                points.add(rule, event.time, score.half_life);
            }
        }
    }

    /// Gives back the room its windows grew to while a long history
    /// passed through them (after a start has walked it all).
    pub fn shrink_to_fit(&mut self) {
        for slot in &mut self.slots {
            slot.shrink_to_fit();
        }
    }

    /// The instant it is exact at (`i64::MIN` before it was first advanced).
    pub fn at(&self) -> i64 {
        self.at
    }

    /// How many times it started over from the first event (one pass over
    /// the history each): once when first advanced, then only when its
    /// timeline was edited in a way it could not follow.
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// Whether it holds the state of rule set `plan` at `now`.
    pub(crate) fn ready(&self, plan: u64, now: i64) -> bool {
        self.plan == plan && self.at == now
    }

    /// A slot's value at the instant, and when it may change.
    pub(crate) fn answer(&self, plan: &TrackPlan, slot: u32) -> Option<(Val<'_>, Option<i64>)> {
        let state = self.slots.get(slot as usize)?;
        let spec = plan.kind(self.kind).slots.get(slot as usize)?;
        Some(state.answer(spec))
    }

    /// A tracked score's points, by the score's rule index.
    pub(crate) fn score_points<'a>(
        &'a self,
        plan: &'a TrackPlan,
        score: usize,
    ) -> Option<ScorePoints<'a>> {
        let spec = plan.kind(self.kind).scores.get(score)?;
        Some(ScorePoints {
            spec,
            points: &self.points,
        })
    }
}

/// One tracked score's event-rule points in a [`Tracker`].
#[derive(Clone, Copy)]
pub(crate) struct ScorePoints<'a> {
    spec: &'a plan::ScoreSpec,
    points: &'a [RulePoints],
}

impl<'a> ScorePoints<'a> {
    /// The points of the score's rule `rule` (`None` for a rule that is
    /// not an event rule).
    pub(crate) fn rule(&self, rule: usize) -> Option<&'a RulePoints> {
        self.points.get(self.spec.event_rule_place(rule)?)
    }
}

/// The subject a tracker's `where` predicates see: they read only the
/// event (see `plan`). Made once, not per advance.
fn nobody() -> &'static MemorySubject {
    static NOBODY: std::sync::LazyLock<MemorySubject> = std::sync::LazyLock::new(Default::default);
    &NOBODY
}

/// What a window keeps of a matching event: the value its aggregate reads.
fn item(spec: &SlotSpec, event: &Event) -> Item {
    let value = match &spec.measure {
        Measure::Agg(_, path) => crate::eval::property(event, path).to_value(),
        Measure::Pick(_, Field::Time) => Value::Time(event.time),
        Measure::Pick(_, Field::Prop(path)) => crate::eval::property(event, path).to_value(),
        _ => Value::Missing,
    };
    Item {
        time: event.time,
        value,
    }
}
