//! The state of one tracked aggregate: what its window holds, summarized so
//! that an event entering or leaving costs O(log n), and the answer the scan
//! would give, read in O(1) (O(log n) for min/max).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::plan::{Measure, SlotSpec, Span};
use super::sum::ExactSum;
use crate::eval::earliest;
use crate::ir::AggOp;
use crate::time::utc_day;
use crate::value::{Val, Value};

/// A matching event as a window keeps it: its time and the value it adds.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) time: i64,
    pub(crate) value: Value,
}

/// A property value as a hashable key, for `distinct` (numbers by their
/// bits, `-0` as `0`; the same identity the scan uses).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) enum DistinctKey {
    Num(u64),
    Str(Arc<str>),
    Bool(bool),
    Other(String),
}

impl DistinctKey {
    pub(crate) fn of(value: &Val<'_>) -> Option<DistinctKey> {
        Some(match value {
            Val::Missing => return None,
            Val::Num(n) => DistinctKey::Num(if *n == 0.0 { 0 } else { n.to_bits() }),
            Val::Str(s) => DistinctKey::Str(Arc::from(s.as_ref())),
            Val::Bool(b) => DistinctKey::Bool(*b),
            other => DistinctKey::Other(format!("{other:?}")),
        })
    }
}

/// Orders `f64`s (never NaN here: JSON has none) as integers.
fn ordered(n: f64) -> u64 {
    let bits = (if n == 0.0 { 0.0 } else { n }).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn unordered(key: u64) -> f64 {
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    f64::from_bits(bits)
}

/// Summaries of the values in the window.
#[derive(Clone, Debug, Default)]
struct Totals {
    count: usize,
    sum: ExactSum,
    numbers: usize,
    /// Numbers by order, with multiplicity (min/max).
    order: BTreeMap<u64, usize>,
    distinct: HashMap<DistinctKey, usize>,
    /// `active_days` in a window: (UTC day, events, last event time),
    /// oldest first.
    days: VecDeque<(i64, usize, i64)>,
    /// `active_days` over all history: days seen (no runs kept).
    all_days: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct SlotState {
    /// Window slots: matches with time in (now − from, now], oldest first;
    /// the first `entered` are in the window (now − from, now − to].
    items: VecDeque<Item>,
    entered: usize,
    totals: Totals,
    /// All-history slots: the first and the latest match.
    first: Option<Item>,
    last: Option<Item>,
}

impl SlotState {
    pub(crate) fn new() -> Self {
        SlotState {
            items: VecDeque::new(),
            entered: 0,
            totals: Totals::default(),
            first: None,
            last: None,
        }
    }

    /// A matching event at or before `now`, in time order.
    pub(crate) fn feed(&mut self, spec: &SlotSpec, item: Item, now: i64) {
        match spec.span {
            Span::All => {
                self.totals
                    .add(&spec.measure, &item, Some(self.last.as_ref()));
                if self.first.is_none() {
                    self.first = Some(item.clone());
                }
                self.last = Some(item);
            }
            Span::Slide { from, .. } => {
                // Already out of the window at `now`: never enters.
                if item.time > now.saturating_sub(from) {
                    self.items.push_back(item);
                }
            }
        }
    }

    /// Whether a matching event from behind the cursor at `time` can be
    /// taken in exactly: not when it ties with the event that decides a
    /// `first`/`last` (the order among equal times is the sequence number,
    /// which the state does not keep).
    pub(crate) fn can_absorb(&self, spec: &SlotSpec, time: i64) -> bool {
        if !matches!(spec.measure, Measure::Pick(..)) {
            return true;
        }
        match spec.span {
            Span::All => [&self.first, &self.last]
                .into_iter()
                .all(|kept| kept.as_ref().is_none_or(|i| i.time != time)),
            Span::Slide { .. } => self.items.iter().all(|i| i.time != time),
        }
    }

    /// Takes in a matching event from behind the cursor (late events in
    /// (time, seq) order; `can_absorb` held for each). The state is at
    /// `now`; `day_seen`: another counted match falls on the event's UTC
    /// day (all-history `active_days`).
    pub(crate) fn absorb(&mut self, spec: &SlotSpec, item: Item, now: i64, day_seen: bool) {
        match spec.span {
            Span::All => {
                match spec.measure {
                    Measure::ActiveDays => {
                        self.totals.count += 1;
                        if !day_seen {
                            self.totals.all_days += 1;
                        }
                    }
                    _ => self.totals.add(&spec.measure, &item, None),
                }
                if self.first.as_ref().is_none_or(|f| item.time < f.time) {
                    self.first = Some(item.clone());
                }
                // `>=`: of late events with equal times, the later one.
                if self.last.as_ref().is_none_or(|l| item.time >= l.time) {
                    self.last = Some(item);
                }
            }
            Span::Slide { from, to } => {
                if item.time <= now.saturating_sub(from) {
                    return;
                }
                let position = self.items.partition_point(|i| i.time <= item.time);
                if item.time <= now.saturating_sub(to) {
                    match spec.measure {
                        Measure::ActiveDays => self.totals.add_day(item.time),
                        _ => self.totals.add(&spec.measure, &item, None),
                    }
                    self.entered += 1;
                }
                self.items.insert(position, item);
            }
        }
    }

    /// Moves the window's edges to `now`.
    pub(crate) fn slide(&mut self, spec: &SlotSpec, now: i64) {
        let Span::Slide { from, to } = spec.span else {
            return;
        };
        let upper = now.saturating_sub(to);
        while let Some(item) = self.items.get(self.entered).filter(|i| i.time <= upper) {
            self.totals.add(&spec.measure, item, None);
            self.entered += 1;
        }
        let lower = now.saturating_sub(from);
        while let Some(item) = self.items.front().filter(|i| i.time <= lower) {
            if self.entered > 0 {
                self.totals.remove(&spec.measure, item);
                self.entered -= 1;
            }
            self.items.pop_front();
        }
    }

    /// The value the scan would compute at `now`, and when it may change.
    pub(crate) fn answer(&self, spec: &SlotSpec) -> (Val<'_>, Option<i64>) {
        let totals = &self.totals;
        let (oldest, newest, slide) = match spec.span {
            Span::All => (self.first.as_ref(), self.last.as_ref(), None),
            Span::Slide { from, to } => {
                let newest = self.entered.checked_sub(1).and_then(|i| self.items.get(i));
                let waiting = self
                    .items
                    .get(self.entered)
                    .map(|i| i.time.saturating_add(to));
                (
                    self.items.front().filter(|_| self.entered > 0),
                    newest,
                    Some((from, waiting)),
                )
            }
        };
        // When the matching set changes: the oldest leaves, or one enters.
        let edges = slide.and_then(|(from, waiting)| {
            earliest(oldest.map(|i| i.time.saturating_add(from)), waiting)
        });
        match &spec.measure {
            Measure::Count => (Val::Num(count(self, spec) as f64), edges),
            Measure::Exists => match (slide, newest) {
                (Some((from, _)), Some(newest)) => {
                    (Val::Bool(true), Some(newest.time.saturating_add(from)))
                }
                (Some((_, waiting)), None) => (Val::Bool(false), waiting),
                (None, found) => (Val::Bool(found.is_some()), None),
            },
            Measure::DaysSince => (
                newest.map_or(Val::Num(f64::INFINITY), |i| Val::Time(i.time)),
                None,
            ),
            Measure::ActiveDays => match (slide, spec.span) {
                (None, _) => (Val::Num(totals.all_days as f64), None),
                (Some(_), Span::Slide { from, to: 0 }) => (
                    Val::Num(totals.days.len() as f64),
                    totals.days.front().map(|d| d.2.saturating_add(from)),
                ),
                (Some(_), _) => (Val::Num(totals.days.len() as f64), edges),
            },
            Measure::Agg(op, _) => (totals.result(*op), edges),
            Measure::Pick(first, _) => {
                let chosen = if *first { oldest } else { newest };
                (
                    chosen.map_or(Val::Missing, |i| Val::from_value(&i.value)),
                    edges,
                )
            }
        }
    }
}

fn count(state: &SlotState, spec: &SlotSpec) -> usize {
    match spec.span {
        Span::All => state.totals.count,
        Span::Slide { .. } => state.entered,
    }
}

impl Totals {
    /// Adds an item entering the window; over all history, `all_history`
    /// holds the previous item (days are then counted, not kept as runs).
    fn add(&mut self, measure: &Measure, item: &Item, all_history: Option<Option<&Item>>) {
        self.count += 1;
        match measure {
            Measure::Agg(op, _) => self.add_value(*op, &item.value, 1),
            Measure::ActiveDays => {
                let day = utc_day(item.time);
                match all_history {
                    Some(previous) => {
                        if previous.is_none_or(|p| utc_day(p.time) != day) {
                            self.all_days += 1;
                        }
                    }
                    None => match self.days.back_mut() {
                        Some(back) if back.0 == day => {
                            back.1 += 1;
                            back.2 = item.time;
                        }
                        _ => self.days.push_back((day, 1, item.time)),
                    },
                }
            }
            _ => {}
        }
    }

    /// A windowed `active_days` match from behind the newest: its day's
    /// run is found (or made) in place.
    fn add_day(&mut self, time: i64) {
        self.count += 1;
        let day = utc_day(time);
        let at = self.days.partition_point(|d| d.0 < day);
        match self.days.get_mut(at) {
            Some(run) if run.0 == day => {
                run.1 += 1;
                run.2 = run.2.max(time);
            }
            _ => self.days.insert(at, (day, 1, time)),
        }
    }

    fn remove(&mut self, measure: &Measure, item: &Item) {
        self.count -= 1;
        match measure {
            Measure::Agg(op, _) => self.add_value(*op, &item.value, -1),
            Measure::ActiveDays => {
                if let Some(front) = self.days.front_mut() {
                    front.1 -= 1;
                    if front.1 == 0 {
                        self.days.pop_front();
                    }
                }
            }
            _ => {}
        }
    }

    fn add_value(&mut self, op: AggOp, value: &Value, sign: i32) {
        if op == AggOp::Distinct {
            let Some(key) = DistinctKey::of(&Val::from_value(value)) else {
                return;
            };
            let entry = self.distinct.entry(key);
            if sign > 0 {
                *entry.or_default() += 1;
            } else if let std::collections::hash_map::Entry::Occupied(mut held) = entry {
                *held.get_mut() -= 1;
                if *held.get() == 0 {
                    held.remove();
                }
            }
            return;
        }
        let Value::Number(n) = value else { return };
        match op {
            AggOp::Sum | AggOp::Avg => {
                if sign > 0 {
                    self.sum.add(*n);
                    self.numbers += 1;
                } else {
                    self.sum.remove(*n);
                    self.numbers -= 1;
                }
            }
            AggOp::Min | AggOp::Max => {
                let key = ordered(*n);
                if sign > 0 {
                    *self.order.entry(key).or_default() += 1;
                } else if let Some(held) = self.order.get_mut(&key) {
                    *held -= 1;
                    if *held == 0 {
                        self.order.remove(&key);
                    }
                }
            }
            AggOp::Distinct => {}
        }
    }

    fn result(&self, op: AggOp) -> Val<'static> {
        match op {
            AggOp::Sum => Val::Num(self.sum.value()),
            AggOp::Avg if self.numbers > 0 => Val::Num(self.sum.value() / self.numbers as f64),
            AggOp::Avg => Val::Missing,
            AggOp::Min => self
                .order
                .keys()
                .next()
                .map_or(Val::Missing, |k| Val::Num(unordered(*k))),
            AggOp::Max => self
                .order
                .keys()
                .next_back()
                .map_or(Val::Missing, |k| Val::Num(unordered(*k))),
            AggOp::Distinct => Val::Num(self.distinct.len() as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numbers_as_integers() {
        let values = [-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, 1e300];
        let keys: Vec<u64> = values.iter().map(|v| ordered(*v)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        for v in values {
            assert_eq!(unordered(ordered(v)), if v == 0.0 { 0.0 } else { v });
        }
    }
}
