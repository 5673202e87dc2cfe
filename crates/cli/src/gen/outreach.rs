//! The treatment behind the demo's holdout: `examples/b2b.toml` sends an
//! SDR to every contact who enters `hot_intent`, except the 10 % its
//! `holdout` keeps back. The generator models what that outreach does, so
//! the holdout report has a real, known effect to recover (`docs/gen.md`).
//!
//! Entry is decided the way the engine decides it: the segment's own
//! definition, evaluated by the rules crate over the events written for the
//! contact. Who is held out is the engine's draw
//! (`actions::holdout::is_held_out`) on the contact number the store will
//! give the contact.

use bellwether_core::actions::holdout::is_held_out;
use bellwether_rules::{Event, RuleSet, Timeline, DAY};
use serde_json::Value;

/// The segment whose outreach is modelled (the one with a holdout in
/// `examples/b2b.toml`).
pub(crate) const OUTREACH_SEGMENT: &str = "hot_intent";

/// How much a treated entrant's chance of a `Deal Won` within
/// [`DEAL_WITHIN`] of entering rises over a held-out one's: 30 points.
pub(crate) const OUTREACH_UPLIFT: f64 = 0.30;

/// An entrant's deal is decided within this long after the entry: the
/// holdout report's default horizon, so every decision falls inside it.
pub(crate) const DEAL_WITHIN: i64 = 30 * DAY;

/// The shipped definitions: the segment, its rule and its holdout share.
const EXAMPLE_CONFIG: &str = include_str!("../../../../examples/b2b.toml");

/// When a contact entered the outreach segment, and whether the outreach
/// reached it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Entry {
    pub(super) at: i64,
    pub(super) treated: bool,
}

/// The outreach segment's definition and holdout, and how the store will
/// number the generated contacts.
pub(crate) struct Outreach {
    rules: RuleSet,
    share: f64,
    first_contact: u64,
}

impl Outreach {
    /// `first_contact`: the number the store gives the first generated
    /// contact (1 in an empty store; the others follow in file order).
    pub(crate) fn new(first_contact: u64) -> anyhow::Result<Self> {
        let rules = RuleSet::from_toml("examples/b2b.toml", EXAMPLE_CONFIG)
            .map_err(|d| anyhow::anyhow!("the shipped definitions do not compile: {d:?}"))?;
        let share = rules
            .definitions()
            .segment
            .iter()
            .find(|s| s.name == OUTREACH_SEGMENT)
            .and_then(|s| s.holdout)
            .ok_or_else(|| anyhow::anyhow!("{OUTREACH_SEGMENT} has no holdout"))?;
        Ok(Self {
            rules,
            share,
            first_contact,
        })
    }

    /// The store key of generated contact `index` (its contact number).
    pub(crate) fn subject_key(&self, index: usize) -> String {
        (self.first_contact + index as u64).to_string()
    }

    /// Whether the outreach reaches contact `index` once it enters: the
    /// engine's own holdout draw, so the report splits the same way.
    pub(crate) fn treated(&self, index: usize) -> bool {
        !is_held_out(OUTREACH_SEGMENT, &self.subject_key(index), self.share)
    }

    /// The contact's first entry into the segment given its `events`.
    pub(super) fn entry(&self, index: usize, events: &[Event]) -> Option<Entry> {
        first_entry(&self.rules, events).map(|at| Entry {
            at,
            treated: self.treated(index),
        })
    }
}

/// The first instant the outreach segment holds over `events`: evaluated at
/// each event and at each instant the rules say the value may change on its
/// own, as the engine's timers do.
pub(crate) fn first_entry(rules: &RuleSet, events: &[Event]) -> Option<i64> {
    let subject = bellwether_rules::MemorySubject {
        timeline: Timeline::from_events(events.iter().cloned()),
        ..Default::default()
    };
    let mut at = subject.timeline.iter().next()?.time;
    loop {
        let value = rules.evaluate_segment(OUTREACH_SEGMENT, &subject, at)?;
        if value.value {
            return Some(at);
        }
        let next_event = subject.timeline.next_event_after(at);
        let next_change = value.next_change.filter(|t| *t > at);
        at = match (next_event, next_change) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
    }
}

/// The rule-language event a written `track` or `page` message is (other
/// messages are not events).
pub(crate) fn as_event(message: &Value, at: i64, seq: u64) -> Option<Event> {
    let properties = message
        .get("properties")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let name = |key: &str| message.get(key).and_then(Value::as_str).unwrap_or_default();
    let event = match message.get("type").and_then(Value::as_str)? {
        "track" => Event::track(at, seq, name("event"), properties),
        "page" => Event::page(at, seq, name("name"), properties),
        _ => return None,
    };
    Some(match message.get("context") {
        Some(context) => event.with_context(context.clone()),
        None => event,
    })
}
