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

/// Summaries of the values in the window, for the measures that read
/// more than a count (aggregates over a property, `active_days`).
#[derive(Clone, Debug, Default)]
struct Totals {
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

/// A window's matches, oldest first: their times, and their values only
/// when the measure reads one (most windows only count).
#[derive(Clone, Debug)]
enum Window {
    Times(VecDeque<i64>),
    Items(VecDeque<Item>),
}

impl Window {
    fn for_measure(measure: &Measure) -> Self {
        match measure {
            Measure::Agg(..) | Measure::Pick(..) => Window::Items(VecDeque::new()),
            _ => Window::Times(VecDeque::new()),
        }
    }

    fn time(&self, index: usize) -> Option<i64> {
        match self {
            Window::Times(times) => times.get(index).copied(),
            Window::Items(items) => items.get(index).map(|i| i.time),
        }
    }

    fn value(&self, index: usize) -> Option<&Value> {
        match self {
            Window::Times(_) => None,
            Window::Items(items) => items.get(index).map(|i| &i.value),
        }
    }

    /// `read` of the match at `index` as an item (its value `Missing` when
    /// not kept).
    fn with_item<R>(&self, index: usize, read: impl FnOnce(&Item) -> R) -> Option<R> {
        match self {
            Window::Times(times) => times.get(index).map(|&time| {
                read(&Item {
                    time,
                    value: Value::Missing,
                })
            }),
            Window::Items(items) => items.get(index).map(read),
        }
    }

    fn insert(&mut self, index: usize, item: Item) {
        match self {
            Window::Times(times) => times.insert(index, item.time),
            Window::Items(items) => items.insert(index, item),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Window::Times(times) => times.shrink_to_fit(),
            Window::Items(items) => items.shrink_to_fit(),
        }
    }

    fn pop_front(&mut self) {
        match self {
            Window::Times(times) => drop(times.pop_front()),
            Window::Items(items) => drop(items.pop_front()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Window::Times(times) => times.len(),
            Window::Items(items) => items.len(),
        }
    }

    /// How many matches are at or before `time`.
    fn at_or_before(&self, time: i64) -> usize {
        match self {
            Window::Times(times) => times.partition_point(|t| *t <= time),
            Window::Items(items) => items.partition_point(|i| i.time <= time),
        }
    }
}

/// What a slot keeps besides its count and latest time, allocated on its
/// first match: a window's matches, the totals of the measures that read
/// more than a count, the first and latest match of an all-history
/// `first`/`last`.
#[derive(Clone, Debug, Default)]
struct More {
    window: Option<Window>,
    totals: Option<Box<Totals>>,
    first: Option<Item>,
    last: Option<Item>,
}

/// One tracked aggregate's state: three words for a slot that counts or
/// finds the latest match; the rest behind one pointer.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotState {
    /// All history: matches seen. A window: the first `count` of its
    /// matches are in (now − from, now − to]; the rest wait to enter.
    count: usize,
    /// All history: the latest match's time (when `count > 0`).
    latest: i64,
    more: Option<Box<More>>,
}

// Every subject has one per tracked aggregate: keep it three words.
const _: () = assert!(std::mem::size_of::<SlotState>() == 24);

/// Whether the measure reads totals beyond a count.
fn keeps_totals(measure: &Measure) -> bool {
    matches!(measure, Measure::Agg(..) | Measure::ActiveDays)
}

impl SlotState {
    /// Gives back what a window's queues grew to while history passed
    /// through them (they double as matches enter, and keep that room
    /// as old matches leave).
    pub(crate) fn shrink_to_fit(&mut self) {
        let Some(more) = self.more.as_mut() else {
            return;
        };
        if let Some(window) = more.window.as_mut() {
            window.shrink_to_fit();
        }
        if let Some(totals) = more.totals.as_mut() {
            totals.days.shrink_to_fit();
        }
    }

    fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    fn totals_mut(&mut self, spec: &SlotSpec) -> Option<&mut Totals> {
        if !keeps_totals(&spec.measure) {
            return None;
        }
        Some(self.more().totals.get_or_insert_with(Box::default))
    }

    fn window(&self) -> Option<&Window> {
        self.more.as_ref()?.window.as_ref()
    }

    fn first(&self) -> Option<&Item> {
        self.more.as_ref()?.first.as_ref()
    }

    fn last(&self) -> Option<&Item> {
        self.more.as_ref()?.last.as_ref()
    }

    /// A matching event at or before `now`, in time order.
    pub(crate) fn feed(&mut self, spec: &SlotSpec, item: Item, now: i64) {
        match spec.span {
            Span::All => {
                let previous = (self.count > 0).then_some(self.latest);
                self.count += 1;
                self.latest = item.time;
                if let Some(totals) = self.totals_mut(spec) {
                    totals.add(&spec.measure, &item, Some(previous));
                }
                if let Measure::Pick(..) = spec.measure {
                    let more = self.more();
                    if more.first.is_none() {
                        more.first = Some(item.clone());
                    }
                    more.last = Some(item);
                }
            }
            Span::Slide { from, .. } => {
                // Already out of the window at `now`: never enters.
                if item.time > now.saturating_sub(from) {
                    let window = self
                        .more()
                        .window
                        .get_or_insert_with(|| Window::for_measure(&spec.measure));
                    let end = window.len();
                    window.insert(end, item);
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
            Span::Slide { .. } => self
                .window()
                .is_none_or(|window| (0..window.len()).all(|i| window.time(i) != Some(time))),
            Span::All => [self.first(), self.last()]
                .into_iter()
                .all(|kept| kept.is_none_or(|i| i.time != time)),
        }
    }

    /// Takes in a matching event from behind the cursor (late events in
    /// (time, seq) order; `can_absorb` held for each). The state is at
    /// `now`; `day_seen`: another counted match falls on the event's UTC
    /// day (all-history `active_days`).
    pub(crate) fn absorb(&mut self, spec: &SlotSpec, item: Item, now: i64, day_seen: bool) {
        match spec.span {
            Span::All => {
                self.latest = if self.count > 0 {
                    self.latest.max(item.time)
                } else {
                    item.time
                };
                self.count += 1;
                if let Some(totals) = self.totals_mut(spec) {
                    match spec.measure {
                        Measure::ActiveDays => {
                            if !day_seen {
                                totals.all_days += 1;
                            }
                        }
                        _ => totals.add(&spec.measure, &item, None),
                    }
                }
                if let Measure::Pick(..) = spec.measure {
                    let more = self.more();
                    if more.first.as_ref().is_none_or(|f| item.time < f.time) {
                        more.first = Some(item.clone());
                    }
                    // `>=`: of late events with equal times, the later one.
                    if more.last.as_ref().is_none_or(|l| item.time >= l.time) {
                        more.last = Some(item);
                    }
                }
            }
            Span::Slide { from, to } => {
                if item.time <= now.saturating_sub(from) {
                    return;
                }
                if item.time <= now.saturating_sub(to) {
                    if let Some(totals) = self.totals_mut(spec) {
                        match spec.measure {
                            Measure::ActiveDays => totals.add_day(item.time),
                            _ => totals.add(&spec.measure, &item, None),
                        }
                    }
                    self.count += 1;
                }
                let window = self
                    .more()
                    .window
                    .get_or_insert_with(|| Window::for_measure(&spec.measure));
                let position = window.at_or_before(item.time);
                window.insert(position, item);
            }
        }
    }

    /// Moves the window's edges to `now`.
    pub(crate) fn slide(&mut self, spec: &SlotSpec, now: i64) {
        let Span::Slide { from, to } = spec.span else {
            return;
        };
        let Some(more) = self.more.as_deref_mut() else {
            return;
        };
        let (Some(window), totals) = (&mut more.window, &mut more.totals) else {
            return;
        };
        let upper = now.saturating_sub(to);
        while window.time(self.count).is_some_and(|t| t <= upper) {
            if keeps_totals(&spec.measure) {
                let totals = totals.get_or_insert_with(Box::default);
                window.with_item(self.count, |item| totals.add(&spec.measure, item, None));
            }
            self.count += 1;
        }
        let lower = now.saturating_sub(from);
        while window.time(0).is_some_and(|t| t <= lower) {
            if self.count > 0 {
                if let Some(totals) = totals {
                    window.with_item(0, |item| totals.remove(&spec.measure, item));
                }
                self.count -= 1;
            }
            window.pop_front();
        }
    }

    /// The value the scan would compute at `now`, and when it may change.
    pub(crate) fn answer(&self, spec: &SlotSpec) -> (Val<'_>, Option<i64>) {
        let empty = Totals::default();
        let totals = self
            .more
            .as_ref()
            .and_then(|m| m.totals.as_deref())
            .unwrap_or(&empty);
        // (time, value) of the oldest and newest counted match.
        type Kept<'s> = Option<(i64, Option<&'s Value>)>;
        let (oldest, newest, slide): (Kept<'_>, Kept<'_>, _) = match spec.span {
            Span::Slide { from, to } => {
                let window = self.window();
                let at = |i: usize| window.and_then(|w| Some((w.time(i)?, w.value(i))));
                let newest = self.count.checked_sub(1).and_then(at);
                let waiting = at(self.count).map(|(t, _)| t.saturating_add(to));
                let oldest = at(0).filter(|_| self.count > 0);
                (oldest, newest, Some((from, waiting)))
            }
            Span::All => {
                let newest = match self.last() {
                    Some(last) => Some((last.time, Some(&last.value))),
                    None => (self.count > 0).then_some((self.latest, None)),
                };
                (self.first().map(|i| (i.time, Some(&i.value))), newest, None)
            }
        };
        // When the matching set changes: the oldest leaves, or one enters.
        let edges = slide.and_then(|(from, waiting)| {
            earliest(oldest.map(|(t, _)| t.saturating_add(from)), waiting)
        });
        match &spec.measure {
            Measure::Count => (Val::Num(self.count as f64), edges),
            Measure::Exists => match (slide, newest) {
                (Some((from, _)), Some((time, _))) => {
                    (Val::Bool(true), Some(time.saturating_add(from)))
                }
                (Some((_, waiting)), None) => (Val::Bool(false), waiting),
                (None, found) => (Val::Bool(found.is_some()), None),
            },
            Measure::DaysSince => (
                newest.map_or(Val::Num(f64::INFINITY), |(t, _)| Val::Time(t)),
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
                    chosen
                        .and_then(|(_, value)| value)
                        .map_or(Val::Missing, Val::from_value),
                    edges,
                )
            }
        }
    }
}

impl Totals {
    /// Adds an item entering the window; over all history, `all_history`
    /// holds the previous match's time (days are then counted, not kept as
    /// runs).
    fn add(&mut self, measure: &Measure, item: &Item, all_history: Option<Option<i64>>) {
        match measure {
            Measure::Agg(op, _) => self.add_value(*op, &item.value, 1),
            Measure::ActiveDays => {
                let day = utc_day(item.time);
                match all_history {
                    Some(previous) => {
                        if previous.is_none_or(|p| utc_day(p) != day) {
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
