//! Event aggregates: count, exists, days_since, active_days, sum/avg/min/max,
//! distinct, first/last.

use std::collections::HashSet;

use super::motion::Motion;
use super::props::property;
use super::window::Range;
use super::{Detail, Eval, Out, Trace};
use crate::ir::{AggOp, Field, PropPath, Sel, SelBase, Win};
use crate::time::{utc_day, DAY};
use crate::timeline::Event;
use crate::track::sum::ExactSum;
use crate::value::Val;

/// Every behavior event, for `active_days`.
static ANY_EVENT: Sel = Sel {
    base: SelBase::Any,
    filter: None,
};

/// A property value as a hashable key, for `distinct`.
#[derive(Hash, PartialEq, Eq)]
enum Key<'e> {
    Num(u64),
    Str(&'e str),
    Bool(bool),
    Other(String),
}

fn key<'e>(value: &Val<'e>) -> Option<Key<'e>> {
    match value {
        Val::Missing => None,
        Val::Num(n) => Some(Key::Num(if *n == 0.0 { 0 } else { n.to_bits() })),
        Val::Str(std::borrow::Cow::Borrowed(s)) => Some(Key::Str(s)),
        Val::Bool(b) => Some(Key::Bool(*b)),
        other => Some(Key::Other(format!("{other:?}"))),
    }
}

#[derive(Default)]
struct Accumulator<'e> {
    /// Exact, so that a window kept incrementally sums to the same value.
    sum: ExactSum,
    n: usize,
    min: Option<f64>,
    max: Option<f64>,
    /// Distinct keys: a short list first (cheaper than hashing), then a set.
    few: Vec<Key<'e>>,
    many: HashSet<Key<'e>>,
}

/// How many distinct values are kept in a list before switching to a set.
const FEW: usize = 32;

impl<'e> Accumulator<'e> {
    fn add(&mut self, op: AggOp, value: Val<'e>) -> bool {
        if op == AggOp::Distinct {
            let Some(k) = key(&value) else { return false };
            if !self.many.is_empty() {
                self.many.insert(k);
            } else if !self.few.contains(&k) {
                self.few.push(k);
                if self.few.len() > FEW {
                    self.many.extend(self.few.drain(..));
                }
            }
            return true;
        }
        let Val::Num(n) = value else { return false };
        self.sum.add(n);
        self.n += 1;
        self.min = Some(self.min.map_or(n, |m| m.min(n)));
        self.max = Some(self.max.map_or(n, |m| m.max(n)));
        true
    }

    fn result(&self, op: AggOp) -> Val<'static> {
        match op {
            AggOp::Sum => Val::Num(self.sum.value()),
            AggOp::Avg if self.n > 0 => Val::Num(self.sum.value() / self.n as f64),
            AggOp::Min => self.min.map_or(Val::Missing, Val::Num),
            AggOp::Max => self.max.map_or(Val::Missing, Val::Num),
            AggOp::Distinct => Val::Num((self.few.len() + self.many.len()) as f64),
            AggOp::Avg => Val::Missing,
        }
    }
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    pub(super) fn count(&mut self, sel: &'a Sel, win: &'a Win, detail: &mut Detail<'a>) -> Out<'a> {
        self.count_upto(sel, win, usize::MAX, detail)
    }

    /// Counts matches, stopping at `limit` (a comparison is decided there).
    pub(super) fn count_upto(
        &mut self,
        sel: &'a Sel,
        win: &'a Win,
        limit: usize,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let mut n = 0usize;
        let next = self.scan(sel, win, |event| {
            n += 1;
            if T::ON {
                detail.events.push(event);
            }
            n < limit
        });
        Out::until(Val::Num(n as f64), next)
    }

    /// True while any match remains in the window: for `last`/`between`
    /// windows it holds until the newest match leaves.
    pub(super) fn exists(
        &mut self,
        sel: &'a Sel,
        win: &'a Win,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let range = self.range(win);
        let (found, next) = match win {
            Win::Last(length) | Win::Ago { from: length, .. } => {
                match self.last_match(sel, range) {
                    Some(event) => (Some(event), Some(event.time.saturating_add(*length))),
                    None => (None, self.window_next(sel, win, None)),
                }
            }
            Win::All | Win::WithinOf { .. } => (self.first_match(sel, range), None),
        };
        if T::ON {
            detail.events.extend(found);
        }
        Out::until(Val::Bool(found.is_some()), next)
    }

    /// Fractional days since the newest match; never seen = +∞.
    pub(super) fn days_since(&mut self, sel: &'a Sel, detail: &mut Detail<'a>) -> Out<'a> {
        let Some(latest) = self.last_match(
            sel,
            Range {
                from: i64::MIN,
                to: self.now,
            },
        ) else {
            return Out::still(Val::Num(f64::INFINITY));
        };
        if T::ON {
            detail.events.push(latest);
        }
        let motion = Motion::elapsed(latest.time, DAY);
        Out {
            val: Val::Num(motion.at(self.now)),
            motion: Some(motion),
            next: None,
        }
    }

    /// Distinct UTC dates with a behavior event in the window.
    pub(super) fn active_days(&mut self, win: &'a Win, detail: &mut Detail<'a>) -> Out<'a> {
        let range = self.range(win);
        let (mut days, mut day_ends) = (0usize, i64::MIN);
        let (mut oldest, mut last_of_first_day) = (None, None);
        for event in self.span(range) {
            oldest = oldest.or(Some(event.time));
            if event.time >= day_ends {
                days += 1;
                day_ends = (utc_day(event.time) + 1).saturating_mul(DAY);
                if T::ON {
                    detail.events.push(event);
                }
            }
            if days == 1 {
                last_of_first_day = Some(event.time);
            }
        }
        let next = match win {
            Win::Last(length) => last_of_first_day.map(|t| t.saturating_add(*length)),
            _ => self.window_next(&ANY_EVENT, win, oldest),
        };
        Out::until(Val::Num(days as f64), next)
    }

    pub(super) fn property_aggregate(
        &mut self,
        op: AggOp,
        sel: &'a Sel,
        prop: &'a PropPath,
        win: &'a Win,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let mut acc = Accumulator::default();
        let next = self.scan(sel, win, |event| {
            if acc.add(op, property(event, prop)) && T::ON {
                detail.events.push(event);
            }
            true
        });
        Out::until(acc.result(op), next)
    }

    /// `first(S).time`, `last(S).prop`.
    pub(super) fn pick(
        &mut self,
        first: bool,
        sel: &'a Sel,
        win: &'a Win,
        field: &'a Field,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let mut chosen: Option<&'a Event> = None;
        let next = self.scan(sel, win, |event| {
            chosen = Some(event);
            !first
        });
        let Some(event) = chosen else {
            return Out::until(Val::Missing, next);
        };
        if T::ON {
            detail.events.push(event);
        }
        let value = match field {
            Field::Time => Val::Time(event.time),
            Field::Prop(path) => property(event, path),
        };
        Out::until(value, next)
    }
}
