//! Numbers that change continuously with time, in closed form, and the
//! instant a comparison between two of them first changes.
//!
//! A moving number is `constant + Σ scale·(t − anchor)/divisor + Σ amount·2^(−(t − anchor)/h)`.
//! Its value at any instant is always computed by [`Motion::at`], both when
//! evaluating and when predicting, so a prediction is bit-identical to a later
//! evaluation with the same inputs.

use std::cmp::Ordering;

use super::ops::holds;
use crate::ir::CmpOp;
use crate::subject::{decay_factor, ScoreValue};

/// How far ahead a crossing is searched (about 200 years).
const HORIZON_MS: i64 = 200 * 365 * crate::time::DAY;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Linear {
    anchor: i64,
    divisor: f64,
    scale: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decay {
    amount: f64,
    anchor: i64,
    half_life: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Motion {
    constant: f64,
    linear: Vec<Linear>,
    decays: Vec<Decay>,
}

impl Motion {
    /// `(t − anchor) / divisor`, e.g. days since an event.
    pub(crate) fn elapsed(anchor: i64, divisor: i64) -> Self {
        let linear = vec![Linear {
            anchor,
            divisor: divisor as f64,
            scale: 1.0,
        }];
        Motion {
            constant: 0.0,
            linear,
            decays: Vec::new(),
        }
    }

    /// A score's closed form, or `None` when it does not move.
    pub(crate) fn of_score(score: &ScoreValue) -> Option<Self> {
        let half_life = score.half_life?;
        let decay = Decay {
            amount: score.decaying,
            anchor: score.anchor,
            half_life,
        };
        Some(Motion {
            constant: score.constant,
            linear: Vec::new(),
            decays: vec![decay],
        })
    }

    /// A still number as a (non-moving) motion.
    pub(crate) fn still(value: f64) -> Self {
        Motion {
            constant: value,
            ..Motion::default()
        }
    }

    pub(crate) fn at(&self, time: i64) -> f64 {
        let mut value = self.constant;
        for l in &self.linear {
            value += l.scale * ((time - l.anchor) as f64 / l.divisor);
        }
        for d in &self.decays {
            value += d.amount * decay_factor(time - d.anchor, d.half_life);
        }
        value
    }

    pub(crate) fn plus(mut self, other: Motion) -> Motion {
        self.constant += other.constant;
        self.linear.extend(other.linear);
        self.decays.extend(other.decays);
        self
    }

    pub(crate) fn times(mut self, k: f64) -> Motion {
        self.constant *= k;
        self.linear.iter_mut().for_each(|l| l.scale *= k);
        self.decays.iter_mut().for_each(|d| d.amount *= k);
        self
    }

    /// +1 non-decreasing, −1 non-increasing, 0 constant, `None` mixed.
    fn direction(&self) -> Option<i8> {
        let slopes = self.linear.iter().map(|l| l.scale);
        let decays = self.decays.iter().map(|d| -d.amount);
        let mut direction = 0i8;
        for rate in slopes.chain(decays).filter(|r| *r != 0.0) {
            if rate.is_nan() {
                return None;
            }
            let sign = if rate > 0.0 { 1 } else { -1 };
            if direction != 0 && direction != sign {
                return None;
            }
            direction = sign;
        }
        Some(direction)
    }

    /// Where a single-term motion reaches zero, solved in closed form (a hint
    /// for the exact search, which checks it).
    fn zero_estimate(&self) -> Option<i64> {
        let at = match (self.linear.as_slice(), self.decays.as_slice()) {
            ([l], []) => l.anchor as f64 - self.constant * l.divisor / l.scale,
            ([], [d]) => {
                let ratio = -self.constant / d.amount;
                if ratio.is_nan() || ratio <= 0.0 {
                    return None;
                }
                d.anchor as f64 - d.half_life as f64 * ratio.log2()
            }
            _ => return None,
        };
        (at.is_finite() && at.abs() < 9.0e15).then(|| at.round() as i64)
    }

    /// A bound on |d/dt| over instants after `now`.
    fn max_rate(&self, now: i64) -> f64 {
        let linear: f64 = self
            .linear
            .iter()
            .map(|l| (l.scale / l.divisor).abs())
            .sum();
        let decays: f64 = self
            .decays
            .iter()
            .map(|d| {
                (d.amount * decay_factor(now - d.anchor, d.half_life)).abs()
                    * std::f64::consts::LN_2
                    / d.half_life as f64
            })
            .sum();
        linear + decays
    }
}

/// The first instant after `now`, before `until`, at which `op` between
/// `left` and `right` may hold differently than at `now`; else `until` (or
/// the search horizon when both are forever).
pub(crate) fn first_flip(
    op: CmpOp,
    left: &Motion,
    right: &Motion,
    now: i64,
    until: Option<i64>,
) -> Option<i64> {
    let horizon = until.unwrap_or(now.saturating_add(HORIZON_MS));
    if horizon <= now.saturating_add(1) {
        return Some(horizon.max(now.saturating_add(1)));
    }
    let order = |t: i64| left.at(t).partial_cmp(&right.at(t));
    let initial = order(now);
    // `=`/`!=` hold on a single point of a monotone function: watch the ordering
    // itself; the other operators flip once at most, watch their truth.
    let exact = matches!(op, CmpOp::Eq | CmpOp::Ne);
    let same = |t: i64| {
        if exact {
            order(t) == initial
        } else {
            holds(op, order(t)) == holds(op, initial)
        }
    };
    let difference = left.clone().plus(right.clone().times(-1.0));
    let found = match difference.direction() {
        Some(0) => return until,
        Some(_) if initial.is_some() => solve(now, horizon, &same, difference.zero_estimate()),
        _ => Some(lipschitz_step(&difference, now, horizon, initial)),
    };
    match found {
        Some(t) => Some(t),
        None if until.is_some() => until,
        None => None,
    }
}

/// The first instant after `now` at which `score ≥ threshold` may hold
/// differently than at `now` (a decaying score crossing a threshold), before
/// the score's own `next_change`; `None` when it never does by itself.
pub fn threshold_crossing(score: &ScoreValue, threshold: f64, now: i64) -> Option<i64> {
    let Some(motion) = Motion::of_score(score) else {
        return score.next_change;
    };
    first_flip(
        CmpOp::Ge,
        &motion,
        &Motion::still(threshold),
        now,
        score.next_change,
    )
}

/// Bisects around an analytic estimate first (a few steps), else the whole range.
fn solve(now: i64, horizon: i64, same: &impl Fn(i64) -> bool, guess: Option<i64>) -> Option<i64> {
    if let Some(guess) = guess {
        let low = guess.saturating_sub(2).max(now);
        let high = guess.saturating_add(3).min(horizon);
        if low < high && same(low) && !same(high - 1) {
            return bisect(low, high, same);
        }
    }
    bisect(now, horizon, same)
}

/// The smallest t in (lo, hi) with `same(t) == false`, given `same` holds on a prefix.
fn bisect(lo: i64, hi: i64, same: &impl Fn(i64) -> bool) -> Option<i64> {
    let last = hi - 1;
    if same(last) {
        return None;
    }
    let (mut good, mut bad) = (lo, last);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if same(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Some(bad)
}

/// For a non-monotone difference: the soonest it could reach zero.
fn lipschitz_step(difference: &Motion, now: i64, horizon: i64, initial: Option<Ordering>) -> i64 {
    let gap = difference.at(now).abs();
    let rate = difference.max_rate(now);
    let step = if initial != Some(Ordering::Equal) && gap.is_finite() && rate > 0.0 {
        (gap / rate).floor().clamp(1.0, 9.0e15) as i64
    } else {
        1
    };
    now.saturating_add(step).min(horizon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DAY;

    #[test]
    fn finds_the_exact_millisecond_a_linear_value_crosses() {
        let days = Motion::elapsed(0, DAY);
        let threshold = Motion::still(14.0);
        let flip = first_flip(CmpOp::Ge, &days, &threshold, 3 * DAY, None);
        assert_eq!(flip, Some(14 * DAY));
        assert!(days.at(14 * DAY) >= 14.0 && days.at(14 * DAY - 1) < 14.0);
    }

    #[test]
    fn finds_a_decaying_score_crossing() {
        let score = ScoreValue {
            constant: 0.0,
            decaying: 100.0,
            anchor: 0,
            half_life: Some(10 * DAY),
            next_change: None,
        };
        let motion = Motion::of_score(&score).unwrap_or_default();
        let flip = first_flip(CmpOp::Ge, &motion, &Motion::still(50.0), 0, None).unwrap_or(0);
        assert!(motion.at(flip) < 50.0);
        assert!(motion.at(flip - 1) >= 50.0);
        assert!((flip - 10 * DAY).abs() <= 1);
    }

    #[test]
    fn a_decaying_score_crosses_its_threshold_once() {
        let score = ScoreValue {
            constant: 0.0,
            decaying: 80.0,
            anchor: 0,
            half_life: Some(14 * DAY),
            next_change: None,
        };
        // 80 halves to 40 after 14 days: it drops below 50 a little earlier.
        let flip = threshold_crossing(&score, 50.0, 0).unwrap_or(0);
        assert!(
            score.at(flip - 1) >= 50.0 && score.at(flip) < 50.0,
            "{flip}"
        );
        // Below the threshold it never comes back up by itself.
        assert_eq!(threshold_crossing(&score, 50.0, flip), None);
        // A still score changes only when its form does.
        let still = ScoreValue {
            next_change: Some(5 * DAY),
            ..ScoreValue::fixed(70.0)
        };
        assert_eq!(threshold_crossing(&still, 50.0, 0), Some(5 * DAY));
    }

    #[test]
    fn stops_at_the_validity_bound() {
        let days = Motion::elapsed(0, DAY);
        assert_eq!(
            first_flip(CmpOp::Ge, &days, &Motion::still(14.0), 0, Some(DAY)),
            Some(DAY)
        );
    }
}
