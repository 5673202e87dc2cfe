//! How the engine is doing: per definition, how often it was evaluated and
//! when it last changed a membership; how long subject evaluations take.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bellwether_rules::{DefKind, DefRef, SubjectKind};
use serde::Serialize;

use crate::message::Millis;

/// Evaluation durations kept for percentiles.
const SAMPLES: usize = 4_096;

/// One subject evaluation in this many is timed: two clock reads per
/// evaluation were 2% of a first start's work, and a sample gives the
/// same percentiles.
const TIMED_EVERY: u64 = 16;

#[derive(Debug, Default, Clone)]
pub(crate) struct Health {
    /// Subject evaluations by kind (each computes some or all of the
    /// kind's definitions).
    contact_evaluations: u64,
    account_evaluations: u64,
    /// Single-definition evaluations (after a definitions change).
    single_evaluations: u64,
    /// Timers that reached none of their subject's definitions (its
    /// values held; nothing was evaluated).
    held: u64,
    /// How often each definition of the rule set in force was computed, by
    /// position in its order (no hashing per evaluation).
    by_position: Vec<u64>,
    /// By name: single-definition evaluations after a definitions change,
    /// and what earlier rule sets counted.
    by_name: HashMap<String, u64>,
    last_change: HashMap<String, Millis>,
    durations: VecDeque<Duration>,
}

/// One definition's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionHealth {
    pub kind: DefKind,
    pub name: String,
    pub subject: SubjectKind,
    /// How often it was computed for a subject since start (a timer
    /// computes only the definitions something reached).
    pub evaluations: u64,
    /// When it last changed a membership (segments and tiers).
    pub last_change: Option<Millis>,
}

impl Health {
    /// Whether the next subject evaluation is to be timed.
    pub(crate) fn times_next(&self) -> bool {
        (self.contact_evaluations + self.account_evaluations).is_multiple_of(TIMED_EVERY)
    }

    /// One subject evaluation: `computed` tells which definitions of
    /// `order` ran, by position (`None`: every one of the subject's kind);
    /// `took`, when it was timed ([`Health::times_next`]).
    pub(crate) fn evaluated(
        &mut self,
        subject: SubjectKind,
        took: Option<Duration>,
        order: &[DefRef],
        computed: Option<&[bool]>,
    ) {
        match subject {
            SubjectKind::Contact => self.contact_evaluations += 1,
            SubjectKind::Account => self.account_evaluations += 1,
        }
        if self.by_position.len() != order.len() {
            self.by_position.resize(order.len(), 0);
        }
        for ((position, def), count) in order.iter().enumerate().zip(&mut self.by_position) {
            let ran = match computed {
                Some(computed) => computed.get(position).copied().unwrap_or(false),
                None => def.subject == subject,
            };
            *count += u64::from(ran);
        }
        let Some(took) = took else {
            return;
        };
        if self.durations.len() == SAMPLES {
            self.durations.pop_front();
        }
        self.durations.push_back(took);
    }

    /// A timer that reached none of its subject's definitions.
    pub(crate) fn held(&mut self) {
        self.held += 1;
    }

    /// How many timers reached none of their subject's definitions.
    pub(crate) fn held_timers(&self) -> u64 {
        self.held
    }

    /// One definition evaluated on its own for one subject.
    pub(crate) fn evaluated_alone(&mut self, definition: &str) {
        self.single_evaluations += 1;
        *self.by_name.entry(definition.to_owned()).or_default() += 1;
    }

    /// The rule set in force (whose order is `order`) is replaced: its
    /// counts are kept by name.
    pub(crate) fn rules_replaced(&mut self, order: &[DefRef]) {
        for (def, count) in order.iter().zip(self.by_position.drain(..)) {
            *self.by_name.entry(def.name.to_string()).or_default() += count;
        }
    }

    /// Adds what another engine counted (a first start walks its groups
    /// on several threads, each engine with its own counts).
    pub(crate) fn absorb(&mut self, other: Health) {
        self.contact_evaluations += other.contact_evaluations;
        self.account_evaluations += other.account_evaluations;
        self.single_evaluations += other.single_evaluations;
        self.held += other.held;
        if self.by_position.len() < other.by_position.len() {
            self.by_position.resize(other.by_position.len(), 0);
        }
        for (count, more) in self.by_position.iter_mut().zip(other.by_position) {
            *count += more;
        }
        for (name, more) in other.by_name {
            *self.by_name.entry(name).or_default() += more;
        }
        for (name, at) in other.last_change {
            self.changed(&name, at);
        }
        self.durations.extend(other.durations);
        let excess = self.durations.len().saturating_sub(SAMPLES);
        self.durations.drain(..excess);
    }

    pub(crate) fn changed(&mut self, definition: &str, at: Millis) {
        let last = self.last_change.entry(definition.to_owned()).or_insert(at);
        *last = (*last).max(at);
    }

    /// How often `definition`, at `position` in the order of the rule set
    /// in force, was computed.
    pub(crate) fn evaluations(&self, position: usize, definition: &str) -> u64 {
        let current = self.by_position.get(position).copied().unwrap_or(0);
        current + self.by_name.get(definition).copied().unwrap_or(0)
    }

    /// Every evaluation since start, whole or of single definitions.
    pub(crate) fn total_evaluations(&self) -> u64 {
        self.contact_evaluations + self.account_evaluations + self.single_evaluations
    }

    pub(crate) fn last_change(&self, definition: &str) -> Option<Millis> {
        self.last_change.get(definition).copied()
    }

    /// The `q` quantile of recent subject evaluation times.
    pub(crate) fn evaluation_time(&self, q: f64) -> Option<Duration> {
        let mut sorted: Vec<Duration> = self.durations.iter().copied().collect();
        sorted.sort_unstable();
        let index = ((sorted.len().checked_sub(1)?) as f64 * q).round() as usize;
        sorted.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_evaluation_in_sixteen_is_timed_and_all_are_counted() {
        let order: &[DefRef] = &[];
        let mut health = Health::default();
        let mut timed = 0;
        for _ in 0..64 {
            let took = health.times_next().then_some(Duration::from_millis(2));
            timed += usize::from(took.is_some());
            health.evaluated(SubjectKind::Contact, took, order, None);
        }
        assert_eq!(timed, 4);
        assert_eq!(health.total_evaluations(), 64);
        assert_eq!(health.evaluation_time(0.5), Some(Duration::from_millis(2)));
    }

    #[test]
    fn counts_and_percentiles() {
        let rules = bellwether_rules::RuleSet::from_toml(
            "t.toml",
            r#"
            [[segment]]
            name = "hot"
            subject = "contact"
            when = 'exists("Demo Requested")'
            [[segment]]
            name = "cold"
            subject = "contact"
            when = 'not exists("Demo Requested")'
            [[segment]]
            name = "big"
            subject = "account"
            when = 'count(contacts) >= 3'
            "#,
        )
        .expect("valid rules");
        let order = rules.order();
        let position = |name: &str| {
            order
                .iter()
                .position(|d| &*d.name == name)
                .expect("defined")
        };
        let only_hot: Vec<bool> = order.iter().map(|d| &*d.name == "hot").collect();
        let mut health = Health::default();
        for ms in 1..=100 {
            // Every other one a timer that computed `hot` alone.
            let computed = (ms % 2 == 0).then_some(only_hot.as_slice());
            health.evaluated(
                SubjectKind::Contact,
                Some(Duration::from_millis(ms)),
                order,
                computed,
            );
        }
        health.changed("hot", 10);
        health.changed("hot", 5);
        health.evaluated_alone("hot");
        assert_eq!(health.evaluations(position("hot"), "hot"), 101);
        assert_eq!(health.evaluations(position("cold"), "cold"), 50);
        assert_eq!(health.evaluations(position("big"), "big"), 0);
        assert_eq!(health.total_evaluations(), 101);
        assert_eq!(health.last_change("hot"), Some(10));
        assert_eq!(health.evaluation_time(0.5), Some(Duration::from_millis(51)));
        assert_eq!(
            health.evaluation_time(0.99),
            Some(Duration::from_millis(99))
        );
        assert_eq!(Health::default().evaluation_time(0.5), None);

        // Another engine's counts (a walk on another thread) add up.
        let mut other = Health::default();
        other.evaluated(
            SubjectKind::Contact,
            Some(Duration::from_millis(500)),
            order,
            None,
        );
        other.changed("hot", 20);
        let mut merged = Health::default();
        merged.evaluated(
            SubjectKind::Account,
            Some(Duration::from_millis(1)),
            order,
            None,
        );
        merged.changed("hot", 3);
        merged.absorb(other);
        assert_eq!(merged.evaluations(position("hot"), "hot"), 1);
        assert_eq!(merged.evaluations(position("big"), "big"), 1);
        assert_eq!(merged.total_evaluations(), 2);
        assert_eq!(merged.last_change("hot"), Some(20));
        assert_eq!(
            merged.evaluation_time(1.0),
            Some(Duration::from_millis(500))
        );

        // Another rule set: what was counted stays with each name.
        health.rules_replaced(order);
        assert_eq!(health.evaluations(usize::MAX, "cold"), 50);
        assert_eq!(health.evaluations(usize::MAX, "hot"), 101);
    }
}
