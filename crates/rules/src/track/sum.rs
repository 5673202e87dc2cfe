//! Sums a tracker keeps: a window adds and removes values in whatever order
//! evaluations happen, and the total must still equal a fresh scan's.

/// The exact sum of finitely many `f64`s, rounded once when read
/// (Shewchuk's non-overlapping partials, as in Python's `math.fsum`).
/// Removing a value is adding its negation, so a sliding window stays exact.
///
/// Three words, like the `Vec` alone: every tracked score rule of every
/// subject holds one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExactSum {
    /// The partials of finite terms, smallest magnitude first.
    Partials(Vec<f64>),
    /// Infinite or NaN terms, or an overflow: summed plainly from then on.
    Special(f64),
}

const _: () = assert!(std::mem::size_of::<ExactSum>() == 24);

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum::Partials(Vec::new())
    }
}

impl ExactSum {
    pub(crate) fn add(&mut self, value: f64) {
        let partials = match self {
            ExactSum::Special(total) => {
                *total += value;
                return;
            }
            ExactSum::Partials(partials) => partials,
        };
        if !value.is_finite() {
            *self = ExactSum::Special(finite_sum(partials) + value);
            return;
        }
        let mut x = value;
        let mut kept = 0;
        for i in 0..partials.len() {
            let mut y = partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let high = x + y;
            let low = y - (high - x);
            if low != 0.0 {
                partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        if !x.is_finite() {
            *self = ExactSum::Special(x);
            return;
        }
        partials.truncate(kept);
        partials.push(x);
    }

    pub(crate) fn remove(&mut self, value: f64) {
        self.add(-value);
    }

    /// The correctly rounded sum.
    pub(crate) fn value(&self) -> f64 {
        match self {
            ExactSum::Special(total) => *total,
            ExactSum::Partials(partials) => finite_sum(partials),
        }
    }
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
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DecayedSum {
    total: f64,
    /// The time of the latest term in time order: `total` is measured there.
    at: Option<i64>,
}

impl DecayedSum {
    /// Adds a term. In time order the fold is the scan's, bit for bit; a
    /// term from before the anchor is exact up to rounding.
    pub(crate) fn add(&mut self, points: f64, time: i64, half_life: i64) {
        let carried = match self.at {
            // A term from before the anchor (a late event taken in): weighed
            // to the anchor, which stays.
            Some(at) if time < at => {
                self.total += points * crate::subject::decay_factor(at - time, half_life);
                return;
            }
            Some(at) => self.total * crate::subject::decay_factor(time - at, half_life),
            None => 0.0,
        };
        self.total = carried + points;
        self.at = Some(time);
    }

    /// The sum of every `points · 2^(−(anchor − time)/half_life)`, for an
    /// anchor at or after the latest term.
    pub(crate) fn at(&self, anchor: i64, half_life: i64) -> f64 {
        match self.at {
            Some(at) => self.total * crate::subject::decay_factor(anchor - at, half_life),
            None => 0.0,
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

    proptest! {
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
