//! A score's event rules kept incrementally: points earned per event (caps
//! per period, in time order), raw and decayed sums that do not depend on
//! the order of their terms.

use super::plan::EventRuleSpec;
use super::sum::{DecayedSum, ExactSum};

/// One event rule's points so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RulePoints {
    pub(crate) raw: ExactSum,
    pub(crate) decayed: DecayedSum,
    pub(crate) matched: usize,
    /// The cap period of the latest counted event, and the points used in it.
    bucket: Option<i64>,
    used: f64,
}

impl RulePoints {
    /// Counts one matching event (events come in time order).
    pub(crate) fn add(&mut self, rule: &EventRuleSpec, time: i64, half_life: Option<i64>) {
        let points = rule.points;
        let mut earned = points;
        if let Some(cap) = &rule.cap {
            let current = cap.bucket(time);
            if self.bucket != Some(current) {
                self.bucket = Some(current);
                self.used = 0.0;
            }
            earned = points.signum() * points.abs().min((cap.amount - self.used).max(0.0));
            self.used += earned.abs();
        }
        if earned != 0.0 {
            self.matched += 1;
            self.raw.add(earned);
            if let Some(half_life) = half_life {
                self.decayed.add(earned, time, half_life);
            }
        }
    }
}
