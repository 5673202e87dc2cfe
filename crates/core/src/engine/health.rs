//! How the engine is doing: per definition, how often it was evaluated and
//! when it last changed a membership; how long subject evaluations take.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bellwether_rules::SubjectKind;
use serde::Serialize;

use crate::message::Millis;

/// Evaluation durations kept for percentiles.
const SAMPLES: usize = 4_096;

#[derive(Debug, Default, Clone)]
pub(crate) struct Health {
    /// Subject evaluations by kind: every definition of that kind runs in
    /// each, so per-definition counts derive from these.
    contact_evaluations: u64,
    account_evaluations: u64,
    /// Evaluations of single definitions (after a definitions change).
    partial_evaluations: HashMap<String, u64>,
    last_change: HashMap<String, Millis>,
    durations: VecDeque<Duration>,
}

/// One definition's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionHealth {
    /// `score`, `segment` or `tier`.
    pub kind: &'static str,
    pub name: String,
    /// `contact` or `account`.
    pub subject: &'static str,
    /// Subject evaluations since start.
    pub evaluations: u64,
    /// When it last changed a membership (segments and tiers).
    pub last_change: Option<Millis>,
}

impl Health {
    pub(crate) fn evaluated(&mut self, subject: SubjectKind, took: Duration) {
        match subject {
            SubjectKind::Contact => self.contact_evaluations += 1,
            SubjectKind::Account => self.account_evaluations += 1,
        }
        if self.durations.len() == SAMPLES {
            self.durations.pop_front();
        }
        self.durations.push_back(took);
    }

    /// One definition evaluated on its own for one subject.
    pub(crate) fn evaluated_alone(&mut self, definition: &str) {
        *self
            .partial_evaluations
            .entry(definition.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn changed(&mut self, definition: &str, at: Millis) {
        let last = self.last_change.entry(definition.to_owned()).or_insert(at);
        *last = (*last).max(at);
    }

    /// How often `definition`, of `subject` kind, was evaluated.
    pub(crate) fn evaluations(&self, subject: SubjectKind, definition: &str) -> u64 {
        let whole = match subject {
            SubjectKind::Contact => self.contact_evaluations,
            SubjectKind::Account => self.account_evaluations,
        };
        whole
            + self
                .partial_evaluations
                .get(definition)
                .copied()
                .unwrap_or(0)
    }

    /// Every evaluation since start, whole or of single definitions.
    pub(crate) fn total_evaluations(&self) -> u64 {
        self.contact_evaluations
            + self.account_evaluations
            + self.partial_evaluations.values().sum::<u64>()
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
    fn counts_and_percentiles() {
        let mut health = Health::default();
        for ms in 1..=100 {
            health.evaluated(SubjectKind::Contact, Duration::from_millis(ms));
        }
        health.changed("hot", 10);
        health.changed("hot", 5);
        health.evaluated_alone("hot");
        assert_eq!(health.evaluations(SubjectKind::Contact, "hot"), 101);
        assert_eq!(health.evaluations(SubjectKind::Contact, "cold"), 100);
        assert_eq!(health.evaluations(SubjectKind::Account, "cold"), 0);
        assert_eq!(health.last_change("hot"), Some(10));
        assert_eq!(health.evaluation_time(0.5), Some(Duration::from_millis(51)));
        assert_eq!(
            health.evaluation_time(0.99),
            Some(Duration::from_millis(99))
        );
        assert_eq!(Health::default().evaluation_time(0.5), None);
    }
}
