//! A validated, normalized Segment-spec message, and what the store keeps of it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Milliseconds since the Unix epoch, UTC. Bellwether's one time unit.
pub type Millis = i64;

/// Internal contact number. Stable for a contact's lifetime; a merged-away
/// contact keeps its number but points at the survivor.
pub type ContactId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identify => "identify",
            Self::Track => "track",
            Self::Page => "page",
            Self::Screen => "screen",
            Self::Group => "group",
            Self::Alias => "alias",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "identify" => Self::Identify,
            "track" => Self::Track,
            "page" => Self::Page,
            "screen" => Self::Screen,
            "group" => Self::Group,
            "alias" => Self::Alias,
            _ => return None,
        })
    }

    /// Behavior events feed aggregates; the others only change identity and traits.
    pub fn is_behavior(self) -> bool {
        matches!(self, Self::Track | Self::Page | Self::Screen)
    }
}

/// One message after validation: ids present, timestamps corrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Name of the `[[source]]` whose write key sent it.
    pub source: String,
    pub message_id: String,
    pub kind: MessageKind,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// `previousId` of an alias call.
    pub previous_id: Option<String>,
    pub group_id: Option<String>,
    /// Track event name, or page/screen name.
    pub event: Option<String>,
    pub properties: Map<String, Value>,
    pub traits: Map<String, Value>,
    pub context: Map<String, Value>,
    /// Event time after `sentAt` clock-skew correction.
    pub timestamp: Millis,
    /// When Bellwether received it.
    pub received_at: Millis,
    pub sent_at: Option<Millis>,
    /// The client's own `timestamp`, before correction.
    pub original_timestamp: Option<Millis>,
}

/// A message as stored: with its sequence number and resolved contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Global insertion order (assigned by the writer, gap-free per process).
    pub seq: i64,
    pub contact_id: Option<ContactId>,
    pub message: Message,
}

/// Why a message (or a whole request) was not stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub received_at: Millis,
    pub source: Option<String>,
    pub message_id: Option<String>,
    /// Position in the batch, when it came in one.
    pub index: Option<usize>,
    /// JSON path of the field at fault, e.g. `batch[3].event`.
    pub field: String,
    pub reason: String,
    /// The start of the offending message, for humans.
    pub excerpt: String,
    /// The message was stored; only this field was ignored (a blocked
    /// identifier). Not counted as rejected.
    #[serde(default)]
    pub warning: bool,
}
