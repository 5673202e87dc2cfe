//! A score's event rules kept incrementally: points earned per event (caps
//! per period, in time order), raw and decayed sums that do not depend on
//! the order of their terms.

use super::plan::EventRuleSpec;
use super::sum::{DecayedSum, ExactSum};

/// One event rule's points so far.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RulePoints {
    pub(crate) raw: ExactSum,
    pub(crate) decayed: DecayedSum,
    pub(crate) matched: usize,
    /// The cap period of the latest counted event ([`NO_PERIOD`] before
    /// one), and the points used in it.
    bucket: i64,
    used: f64,
}

/// `RulePoints::bucket` before a capped rule counted an event.
const NO_PERIOD: i64 = i64::MIN;

// Every subject holds one per event rule of each tracked score.
const _: () = assert!(std::mem::size_of::<RulePoints>() == 56);

impl Default for RulePoints {
    fn default() -> Self {
        RulePoints {
            raw: ExactSum::default(),
            decayed: DecayedSum::default(),
            matched: 0,
            bucket: NO_PERIOD,
            used: 0.0,
        }
    }
}

impl RulePoints {
    /// Counts one matching event (events come in time order).
    pub(crate) fn add(&mut self, rule: &EventRuleSpec, time: i64, half_life: Option<i64>) {
        let mut earned = rule.points;
        if let Some(cap) = &rule.cap {
            let current = cap.bucket(time);
            if self.bucket != current {
                self.bucket = current;
                self.used = 0.0;
            }
            earned = capped(rule.points, cap.amount, self.used);
            self.used += earned.abs();
        }
        self.count(earned, time, half_life, 1.0);
    }

    /// Recounts one cap period after late events joined it: `before` and
    /// `after` are the times of its matching events (in timeline order)
    /// without and with them. Only that period's points move.
    pub(crate) fn recount(
        &mut self,
        rule: &EventRuleSpec,
        bucket: i64,
        before: &[i64],
        after: &[i64],
        half_life: Option<i64>,
    ) {
        let Some(cap) = &rule.cap else { return };
        for (time, earned) in earnings(rule.points, cap.amount, before) {
            self.count(earned, time, half_life, -1.0);
        }
        let mut used = 0.0;
        for (time, earned) in earnings(rule.points, cap.amount, after) {
            used += earned.abs();
            self.count(earned, time, half_life, 1.0);
        }
        if self.bucket == NO_PERIOD || bucket >= self.bucket {
            self.bucket = bucket;
            self.used = used;
        }
    }

    /// Adds (`sign` 1) or takes back (−1) the points one event earned.
    fn count(&mut self, earned: f64, time: i64, half_life: Option<i64>, sign: f64) {
        if earned == 0.0 {
            return;
        }
        if sign > 0.0 {
            self.matched += 1;
            self.raw.add(earned);
        } else {
            self.matched -= 1;
            self.raw.remove(earned);
        }
        if let Some(half_life) = half_life {
            self.decayed.add(sign * earned, time, half_life);
        }
    }
}

/// What an event earns when `used` of the period's cap is spent.
fn capped(points: f64, amount: f64, used: f64) -> f64 {
    points.signum() * points.abs().min((amount - used).max(0.0))
}

/// The points each of a period's events earns, in order.
fn earnings(points: f64, amount: f64, times: &[i64]) -> impl Iterator<Item = (i64, f64)> + '_ {
    let mut used = 0.0;
    times.iter().map(move |time| {
        let earned = capped(points, amount, used);
        used += earned.abs();
        (*time, earned)
    })
}
