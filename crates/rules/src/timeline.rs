//! The input model: a subject's behavior events sorted by (time, seq) (its
//! trait history is `traits`). Cheap to keep in memory for many subjects:
//! names and properties are shared `Arc`s. An account's events are its
//! contacts' timelines read as one (`events`), never copied.

use std::sync::Arc;

use crate::events::Span;

/// The behavior calls (identify, group and alias are not behavior).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// `track`: a named event.
    Track,
    /// `page`: a page view; `name` is the page name.
    Page,
    /// `screen`: a mobile screen view; `name` is the screen name.
    Screen,
}

/// What many events share: kind, name and the kept properties and page
/// context. The engine interns shapes, so an event costs its time, its
/// sequence number and one pointer (24 bytes), however many properties
/// the rules read.
#[derive(Clone, Debug, PartialEq)]
pub struct EventShape {
    /// track, page or screen.
    pub kind: EventKind,
    /// The event name (track) or page/screen name (may be empty).
    pub name: Arc<str>,
    /// The `properties` object.
    pub properties: Arc<serde_json::Value>,
    /// The `context` object (page events fall back to `context.page.*`).
    pub context: Option<Arc<serde_json::Value>>,
}

/// One behavior event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened (ms since the epoch, UTC, after clock-skew correction).
    pub time: i64,
    /// The store's sequence number: orders events with equal times, and names
    /// the event in explanations.
    pub seq: u64,
    shape: Arc<EventShape>,
}

// Every retained event is held in its contact's timeline: keep it three
// words.
const _: () = assert!(std::mem::size_of::<Event>() == 24);

impl Event {
    /// An event with no context.
    pub fn new(
        time: i64,
        seq: u64,
        kind: EventKind,
        name: &str,
        properties: serde_json::Value,
    ) -> Self {
        let shape = EventShape {
            kind,
            name: Arc::from(name),
            properties: Arc::new(properties),
            context: None,
        };
        Event::shaped(time, seq, Arc::new(shape))
    }

    /// An event of a shared shape.
    pub fn shaped(time: i64, seq: u64, shape: Arc<EventShape>) -> Self {
        Event { time, seq, shape }
    }

    /// A `track` event.
    pub fn track(time: i64, seq: u64, name: &str, properties: serde_json::Value) -> Self {
        Event::new(time, seq, EventKind::Track, name, properties)
    }

    /// A `page` event.
    pub fn page(time: i64, seq: u64, name: &str, properties: serde_json::Value) -> Self {
        Event::new(time, seq, EventKind::Page, name, properties)
    }

    /// Sets the `context` object.
    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        Arc::make_mut(&mut self.shape).context = Some(Arc::new(context));
        self
    }

    /// The (time, seq) pair that orders a timeline.
    pub fn key(&self) -> (i64, u64) {
        (self.time, self.seq)
    }

    /// track, page or screen.
    pub fn kind(&self) -> EventKind {
        self.shape.kind
    }

    /// The event name (track) or page/screen name (may be empty).
    pub fn name(&self) -> &Arc<str> {
        &self.shape.name
    }

    /// The `properties` object.
    pub fn properties(&self) -> &Arc<serde_json::Value> {
        &self.shape.properties
    }

    /// The `context` object, if kept.
    pub fn context(&self) -> Option<&Arc<serde_json::Value>> {
        self.shape.context.as_ref()
    }

    /// The shared part (kind, name, properties, context).
    pub fn shape(&self) -> &Arc<EventShape> {
        &self.shape
    }
}

/// Events per chunk: a late event shifts one chunk, not the whole timeline,
/// and a copy of the timeline (a published engine view) shares every chunk
/// until one is edited; the writer then copies that chunk alone.
const CHUNK: usize = 128;

/// Stamps that tell a [`crate::Tracker`] its timeline was edited in place.
static STAMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(crate) fn fresh_stamp() -> u64 {
    STAMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A subject's behavior events, sorted by (time, seq), in chunks of at most
/// `2 × CHUNK` events: appending is a push, a late event shifts one chunk.
/// Cloning shares the chunks (copy on write).
#[derive(Clone, Debug)]
pub struct Timeline {
    chunks: Vec<Arc<Vec<Event>>>,
    len: usize,
    /// Changes whenever an event is inserted before the newest one or removed:
    /// state derived from a prefix of the timeline is then stale.
    stamp: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            chunks: Vec::new(),
            len: 0,
            stamp: fresh_stamp(),
        }
    }
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Timeline::default()
    }

    /// A timeline of `events`, in any order.
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Self {
        let mut events: Vec<Event> = events.into_iter().collect();
        events.sort_by_key(Event::key);
        let mut timeline = Timeline::new();
        timeline.len = events.len();
        let mut rest = events.into_iter().peekable();
        while rest.peek().is_some() {
            timeline
                .chunks
                .push(Arc::new(rest.by_ref().take(CHUNK).collect()));
        }
        timeline
    }

    /// Whether an event with this key would land behind the newest (a late
    /// insert, which changes the stamp).
    pub fn is_behind(&self, key: (i64, u64)) -> bool {
        self.newest_key().is_some_and(|newest| newest > key)
    }

    fn newest_key(&self) -> Option<(i64, u64)> {
        self.newest().map(Event::key)
    }

    fn newest(&self) -> Option<&Event> {
        self.chunks.last().and_then(|c| c.last())
    }

    /// Adds an event, keeping the order (a push when it is the newest).
    pub fn insert(&mut self, event: Event) {
        let key = event.key();
        self.len += 1;
        if !self.is_behind(key) {
            match self.chunks.last_mut() {
                Some(chunk) if chunk.len() < CHUNK => Arc::make_mut(chunk).push(event),
                _ => self.chunks.push(Arc::new(vec![event])),
            }
            return;
        }
        self.stamp = fresh_stamp();
        let at = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|e| e.key() <= key))
            .min(self.chunks.len() - 1);
        let chunk = Arc::make_mut(&mut self.chunks[at]);
        let position = chunk.partition_point(|e| e.key() <= key);
        chunk.insert(position, event);
        if chunk.len() >= 2 * CHUNK {
            let upper = chunk.split_off(CHUNK);
            self.chunks.insert(at + 1, Arc::new(upper));
        }
    }

    /// Keeps only the events `keep` accepts (retention, deletion).
    pub fn retain(&mut self, mut keep: impl FnMut(&Event) -> bool) {
        let events: Vec<Event> = self.iter().filter(|e| keep(e)).cloned().collect();
        *self = Timeline::from_events(events);
    }

    /// Drops every event before `time` (retention); returns how many went.
    /// Whole chunks go at once; only the one straddling `time` shifts.
    pub fn drop_before(&mut self, time: i64) -> usize {
        let (chunk, offset) = self.locate(|e| e.time < time);
        let dropped: usize = self.chunks[..chunk].iter().map(|c| c.len()).sum::<usize>()
            + offset.min(self.chunks.get(chunk).map_or(0, |c| c.len()));
        if dropped == 0 {
            return 0;
        }
        self.chunks.drain(..chunk);
        if let Some(first) = self.chunks.first_mut() {
            if offset > 0 {
                let first = Arc::make_mut(first);
                first.drain(..offset.min(first.len()));
            }
            if first.is_empty() {
                self.chunks.remove(0);
            }
        }
        self.len -= dropped;
        self.stamp = fresh_stamp();
        dropped
    }

    /// The events, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + '_ {
        self.chunks.iter().flat_map(|chunk| chunk.iter())
    }

    /// The events with `from <= time <= to`, oldest first (either end).
    pub fn range(&self, from: i64, to: i64) -> Span<'_> {
        Span::One(self.run_range(from, to))
    }

    /// The events after `key` (in (time, seq) order) with `time <= to`.
    pub fn after(&self, key: (i64, u64), to: i64) -> Span<'_> {
        Span::One(self.run_after(key, to))
    }

    // An account reads each member's runs, and most members have nothing
    // in a short window: the end is searched only when the first event
    // found is in it.
    pub(crate) fn run_range(&self, from: i64, to: i64) -> Run<'_> {
        if from > to {
            return Run::empty();
        }
        self.run_from(self.locate(|e| e.time < from), to)
    }

    pub(crate) fn run_after(&self, key: (i64, u64), to: i64) -> Run<'_> {
        self.run_from(self.locate(|e| e.key() <= key), to)
    }

    /// The events from position `start` with `time <= to`.
    fn run_from(&self, start: (usize, usize), to: i64) -> Run<'_> {
        let first = self.chunks.get(start.0).and_then(|c| c.get(start.1));
        if first.is_none_or(|e| e.time > to) {
            return Run::empty();
        }
        self.between(start, self.locate(|e| e.time <= to))
    }

    /// Changes whenever the timeline is edited other than by appending.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The (chunk, offset) of the first event for which `before` is false
    /// (`before` must hold for a prefix of the timeline).
    fn locate(&self, before: impl Fn(&Event) -> bool) -> (usize, usize) {
        // An account asks each member; most lie wholly before or after.
        match self.chunks.first().and_then(|c| c.first()) {
            Some(first) if !before(first) => return (0, 0),
            None => return (0, 0),
            Some(_) => {}
        }
        if self.newest().is_some_and(&before) {
            return (self.chunks.len(), 0);
        }
        let chunk = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&before));
        match self.chunks.get(chunk) {
            Some(events) => (chunk, events.partition_point(&before)),
            None => (chunk, 0),
        }
    }

    fn between(&self, start: (usize, usize), end: (usize, usize)) -> Run<'_> {
        if start >= end {
            return Run::empty();
        }
        Run {
            chunks: &self.chunks,
            front: start,
            back: end,
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no event.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The time of the first event strictly after `time`.
    pub fn next_event_after(&self, time: i64) -> Option<i64> {
        let (chunk, offset) = self.locate(|e| e.time <= time);
        self.chunks.get(chunk)?.get(offset).map(|e| e.time)
    }

    /// The time of the newest event at or before `time`.
    pub fn latest_at_or_before(&self, time: i64) -> Option<i64> {
        let (chunk, offset) = self.locate(|e| e.time <= time);
        match offset.checked_sub(1) {
            Some(before) => self.chunks.get(chunk)?.get(before),
            None => self.chunks.get(chunk.checked_sub(1)?)?.last(),
        }
        .map(|e| e.time)
    }
}

/// Some consecutive events of one timeline, oldest first (from either
/// end), read lazily: positions are (chunk, offset), `back` exclusive.
#[derive(Clone)]
pub struct Run<'t> {
    chunks: &'t [Arc<Vec<Event>>],
    front: (usize, usize),
    back: (usize, usize),
}

impl Run<'_> {
    fn empty() -> Self {
        Run {
            chunks: &[],
            front: (0, 0),
            back: (0, 0),
        }
    }
}

impl<'t> Iterator for Run<'t> {
    type Item = &'t Event;
    fn next(&mut self) -> Option<&'t Event> {
        loop {
            if self.front >= self.back {
                return None;
            }
            let (chunk, offset) = self.front;
            match self.chunks.get(chunk)?.get(offset) {
                Some(event) => {
                    self.front = (chunk, offset + 1);
                    return Some(event);
                }
                None => self.front = (chunk + 1, 0),
            }
        }
    }
}

impl DoubleEndedIterator for Run<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            if self.front >= self.back {
                return None;
            }
            let (chunk, offset) = self.back;
            if offset == 0 {
                let previous = chunk.checked_sub(1)?;
                self.back = (previous, self.chunks.get(previous)?.len());
                continue;
            }
            self.back = (chunk, offset - 1);
            return self.chunks.get(chunk)?.get(offset - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_events_sorted_and_indexed() {
        let mut timeline = Timeline::new();
        timeline.insert(Event::track(20, 2, "B", json!({})));
        timeline.insert(Event::track(10, 1, "A", json!({})));
        timeline.insert(Event::page(30, 3, "Home", json!({})));
        let names: Vec<&str> = timeline.iter().map(|e| &**e.name()).collect();
        assert_eq!(names, ["A", "B", "Home"]);
        assert_eq!(
            timeline.range(15, 25).map(|e| e.time).collect::<Vec<_>>(),
            [20]
        );
        assert_eq!(timeline.next_event_after(20), Some(30));
        assert_eq!(timeline.latest_at_or_before(29), Some(20));
    }

    #[test]
    fn dropping_a_prefix_keeps_the_rest_in_order() {
        let mut timeline =
            Timeline::from_events((0..2000).map(|t| Event::track(t, t as u64, "A", json!({}))));
        let stamp = timeline.stamp();
        assert_eq!(timeline.drop_before(1500), 1500);
        assert_ne!(timeline.stamp(), stamp, "state derived from it is stale");
        assert_eq!(timeline.len(), 500);
        let times: Vec<i64> = timeline.iter().map(|e| e.time).collect();
        assert_eq!(times, (1500..2000).collect::<Vec<_>>());
        let stamp = timeline.stamp();
        assert_eq!(timeline.drop_before(1500), 0);
        assert_eq!(timeline.stamp(), stamp, "nothing dropped, nothing stale");
        timeline.insert(Event::track(1200, 9_999, "A", json!({})));
        assert_eq!(timeline.drop_before(5000), 501);
        assert!(timeline.is_empty() && timeline.iter().next().is_none());
    }

    #[test]
    fn late_events_land_in_order_across_chunks() {
        let mut timeline = Timeline::new();
        // Even times in order, then odd times late: every chunk shifts.
        for t in 0..3000 {
            timeline.insert(Event::track(2 * t, t as u64, "A", json!({})));
        }
        let stamp = timeline.stamp();
        timeline.insert(Event::track(2 * 2999 + 2, 9_999, "A", json!({})));
        assert_eq!(timeline.stamp(), stamp, "appending keeps the stamp");
        for t in (0..3000).rev() {
            timeline.insert(Event::track(2 * t + 1, 10_000 + t as u64, "A", json!({})));
        }
        assert_ne!(timeline.stamp(), stamp);
        let times: Vec<i64> = timeline.iter().map(|e| e.time).collect();
        let expected: Vec<i64> = (0..6000).chain([6000]).collect();
        assert_eq!(times, expected);
        assert_eq!(timeline.len(), 6001);
        let back: Vec<i64> = timeline.range(1000, 1003).rev().map(|e| e.time).collect();
        assert_eq!(back, [1003, 1002, 1001, 1000]);
        let after: Vec<i64> = timeline
            .after((1001, 10_500), 1003)
            .map(|e| e.time)
            .collect();
        assert_eq!(after, [1002, 1003]);
        assert_eq!(timeline.range(7000, 8000).count(), 0);
    }
}
