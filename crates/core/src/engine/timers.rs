//! When each subject must be re-evaluated because time passed: a min-heap of
//! (instant, subject). Rescheduling a subject leaves its old entry in the
//! heap; `due` skips entries that no longer match the subject's deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::subject::{SubjectKey, SubjectMap};

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(i64, SubjectKey)>>,
    deadline: SubjectMap<i64>,
}

impl Timers {
    /// Sets (or clears, with `None`) the subject's next deadline.
    pub(crate) fn schedule(&mut self, key: SubjectKey, at: Option<i64>) {
        match at {
            Some(at) => {
                if self.deadline.insert(key.clone(), at) != Some(at) {
                    self.heap.push(Reverse((at, key)));
                }
            }
            None => {
                self.deadline.remove(&key);
            }
        }
    }

    /// The earliest pending deadline.
    pub(crate) fn next(&mut self) -> Option<i64> {
        self.drop_stale();
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns the earliest deadline if it is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: i64) -> Option<(i64, SubjectKey)> {
        self.drop_stale();
        let Reverse((at, _)) = self.heap.peek()?;
        if *at > now {
            return None;
        }
        let Reverse((at, key)) = self.heap.pop()?;
        self.deadline.remove(&key);
        Some((at, key))
    }

    /// Takes over another engine's pending deadlines (of other subjects:
    /// a first start's walk on another thread).
    pub(crate) fn absorb(&mut self, other: Timers) {
        for (key, at) in other.deadline {
            self.schedule(key, Some(at));
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.deadline.len()
    }

    fn drop_stale(&mut self) {
        while let Some(Reverse((at, key))) = self.heap.peek() {
            if self.deadline.get(key) == Some(at) {
                return;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescheduling_supersedes_the_old_deadline() {
        let mut timers = Timers::default();
        timers.schedule(SubjectKey::Contact(1), Some(100));
        timers.schedule(SubjectKey::Contact(2), Some(50));
        timers.schedule(SubjectKey::Contact(1), Some(30));
        timers.schedule(SubjectKey::Contact(2), None);
        assert_eq!(timers.next(), Some(30));
        assert_eq!(timers.pop_due(29), None);
        assert_eq!(timers.pop_due(1_000), Some((30, SubjectKey::Contact(1))));
        assert_eq!(timers.pop_due(1_000), None, "stale entries are skipped");
        assert_eq!(timers.pending(), 0);

        let mut other = Timers::default();
        other.schedule(SubjectKey::Contact(3), Some(70));
        other.schedule(SubjectKey::Contact(3), Some(60));
        timers.schedule(SubjectKey::Contact(4), Some(65));
        timers.absorb(other);
        assert_eq!(timers.pending(), 2);
        assert_eq!(timers.pop_due(1_000), Some((60, SubjectKey::Contact(3))));
        assert_eq!(timers.pop_due(1_000), Some((65, SubjectKey::Contact(4))));
        assert_eq!(timers.pop_due(1_000), None, "the superseded 70 is not due");
    }
}
