//! The behavior events a published view holds, counted by kind and name:
//! what the editor's builder offers to pick from.

use std::collections::HashMap;
use std::sync::Arc;

use bellwether_rules::EventKind;

use super::View;

/// How many events of one kind and name the view holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    pub kind: EventKind,
    /// The track event's name, or the page or screen name (may be empty).
    pub name: String,
    pub count: u64,
}

impl View {
    /// Every (kind, name) of the contacts' behavior events with its count,
    /// most frequent first (ties by name). One pass over the timelines
    /// held in memory (accounts' timelines are their members' events, so
    /// they are not counted again): run it off the async runtime.
    pub fn event_counts(&self) -> Vec<EventCount> {
        let mut counts: HashMap<(EventKind, Arc<str>), u64> = HashMap::new();
        for contact in self.state.contacts.values() {
            for event in contact.timeline.iter() {
                *counts
                    .entry((event.kind(), event.name().clone()))
                    .or_default() += 1;
            }
        }
        let mut out: Vec<EventCount> = counts
            .into_iter()
            .map(|((kind, name), count)| EventCount {
                kind,
                name: name.to_string(),
                count,
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        out
    }
}
