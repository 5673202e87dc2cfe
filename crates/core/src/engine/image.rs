//! The subjects' state as plain data, for the engine snapshot
//! ([`crate::snapshot`]): every contact and account with its timeline and
//! trait history. Names and property objects are written once and referred
//! to by number, as they are shared in memory.

use std::collections::BTreeSet;
use std::sync::Arc;

use bellwether_rules::{EventKind, PropertyKeys, Timeline, Traits};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::{AccountState, ContactState, State};
use crate::message::ContactId;

/// [`State`] as written in a snapshot. Deterministic: contacts and
/// accounts sorted, names and objects numbered in order of first use.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StateImage {
    keep: Option<PropertyKeys>,
    position: i64,
    names: Vec<Arc<str>>,
    objects: Vec<Value>,
    contacts: Vec<ContactImage>,
    accounts: Vec<AccountImage>,
    /// Every contact's timeline, in contact order.
    events: PackedEvents,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ContactImage {
    id: ContactId,
    label: String,
    has_user_id: bool,
    label_since: i64,
    account: Option<Arc<str>>,
    /// Times of its messages that are not behavior.
    quiet: Vec<i64>,
    traits: Traits,
    /// How many of the packed events are its timeline's.
    events: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct AccountImage {
    id: Arc<str>,
    traits: Traits,
    contacts: BTreeSet<ContactId>,
}

/// Timeline events, [`EVENT_BYTES`] each: time (i64) and seq (u64), kind
/// (u8), then name, properties and context (u32) by their number (context
/// 0 is none, `n` is object `n - 1`), little-endian. Packed rather than a
/// sequence of tuples: millions of them decode ten times faster.
#[derive(Debug, Default, PartialEq)]
struct PackedEvents(Vec<u8>);

const EVENT_BYTES: usize = 29;

impl PackedEvents {
    fn push(&mut self, time: i64, seq: u64, kind: u8, refs: [u32; 3]) {
        self.0.extend_from_slice(&time.to_le_bytes());
        self.0.extend_from_slice(&seq.to_le_bytes());
        self.0.push(kind);
        for reference in refs {
            self.0.extend_from_slice(&reference.to_le_bytes());
        }
    }

    /// `(time, seq, kind, [name, properties, context])` of each event.
    fn iter(&self) -> impl Iterator<Item = (i64, u64, u8, [u32; 3])> + '_ {
        self.0.chunks_exact(EVENT_BYTES).map(|bytes| {
            let word = |at: usize| {
                let mut buffer = [0; 8];
                buffer.copy_from_slice(&bytes[at..at + 8]);
                buffer
            };
            let small = |at: usize| {
                let mut buffer = [0; 4];
                buffer.copy_from_slice(&bytes[at..at + 4]);
                u32::from_le_bytes(buffer)
            };
            (
                i64::from_le_bytes(word(0)),
                u64::from_le_bytes(word(8)),
                bytes[16],
                [small(17), small(21), small(25)],
            )
        })
    }
}

impl Serialize for PackedEvents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for PackedEvents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = PackedEvents;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("packed timeline events")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                Ok(PackedEvents(bytes.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
                Ok(PackedEvents(bytes))
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// Numbers shared values by their address while an image is made (looked
/// up once per event: addresses are ours, so a fast non-keyed hash).
struct Numbering<T: ?Sized> {
    index: rustc_hash::FxHashMap<*const T, u32>,
    values: Vec<Arc<T>>,
}

impl<T: ?Sized> Numbering<T> {
    fn new() -> Self {
        Self {
            index: rustc_hash::FxHashMap::default(),
            values: Vec::new(),
        }
    }

    fn number(&mut self, value: &Arc<T>) -> u32 {
        let next = self.values.len() as u32;
        *self.index.entry(Arc::as_ptr(value)).or_insert_with(|| {
            self.values.push(value.clone());
            next
        })
    }
}

fn kind_code(kind: EventKind) -> u8 {
    match kind {
        EventKind::Track => 0,
        EventKind::Page => 1,
        EventKind::Screen => 2,
    }
}

fn kind_of(code: u8) -> Option<EventKind> {
    match code {
        0 => Some(EventKind::Track),
        1 => Some(EventKind::Page),
        2 => Some(EventKind::Screen),
        _ => None,
    }
}

/// An image that does not describe a state (a number out of range).
#[derive(Debug, thiserror::Error)]
#[error("the snapshot's subjects are inconsistent: {0}")]
pub(crate) struct ImageError(&'static str);

impl StateImage {
    /// The highest event sequence number it holds.
    pub(crate) fn position(&self) -> i64 {
        self.position
    }
}

/// Two sets of subjects are equal when every contact, account, event (with
/// its kept properties) and trait history is.
impl PartialEq for super::Subjects {
    fn eq(&self, other: &Self) -> bool {
        self.0.image() == other.0.image()
    }
}

impl super::Subjects {
    /// Every contact (label, account, first seen, traits, events) and
    /// account, one per line: what a failed comparison prints.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut ids: Vec<_> = self.0.contacts.keys().collect();
        ids.sort();
        for id in ids {
            let c = &self.0.contacts[id];
            out.push_str(&format!(
                "contact {id} {} {:?} {} {:?} {:?}\n",
                c.label,
                c.account,
                c.has_user_id,
                c.first_seen(),
                c.traits
            ));
            for e in c.timeline.iter() {
                out.push_str(&format!(
                    "   {} {} {} {}\n",
                    e.seq,
                    e.time,
                    e.name(),
                    e.properties()
                ));
            }
        }
        out.push_str(&format!("position {}\n", self.0.position()));
        let mut ids: Vec<_> = self.0.accounts.keys().collect();
        ids.sort();
        for id in ids {
            let a = &self.0.accounts[id];
            out.push_str(&format!("account {id} {:?} {:?}\n", a.contacts, a.traits));
        }
        out
    }

    pub(crate) fn from_image(image: StateImage) -> Result<Self, ImageError> {
        State::from_image(image).map(Self)
    }
}

impl super::View {
    /// The subjects' state as plain data, for a snapshot.
    pub(crate) fn subjects_image(&self) -> StateImage {
        self.state.image()
    }
}

impl State {
    /// The state as plain data.
    pub(crate) fn image(&self) -> StateImage {
        let mut names = Numbering::<str>::new();
        let mut objects = Numbering::<Value>::new();
        // Numbered in contact order: equal states give equal images.
        let mut ids: Vec<&ContactId> = self.contacts.keys().collect();
        ids.sort();
        // Sized once: at 10M events the buffer is 290 MB, and doubling it
        // copies as much again (a snapshot while running holds up acks).
        let held: usize = self.contacts.values().map(|c| c.timeline.len()).sum();
        let mut events = PackedEvents(Vec::with_capacity(held * EVENT_BYTES));
        let contacts: Vec<ContactImage> = ids
            .into_iter()
            .filter_map(|id| Some((id, self.contacts.get(id)?)))
            .map(|(id, contact)| ContactImage {
                id: *id,
                label: contact.label.clone(),
                has_user_id: contact.has_user_id,
                label_since: contact.label_since,
                account: contact.account.clone(),
                quiet: contact.quiet.clone(),
                traits: contact.traits.clone(),
                events: contact
                    .timeline
                    .iter()
                    .map(|event| {
                        let context = event
                            .context()
                            .as_ref()
                            .map_or(0, |context| objects.number(context) + 1);
                        let refs = [
                            names.number(event.name()),
                            objects.number(event.properties()),
                            context,
                        ];
                        events.push(event.time, event.seq, kind_code(event.kind()), refs);
                    })
                    .count() as u32,
            })
            .collect();
        let mut accounts: Vec<AccountImage> = self
            .accounts
            .iter()
            .map(|(id, account)| AccountImage {
                id: id.clone(),
                traits: account.traits.clone(),
                contacts: account.contacts.clone(),
            })
            .collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        StateImage {
            keep: self.kept_properties().cloned(),
            position: self.position(),
            names: names.values,
            objects: objects.values.iter().map(|v| (**v).clone()).collect(),
            contacts,
            accounts,
            events,
        }
    }

    /// The state an image describes.
    pub(crate) fn from_image(image: StateImage) -> Result<Self, ImageError> {
        let objects: Vec<Arc<Value>> = image
            .objects
            .into_iter()
            .map(|object| Arc::new(super::json_table::compact(object)))
            .collect();
        let mut state = State::restored(image.keep, image.position, &image.names, &objects);
        let mut packed = image.events.iter();
        for contact in image.contacts {
            let mut events = Vec::with_capacity(contact.events as usize);
            for _ in 0..contact.events {
                let (time, seq, kind, [name, properties, context]) = packed
                    .next()
                    .ok_or(ImageError("fewer events than counted"))?;
                let object = |n: u32| objects.get(n as usize).cloned();
                events.push(
                    state.restored_event(
                        (time, seq),
                        kind_of(kind).ok_or(ImageError("unknown event kind"))?,
                        image
                            .names
                            .get(name as usize)
                            .cloned()
                            .ok_or(ImageError("event name out of range"))?,
                        object(properties).ok_or(ImageError("properties out of range"))?,
                        match context {
                            0 => None,
                            n => Some(object(n - 1).ok_or(ImageError("context out of range"))?),
                        },
                    ),
                );
            }
            let mut traits = contact.traits;
            state.share_traits(&mut traits);
            state.contacts.insert(
                contact.id,
                ContactState {
                    label: contact.label,
                    has_user_id: contact.has_user_id,
                    label_since: contact.label_since,
                    timeline: Timeline::from_events(events),
                    traits,
                    account: contact.account,
                    quiet: contact.quiet,
                },
            );
        }
        for mut account in image.accounts {
            state.share_traits(&mut account.traits);
            state.accounts.insert(
                account.id,
                AccountState {
                    traits: account.traits,
                    contacts: account.contacts,
                    order: Default::default(),
                },
            );
        }
        Ok(state)
    }
}
