//! The subjects' state as plain data, for the engine snapshot
//! ([`crate::snapshot`]): every contact and account with its timeline and
//! trait history. Names and property objects are written once and referred
//! to by number, as they are shared in memory.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bellwether_rules::{Event, EventKind, PropertyKeys, Timeline, Traits};
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
    events: Vec<EventImage>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct AccountImage {
    id: Arc<str>,
    traits: Traits,
    contacts: BTreeSet<ContactId>,
}

/// One timeline event: `(time, seq, kind, name, properties, context)`,
/// names and objects by their number (`context` 0 is none, `n` is object
/// `n - 1`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct EventImage(i64, u64, u8, u32, u32, u32);

/// Numbers shared values by their address while an image is made.
struct Numbering<T: ?Sized> {
    index: HashMap<*const T, u32>,
    values: Vec<Arc<T>>,
}

impl<T: ?Sized> Numbering<T> {
    fn new() -> Self {
        Self {
            index: HashMap::new(),
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
                    e.seq, e.time, e.name, e.properties
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

impl super::Engine {
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
                        EventImage(
                            event.time,
                            event.seq,
                            kind_code(event.kind),
                            names.number(&event.name),
                            objects.number(&event.properties),
                            event
                                .context
                                .as_ref()
                                .map_or(0, |context| objects.number(context) + 1),
                        )
                    })
                    .collect(),
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
        }
    }

    /// The state an image describes.
    pub(crate) fn from_image(image: StateImage) -> Result<Self, ImageError> {
        let objects: Vec<Arc<Value>> = image.objects.into_iter().map(Arc::new).collect();
        let mut state = State::restored(image.keep, image.position, &image.names, &objects);
        for contact in image.contacts {
            let mut events = Vec::with_capacity(contact.events.len());
            for EventImage(time, seq, kind, name, properties, context) in contact.events {
                let object = |n: u32| objects.get(n as usize).cloned();
                events.push(Event {
                    time,
                    seq,
                    kind: kind_of(kind).ok_or(ImageError("unknown event kind"))?,
                    name: image
                        .names
                        .get(name as usize)
                        .cloned()
                        .ok_or(ImageError("event name out of range"))?,
                    properties: object(properties).ok_or(ImageError("properties out of range"))?,
                    context: match context {
                        0 => None,
                        n => Some(object(n - 1).ok_or(ImageError("context out of range"))?),
                    },
                });
            }
            state.contacts.insert(
                contact.id,
                ContactState {
                    label: contact.label,
                    has_user_id: contact.has_user_id,
                    label_since: contact.label_since,
                    timeline: Timeline::from_events(events),
                    traits: contact.traits,
                    account: contact.account,
                    quiet: contact.quiet.clone(),
                },
            );
        }
        for account in image.accounts {
            state.accounts.insert(
                account.id,
                AccountState {
                    traits: account.traits,
                    contacts: account.contacts,
                    timeline: None,
                },
            );
        }
        Ok(state)
    }
}
