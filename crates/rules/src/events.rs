//! A subject's events as the evaluator and the tracker read them: a
//! contact's timeline, or an account's contacts' timelines merged as they
//! are read. An account keeps no copy of its members' events (the copy was
//! as large as the members' own timelines, and was rebuilt on every start);
//! a read costs a binary search per member and a merge of what they yield.
//!
//! Events of different members never tie: `(time, seq)` is unique, the
//! sequence number being the stored message's.

use crate::timeline::{fresh_stamp, Event, Run, Timeline};

/// A subject's events in `(time, seq)` order, read through one timeline or
/// several merged. Copying it copies two words.
#[derive(Clone, Copy, Debug)]
pub struct Events<'t> {
    parts: Parts<'t>,
}

#[derive(Clone, Copy, Debug)]
enum Parts<'t> {
    One(&'t Timeline),
    Merged {
        timelines: &'t [&'t Timeline],
        stamp: u64,
    },
}

impl<'t> From<&'t Timeline> for Events<'t> {
    fn from(timeline: &'t Timeline) -> Self {
        Events {
            parts: Parts::One(timeline),
        }
    }
}

impl<'t> Events<'t> {
    /// The events of several timelines (an account's contacts) as one;
    /// `stamp` changes whenever their merge is edited other than by
    /// appending ([`MergedOrder`]).
    pub fn merged(timelines: &'t [&'t Timeline], stamp: u64) -> Self {
        Events {
            parts: Parts::Merged { timelines, stamp },
        }
    }

    /// The events with `from <= time <= to`, oldest first (either end).
    pub fn range(self, from: i64, to: i64) -> Span<'t> {
        match self.parts {
            Parts::One(timeline) => Span::One(timeline.run_range(from, to)),
            Parts::Merged { timelines, .. } => {
                Span::merge(timelines.iter().map(|t| t.run_range(from, to)))
            }
        }
    }

    /// The events after `key` (in `(time, seq)` order) with `time <= to`.
    pub fn after(self, key: (i64, u64), to: i64) -> Span<'t> {
        match self.parts {
            Parts::One(timeline) => Span::One(timeline.run_after(key, to)),
            Parts::Merged { timelines, .. } => {
                Span::merge(timelines.iter().map(|t| t.run_after(key, to)))
            }
        }
    }

    /// Changes whenever the events are edited other than by appending:
    /// state derived from a prefix of them is then stale.
    pub fn stamp(self) -> u64 {
        match self.parts {
            Parts::One(timeline) => timeline.stamp(),
            Parts::Merged { stamp, .. } => stamp,
        }
    }

    /// The time of the first event strictly after `time`.
    pub fn next_event_after(self, time: i64) -> Option<i64> {
        self.timelines()
            .filter_map(|t| t.next_event_after(time))
            .min()
    }

    /// The time of the newest event at or before `time`.
    pub fn latest_at_or_before(self, time: i64) -> Option<i64> {
        self.timelines()
            .filter_map(|t| t.latest_at_or_before(time))
            .max()
    }

    fn timelines(self) -> impl Iterator<Item = &'t Timeline> {
        let (one, many) = match self.parts {
            Parts::One(timeline) => (Some(timeline), &[][..]),
            Parts::Merged { timelines, .. } => (None, timelines),
        };
        one.into_iter().chain(many.iter().copied())
    }
}

/// Some consecutive events of a subject, oldest first (from either end),
/// read lazily.
pub enum Span<'t> {
    /// A run of one timeline.
    One(Run<'t>),
    /// Runs of several timelines, merged as they are read.
    Merged(Merge<'t>),
}

impl<'t> Span<'t> {
    fn merge(runs: impl Iterator<Item = Run<'t>>) -> Self {
        let runs: Vec<Run<'t>> = runs.filter(|run| run.clone().next().is_some()).collect();
        Span::Merged(Merge { runs })
    }
}

impl<'t> Iterator for Span<'t> {
    type Item = &'t Event;
    fn next(&mut self) -> Option<&'t Event> {
        match self {
            Span::One(run) => run.next(),
            Span::Merged(merge) => merge.next(),
        }
    }
}

impl DoubleEndedIterator for Span<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Span::One(run) => run.next_back(),
            Span::Merged(merge) => merge.next_back(),
        }
    }
}

/// Runs of several timelines read in `(time, seq)` order from either end.
/// Each step compares the runs' ends: an account's events in a window
/// usually come from a few of its contacts, and only runs with events
/// left are kept.
pub struct Merge<'t> {
    runs: Vec<Run<'t>>,
}

impl<'t> Merge<'t> {
    /// Takes the event whose key is `better` than every other run's at the
    /// same end (`end` reads a run's end without moving it, `take` moves it).
    fn take(
        &mut self,
        end: impl Fn(&Run<'t>) -> Option<&'t Event>,
        take: impl Fn(&mut Run<'t>) -> Option<&'t Event>,
        better: impl Fn((i64, u64), (i64, u64)) -> bool,
    ) -> Option<&'t Event> {
        let mut best: Option<(usize, (i64, u64))> = None;
        for (index, run) in self.runs.iter().enumerate() {
            let Some(event) = end(run) else { continue };
            if best.is_none_or(|(_, key)| better(event.key(), key)) {
                best = Some((index, event.key()));
            }
        }
        let (index, _) = best?;
        let event = take(&mut self.runs[index]);
        if end(&self.runs[index]).is_none() {
            self.runs.swap_remove(index);
        }
        event
    }
}

impl<'t> Iterator for Merge<'t> {
    type Item = &'t Event;
    fn next(&mut self) -> Option<&'t Event> {
        self.take(|run| run.clone().next(), Run::next, |a, b| a < b)
    }
}

impl DoubleEndedIterator for Merge<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.take(|run| run.clone().next_back(), Run::next_back, |a, b| a > b)
    }
}

/// What an account keeps of its members' merged order instead of a copy
/// of their events: the stamp of [`Events::merged`], and the newest key
/// among the members' events, to tell an event landing behind it (late for
/// the account, though maybe not for its contact).
#[derive(Clone, Debug)]
pub struct MergedOrder {
    stamp: u64,
    /// `None` after an edit: found again from the members at the next
    /// event. `Some(None)`: no member has an event.
    newest: Option<Option<(i64, u64)>>,
}

impl Default for MergedOrder {
    fn default() -> Self {
        MergedOrder {
            stamp: fresh_stamp(),
            newest: None,
        }
    }
}

impl MergedOrder {
    /// See [`Events::merged`].
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The members changed, or one's timeline was edited other than by
    /// inserting an event (a message moved, a prefix expired).
    pub fn edited(&mut self) {
        self.stamp = fresh_stamp();
        self.newest = None;
    }

    /// Notes an event about to be inserted into a member's timeline;
    /// `members` are the members' timelines as they are before it (read
    /// only when the newest key is not known). Returns the stamps before
    /// and after when the event lands behind the newest: a late insert.
    pub fn insert<'m>(
        &mut self,
        key: (i64, u64),
        members: impl FnOnce() -> Vec<&'m Timeline>,
    ) -> Option<(u64, u64)> {
        let newest = *self.newest.get_or_insert_with(|| {
            members()
                .into_iter()
                .filter_map(|t| t.iter().next_back().map(Event::key))
                .max()
        });
        if newest.is_some_and(|newest| newest > key) {
            let before = self.stamp;
            self.stamp = fresh_stamp();
            return Some((before, self.stamp));
        }
        self.newest = Some(Some(key));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn timeline(keys: &[(i64, u64)]) -> Timeline {
        Timeline::from_events(
            keys.iter()
                .map(|&(t, s)| Event::track(t, s, "A", json!({}))),
        )
    }

    fn keys<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<(i64, u64)> {
        events.map(Event::key).collect()
    }

    #[test]
    fn merged_timelines_read_as_their_events_sorted_from_either_end() {
        let a = timeline(&[(1, 1), (5, 4), (5, 9), (9, 2)]);
        let b = timeline(&[(2, 3), (5, 6), (12, 8)]);
        let empty = Timeline::new();
        let parts = [&a, &empty, &b];
        let events = Events::merged(&parts, 7);
        let all: Vec<(i64, u64)> = vec![(1, 1), (2, 3), (5, 4), (5, 6), (5, 9), (9, 2), (12, 8)];
        let every = || events.range(i64::MIN, i64::MAX);
        assert_eq!(keys(every()), all);
        assert_eq!(
            keys(every().rev()),
            all.iter().rev().copied().collect::<Vec<_>>()
        );
        assert_eq!(keys(events.range(2, 9)), all[1..6]);
        assert_eq!(keys(events.after((5, 4), 9)), all[3..6]);
        assert_eq!(events.stamp(), 7);
        assert_eq!(events.next_event_after(5), Some(9));
        assert_eq!(events.latest_at_or_before(11), Some(9));
        assert_eq!(events.range(13, 20).count(), 0);
        // Read from both ends at once, every event comes once.
        let mut span = events.range(1, 12);
        let mut seen = Vec::new();
        loop {
            let (front, back) = (span.next(), span.next_back());
            if front.is_none() && back.is_none() {
                break;
            }
            seen.extend(front.into_iter().chain(back).map(Event::key));
        }
        seen.sort_unstable();
        assert_eq!(seen, all);
    }

    #[test]
    fn the_order_notes_events_landing_behind_the_newest_of_any_member() {
        let a = timeline(&[(10, 1)]);
        let b = timeline(&[(20, 2)]);
        let mut order = MergedOrder::default();
        let stamp = order.stamp();
        assert_eq!(order.insert((30, 3), || vec![&a, &b]), None);
        assert_eq!(order.stamp(), stamp, "appending keeps the stamp");
        // Newer than its own contact's events, older than the account's.
        let (before, after) = order.insert((25, 4), || unreachable!()).unwrap();
        assert_eq!((before, order.stamp()), (stamp, after));
        assert_ne!(before, after);
        order.edited();
        assert_ne!(order.stamp(), after);
        // The newest is found again from the members after an edit.
        assert!(order.insert((15, 5), || vec![&a, &b]).is_some());
        assert_eq!(order.insert((21, 6), || unreachable!()), None);
    }
}
