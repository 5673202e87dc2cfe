//! The Segment tracking-API wire format: request envelopes, per-message
//! validation with the field at fault, and `sentAt` clock-skew correction.
//!
//! Limits follow Segment's: 32 KB per message, 4 MB per batch. A `null` id
//! counts as absent, numeric ids are accepted and turned into strings.

mod message;
mod time;

pub use message::{check_envelope_object, parse_message, MessageError, ParseContext};
pub use time::{format_timestamp, parse_timestamp};

/// Largest accepted single message, in bytes (Segment's limit).
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Largest accepted batch body, in bytes, after decompression.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting accepted inside `properties`, `traits` or `context`.
pub const MAX_DEPTH: usize = 32;
/// Most keys accepted in any one object of a message.
pub const MAX_KEYS_PER_OBJECT: usize = 1_000;
