//! Sums a tracker keeps: a window adds and removes values in whatever order
//! evaluations happen, and the total must still equal a fresh scan's.

/// The exact sum of finitely many `f64`s, rounded once when read
/// (Shewchuk's non-overlapping partials, as in Python's `math.fsum`).
/// Removing a value is adding its negation, so a sliding window stays exact.
///
/// Two words, with no allocation while one partial holds the sum exactly
/// (sums of whole points, counts, most property sums): every tracked score
/// rule of every subject holds one.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum ExactSum {
    /// No term yet.
    #[default]
    Empty,
    /// One partial: the sum is exactly this number.
    One(f64),
    /// The partials of finite terms, smallest magnitude first (two or more).
    /// Boxed: one word keeps the sum two words (a `Vec` or a boxed slice
    /// would make it three), and few sums ever need a second partial.
    #[allow(clippy::box_collection)]
    Partials(Box<Vec<f64>>),
    /// Infinite or NaN terms, or an overflow: summed plainly from then on.
    Special(f64),
}

const _: () = assert!(std::mem::size_of::<ExactSum>() == 16);

impl ExactSum {
    pub(crate) fn add(&mut self, value: f64) {
        match self {
            ExactSum::Special(total) => *total += value,
            _ if !value.is_finite() => *self = ExactSum::Special(self.value() + value),
            ExactSum::Empty => *self = ExactSum::One(value),
            ExactSum::One(kept) => {
                let (high, low) = two_sum(value, *kept);
                *self = if !high.is_finite() {
                    ExactSum::Special(high)
                } else if low == 0.0 {
                    ExactSum::One(high)
                } else {
                    ExactSum::Partials(Box::new(vec![low, high]))
                };
            }
            ExactSum::Partials(partials) => {
                if let Some(total) = add_to_partials(partials, value) {
                    *self = ExactSum::Special(total);
                } else if let [only] = partials.as_slice() {
                    *self = ExactSum::One(*only);
                }
            }
        }
    }

    pub(crate) fn remove(&mut self, value: f64) {
        self.add(-value);
    }

    /// The correctly rounded sum.
    pub(crate) fn value(&self) -> f64 {
        match self {
            ExactSum::Empty => 0.0,
            ExactSum::One(total) | ExactSum::Special(total) => *total,
            ExactSum::Partials(partials) => finite_sum(partials),
        }
    }
}

/// `(x + y, the rounding error)`: the larger magnitude first, as the
/// partials algorithm needs.
fn two_sum(x: f64, y: f64) -> (f64, f64) {
    let (x, y) = if x.abs() < y.abs() { (y, x) } else { (x, y) };
    let high = x + y;
    (high, y - (high - x))
}

/// Adds a finite `value` into `partials`; `Some(total)` when the sum
/// overflowed (the partials are then no longer used).
fn add_to_partials(partials: &mut Vec<f64>, value: f64) -> Option<f64> {
    let mut x = value;
    let mut kept = 0;
    for i in 0..partials.len() {
        let (high, low) = two_sum(x, partials[i]);
        if low != 0.0 {
            partials[kept] = low;
            kept += 1;
        }
        x = high;
    }
    if !x.is_finite() {
        return Some(x);
    }
    partials.truncate(kept);
    partials.push(x);
    None
}

/// The correctly rounded sum of non-overlapping partials.
fn finite_sum(partials: &[f64]) -> f64 {
    let Some((&last, rest)) = partials.split_last() else {
        return 0.0;
    };
    let mut high = last;
    let mut low = 0.0;
    let mut i = rest.len();
    while i > 0 {
        i -= 1;
        let x = high;
        let y = rest[i];
        high = x + y;
        let back = high - x;
        low = y - back;
        if low != 0.0 {
            break;
        }
    }
    // Round half-even correction (as in fsum): look at the next partial.
    if i > 0 && ((low < 0.0 && rest[i - 1] < 0.0) || (low > 0.0 && rest[i - 1] > 0.0)) {
        let y = low * 2.0;
        let x = high + y;
        if y == x - high {
            high = x;
        }
    }
    high
}

/// Points decayed with a half-life, folded in time order: the total is
/// decayed to each new term's time, then the term is added. The result
/// depends only on the terms (fed in time order), never on when it was
/// read, and one term read at its own time is exactly its points.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DecayedSum {
    total: f64,
    /// The time of the latest term in time order (`total` is measured
    /// there); [`NO_TERM`] before the first. Not an `Option`: two words,
    /// not three, in every tracked rule of every subject.
    at: i64,
}

/// `DecayedSum::at` before any term (no event is that old).
const NO_TERM: i64 = i64::MIN;

impl Default for DecayedSum {
    fn default() -> Self {
        DecayedSum {
            total: 0.0,
            at: NO_TERM,
        }
    }
}

impl DecayedSum {
    /// Adds a term. In time order the fold is the scan's, bit for bit; a
    /// term from before the anchor is exact up to rounding.
    pub(crate) fn add(&mut self, points: f64, time: i64, half_life: i64) {
        let carried = match self.at {
            NO_TERM => 0.0,
            // A term from before the anchor (a late event taken in): weighed
            // to the anchor, which stays.
            at if time < at => {
                self.total += points * crate::subject::decay_factor(at - time, half_life);
                return;
            }
            at => self.total * crate::subject::decay_factor(time - at, half_life),
        };
        self.total = carried + points;
        self.at = time;
    }

    /// The sum of every `points · 2^(−(anchor − time)/half_life)`, for an
    /// anchor at or after the latest term.
    pub(crate) fn at(&self, anchor: i64, half_life: i64) -> f64 {
        match self.at {
            NO_TERM => 0.0,
            at => self.total * crate::subject::decay_factor(anchor - at, half_life),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sums_exactly_whatever_the_order() {
        let mut a = ExactSum::default();
        for v in [1e16, 1.0, -1e16, 0.1, 0.2] {
            a.add(v);
        }
        assert_eq!(a.value(), 1.3);
        a.remove(1.0);
        assert_eq!(a.value(), 0.1 + 0.2);
    }

    #[test]
    fn infinite_terms_and_overflows_are_summed_plainly() {
        let mut sum = ExactSum::default();
        sum.add(1.5);
        sum.add(f64::INFINITY);
        assert_eq!(sum.value(), f64::INFINITY);
        sum.add(2.0);
        assert_eq!(sum.value(), f64::INFINITY);
        sum.add(f64::NEG_INFINITY);
        assert!(sum.value().is_nan());
        let mut overflow = ExactSum::default();
        overflow.add(f64::MAX);
        overflow.add(f64::MAX);
        assert_eq!(overflow.value(), f64::INFINITY);
    }

    #[test]
    fn whole_points_stay_in_one_inline_partial() {
        let mut sum = ExactSum::default();
        for points in [10.0, 30.0, 2.0, 1.0, -15.0, 2.0] {
            sum.add(points);
        }
        assert_eq!(sum, ExactSum::One(30.0));
        sum.add(0.1);
        assert_eq!(sum.value(), 30.1);
        sum.remove(0.1);
        assert_eq!(sum, ExactSum::One(30.0));
    }

    proptest! {
        /// Against exact integer arithmetic: terms are multiples of 2^-20,
        /// so their sum in units of 2^-20 is an exact `i128`, and its
        /// correctly rounded value is that integer converted once.
        #[test]
        fn sums_are_correctly_rounded(terms in proptest::collection::vec((-(1i64 << 52)..(1i64 << 52), proptest::bool::ANY), 0..60)) {
            let unit = (-20f64).exp2();
            let mut sum = ExactSum::default();
            let mut exact: i128 = 0;
            for (units, add) in terms {
                let value = units as f64 * unit;
                if add {
                    sum.add(value);
                    exact += i128::from(units);
                } else {
                    sum.remove(value);
                    exact -= i128::from(units);
                }
                prop_assert_eq!(sum.value(), exact as f64 * unit);
            }
        }

        #[test]
        fn order_does_not_matter(values in proptest::collection::vec(-1e6f64..1e6, 0..40), cut in 0usize..40) {
            let mut forward = ExactSum::default();
            values.iter().for_each(|v| forward.add(*v));
            let mut backward = ExactSum::default();
            values.iter().rev().for_each(|v| backward.add(*v));
            prop_assert_eq!(forward.value(), backward.value());
            // Removing a prefix equals summing the rest.
            let cut = cut.min(values.len());
            values[..cut].iter().for_each(|v| forward.remove(*v));
            let mut rest = ExactSum::default();
            values[cut..].iter().for_each(|v| rest.add(*v));
            prop_assert_eq!(forward.value(), rest.value());
        }

        #[test]
        fn decayed_sums_match_the_plain_formula(mut terms in proptest::collection::vec((0.0f64..50.0, 0i64..10_000_000_000), 0..30)) {
            terms.sort_by_key(|(_, t)| *t);
            let half_life = 86_400_000;
            let mut folded = DecayedSum::default();
            terms.iter().for_each(|(p, t)| folded.add(*p, *t, half_life));
            let anchor = 10_000_000_000;
            let plain: f64 = terms.iter().map(|(p, t)| p * crate::subject::decay_factor(anchor - t, half_life)).sum();
            prop_assert!((folded.at(anchor, half_life) - plain).abs() <= 1e-9 * plain.abs().max(1.0));
        }
    }
}
