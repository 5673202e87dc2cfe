//! The input model: a subject's behavior events sorted by (time, seq), and its
//! trait history. Both are cheap to keep in memory for many subjects (names
//! and properties are shared `Arc`s; the per-name index costs 4 bytes/event).

use std::collections::HashMap;
use std::sync::Arc;

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

/// One behavior event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened (ms since the epoch, UTC, after clock-skew correction).
    pub time: i64,
    /// The store's sequence number: orders events with equal times, and names
    /// the event in explanations.
    pub seq: u64,
    /// track, page or screen.
    pub kind: EventKind,
    /// The event name (track) or page/screen name (may be empty).
    pub name: Arc<str>,
    /// The `properties` object.
    pub properties: Arc<serde_json::Value>,
    /// The `context` object (page events fall back to `context.page.*`).
    pub context: Option<Arc<serde_json::Value>>,
}

impl Event {
    /// An event with no context.
    pub fn new(
        time: i64,
        seq: u64,
        kind: EventKind,
        name: &str,
        properties: serde_json::Value,
    ) -> Self {
        Event {
            time,
            seq,
            kind,
            name: Arc::from(name),
            properties: Arc::new(properties),
            context: None,
        }
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
        self.context = Some(Arc::new(context));
        self
    }

    fn key(&self) -> (i64, u64) {
        (self.time, self.seq)
    }
}

/// A subject's behavior events, sorted by (time, seq), indexed by name and kind.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    events: Vec<Event>,
    by_name: HashMap<Arc<str>, Vec<u32>>,
    pages: Vec<u32>,
    screens: Vec<u32>,
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
        let mut timeline = Timeline {
            events,
            ..Timeline::default()
        };
        timeline.reindex();
        timeline
    }

    /// All events of several timelines (an account's contacts) in one.
    pub fn merged<'t>(timelines: impl IntoIterator<Item = &'t Timeline>) -> Self {
        Timeline::from_events(timelines.into_iter().flat_map(|t| t.events.iter().cloned()))
    }

    /// Adds an event, keeping the order (cheap when it is the newest).
    pub fn insert(&mut self, event: Event) {
        let at = self.events.partition_point(|e| e.key() <= event.key());
        let append = at == self.events.len();
        self.events.insert(at, event);
        if append {
            self.index_one(at);
        } else {
            self.reindex();
        }
    }

    /// Keeps only the events `keep` accepts (retention, deletion).
    pub fn retain(&mut self, keep: impl FnMut(&Event) -> bool) {
        self.events.retain(keep);
        self.reindex();
    }

    /// The events, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there is no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The time of the first event strictly after `time`.
    pub fn next_event_after(&self, time: i64) -> Option<i64> {
        let at = self.events.partition_point(|e| e.time <= time);
        self.events.get(at).map(|e| e.time)
    }

    /// The time of the newest event at or before `time`.
    pub fn latest_at_or_before(&self, time: i64) -> Option<i64> {
        let at = self.events.partition_point(|e| e.time <= time);
        at.checked_sub(1).map(|i| self.events[i].time)
    }

    fn reindex(&mut self) {
        self.by_name.clear();
        self.pages.clear();
        self.screens.clear();
        for at in 0..self.events.len() {
            self.index_one(at);
        }
    }

    fn index_one(&mut self, at: usize) {
        let Ok(position) = u32::try_from(at) else {
            return;
        };
        let event = &self.events[at];
        match event.kind {
            EventKind::Track => match self.by_name.get_mut(&event.name) {
                Some(list) => list.push(position),
                None => {
                    self.by_name.insert(event.name.clone(), vec![position]);
                }
            },
            EventKind::Page => self.pages.push(position),
            EventKind::Screen => self.screens.push(position),
        }
    }

    /// The events a selector base can match, as a view.
    pub(crate) fn pick(&self, base: &crate::ir::SelBase) -> Picked<'_> {
        use crate::ir::SelBase;
        let idx = match base {
            SelBase::Any => None,
            SelBase::Page => Some(self.pages.as_slice()),
            SelBase::Screen => Some(self.screens.as_slice()),
            SelBase::Named(name) => Some(self.by_name.get(name).map_or(&[][..], Vec::as_slice)),
        };
        Picked {
            events: &self.events,
            idx,
        }
    }
}

/// A subsequence of a timeline: all events, or those of one index list.
#[derive(Clone, Copy)]
pub(crate) struct Picked<'t> {
    events: &'t [Event],
    idx: Option<&'t [u32]>,
}

impl<'t> Picked<'t> {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.idx.map_or(self.events.len(), <[u32]>::len)
    }

    pub(crate) fn get(&self, i: usize) -> &'t Event {
        match self.idx {
            None => &self.events[i],
            Some(idx) => &self.events[idx[i] as usize],
        }
    }

    /// Position of `i` in the whole timeline (orders events across views).
    pub(crate) fn position(&self, i: usize) -> usize {
        self.idx.map_or(i, |idx| idx[i] as usize)
    }

    /// Number of picked events with time <= `time`.
    pub(crate) fn count_upto(&self, time: i64) -> usize {
        match self.idx {
            None => self.events.partition_point(|e| e.time <= time),
            Some(idx) => idx.partition_point(|&i| self.events[i as usize].time <= time),
        }
    }

    /// Number of picked events with time < `time`.
    pub(crate) fn count_before(&self, time: i64) -> usize {
        match self.idx {
            None => self.events.partition_point(|e| e.time < time),
            Some(idx) => idx.partition_point(|&i| self.events[i as usize].time < time),
        }
    }
}

/// A trait's recorded values, oldest first.
type History = Vec<(i64, serde_json::Value)>;

/// Trait history: for each key, every value it had and since when.
#[derive(Clone, Debug, Default)]
pub struct Traits {
    map: HashMap<Arc<str>, History>,
    latest: Option<i64>,
}

impl Traits {
    /// No traits.
    pub fn new() -> Self {
        Traits::default()
    }

    /// Records that `key` became `value` at `time` (`null` unsets it).
    pub fn set(&mut self, key: &str, time: i64, value: serde_json::Value) {
        let history = self.map.entry(Arc::from(key)).or_default();
        let at = history.partition_point(|(t, _)| *t <= time);
        history.insert(at, (time, value));
        self.latest = Some(self.latest.map_or(time, |l| l.max(time)));
    }

    /// Records every key of an `identify`/`group` traits object at `time`.
    pub fn set_all(&mut self, time: i64, traits: &serde_json::Map<String, serde_json::Value>) {
        for (key, value) in traits {
            self.set(key, time, value.clone());
        }
    }

    /// Adds every recorded value of `other` (an identity merge folds one
    /// contact's trait history into another's).
    pub fn absorb(&mut self, other: &Traits) {
        for (key, history) in &other.map {
            for (time, value) in history {
                self.set(key, *time, value.clone());
            }
        }
    }

    /// The value of `key` as of `time` (latest entry at or before it).
    pub fn get_at(&self, key: &str, time: i64) -> Option<&serde_json::Value> {
        let history = self.map.get(key)?;
        let at = history.partition_point(|(t, _)| *t <= time);
        at.checked_sub(1).map(|i| &history[i].1)
    }

    /// Every key with its value as of `time` (unset and `null` left out),
    /// sorted by key.
    pub fn snapshot_at(&self, time: i64) -> serde_json::Map<String, serde_json::Value> {
        let mut keys: Vec<&Arc<str>> = self.map.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| {
                let value = self.get_at(key, time)?;
                (!value.is_null()).then(|| (key.to_string(), value.clone()))
            })
            .collect()
    }

    /// The history of `key`, oldest first.
    pub fn history(&self, key: &str) -> &[(i64, serde_json::Value)] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    /// The first instant after `time` at which any trait changes.
    pub fn next_change_after(&self, time: i64) -> Option<i64> {
        if self.latest.is_none_or(|latest| latest <= time) {
            return None;
        }
        self.map.values().filter_map(|h| next_after(h, time)).min()
    }

    /// The first instant after `time` at which `key` changes.
    pub(crate) fn next_key_change_after(&self, key: &str, time: i64) -> Option<i64> {
        self.map.get(key).and_then(|h| next_after(h, time))
    }
}

fn next_after(history: &History, time: i64) -> Option<i64> {
    let at = history.partition_point(|(t, _)| *t <= time);
    history.get(at).map(|(t, _)| *t)
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
        let names: Vec<&str> = timeline.events().iter().map(|e| &*e.name).collect();
        assert_eq!(names, ["A", "B", "Home"]);
        let picked = timeline.pick(&crate::ir::SelBase::Named(Arc::from("B")));
        assert_eq!((picked.len(), picked.get(0).time), (1, 20));
        assert_eq!(timeline.next_event_after(20), Some(30));
    }

    #[test]
    fn reads_traits_as_of_an_instant() {
        let mut traits = Traits::new();
        traits.set("seats", 100, json!(5));
        traits.set("seats", 200, json!(15));
        assert_eq!(traits.get_at("seats", 99), None);
        assert_eq!(traits.get_at("seats", 150), Some(&json!(5)));
        assert_eq!(traits.get_at("seats", 200), Some(&json!(15)));
        assert_eq!(traits.next_change_after(150), Some(200));
        assert_eq!(traits.next_change_after(200), None);
    }
}
