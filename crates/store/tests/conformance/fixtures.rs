//! Builders for ops and messages, so cases read as the scenario they test.

use bellwether_core::message::{ContactId, Message, MessageKind, Millis, Rejection, StoredEvent};
use bellwether_core::store::{AccountLink, IdKind, MergeReason, WriteOp};
use bellwether_core::subject::{SubjectKey, SubjectKind};
use serde_json::{Map, Value};

/// A JSON object literal as a `Map`.
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub(crate) fn message(
    kind: MessageKind,
    source: &str,
    message_id: &str,
    timestamp: Millis,
) -> Message {
    Message {
        source: source.to_owned(),
        message_id: message_id.to_owned(),
        kind,
        user_id: None,
        anonymous_id: None,
        previous_id: None,
        group_id: None,
        event: None,
        properties: Map::new(),
        traits: Map::new(),
        context: Map::new(),
        timestamp,
        received_at: timestamp + 5,
        sent_at: None,
        original_timestamp: None,
    }
}

/// A `track` event from source `web` whose message id is `m{seq}`.
pub(crate) fn track(seq: i64, contact: Option<ContactId>, timestamp: Millis) -> StoredEvent {
    let mut message = message(MessageKind::Track, "web", &format!("m{seq}"), timestamp);
    message.event = Some("Page Viewed".to_owned());
    StoredEvent {
        seq,
        contact_id: contact,
        message,
    }
}

/// `WriteOp::Event`; `into` keeps this one place right whether the variant
/// holds the event or a box of it.
#[allow(clippy::useless_conversion)]
pub(crate) fn event(event: StoredEvent) -> WriteOp {
    WriteOp::Event(event.into())
}

pub(crate) fn event_op(seq: i64, contact: Option<ContactId>, timestamp: Millis) -> WriteOp {
    event(track(seq, contact, timestamp))
}

pub(crate) fn new_contact(id: ContactId, created_at: Millis) -> WriteOp {
    WriteOp::NewContact { id, created_at }
}

pub(crate) fn identity(
    kind: IdKind,
    value: &str,
    contact: ContactId,
    first_seen: Millis,
) -> WriteOp {
    WriteOp::Identity {
        kind,
        value: value.to_owned(),
        contact,
        first_seen,
    }
}

pub(crate) fn merge(from: ContactId, into: ContactId, at: Millis) -> WriteOp {
    WriteOp::Merge {
        from,
        into,
        at,
        reason: MergeReason::Identify,
        message_id: format!("merge-{from}-{into}"),
    }
}

pub(crate) fn contact_traits(contact: ContactId, traits: Value, at: Millis, seq: i64) -> WriteOp {
    WriteOp::ContactTraits {
        contact,
        traits: object(traits),
        at,
        seq,
    }
}

pub(crate) fn new_account(group_id: &str, created_at: Millis) -> WriteOp {
    WriteOp::NewAccount {
        group_id: group_id.to_owned(),
        created_at,
    }
}

pub(crate) fn account_traits(group_id: &str, traits: Value, at: Millis, seq: i64) -> WriteOp {
    WriteOp::AccountTraits {
        group_id: group_id.to_owned(),
        traits: object(traits),
        at,
        seq,
    }
}

pub(crate) fn link(contact: ContactId, group_id: &str, at: Millis) -> WriteOp {
    WriteOp::ContactAccount {
        contact,
        group_id: group_id.to_owned(),
        link: AccountLink::Group,
        via: None,
        at,
    }
}

pub(crate) fn rejection(received_at: Millis, field: &str) -> Rejection {
    Rejection {
        received_at,
        source: Some("web".to_owned()),
        message_id: Some(format!("bad-{field}")),
        index: Some(3),
        field: field.to_owned(),
        reason: "must be a string".to_owned(),
        excerpt: "{\"type\":\"track\"".to_owned(),
        warning: false,
    }
}

/// Sequence numbers of `events`, for compact assertions.
pub(crate) fn seqs(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|event| event.seq).collect()
}

/// A subject as the store records it (`"contact"`/`"account"`, key).
pub(crate) fn subject(kind: &str, key: &str) -> SubjectKey {
    let kind = SubjectKind::parse(kind).expect("a subject kind");
    SubjectKey::from_store(kind, key).expect("a subject key")
}

/// The contact numbered `key`.
pub(crate) fn contact(key: &str) -> SubjectKey {
    subject("contact", key)
}
