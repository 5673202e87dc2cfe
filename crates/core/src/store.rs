//! The storage boundary. One trait, two implementations (SQLite, PostgreSQL)
//! in the `bellwether-store` crate, one conformance suite run against both.
//!
//! Invariant: the store decides nothing. Identity resolution, deduplication
//! and trait precedence are computed in this crate and handed over as
//! [`WriteOp`]s that an implementation applies in one transaction.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::message::{ContactId, Millis, Rejection, StoredEvent};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Kinds of identifier that resolve to a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    User,
    Anonymous,
    Email,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Anonymous => "anonymous",
            Self::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "user" => Self::User,
            "anonymous" => Self::Anonymous,
            "email" => Self::Email,
            _ => return None,
        })
    }
}

/// Why two contacts became one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeReason {
    /// `identify` carrying both a `userId` and an `anonymousId`.
    Identify,
    /// `alias` from `previousId` to `userId`.
    Alias,
    /// Two contacts share an email trait.
    Email,
}

impl MergeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identify => "identify",
            Self::Alias => "alias",
            Self::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "identify" => Self::Identify,
            "alias" => Self::Alias,
            "email" => Self::Email,
            _ => return None,
        })
    }
}

/// How a contact came to belong to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountLink {
    Group,
    EmailDomain,
}

impl AccountLink {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::EmailDomain => "email_domain",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "group" => Self::Group,
            "email_domain" => Self::EmailDomain,
            _ => return None,
        })
    }
}

/// One change, computed by the core, applied verbatim by a store.
// Ops live only for one group commit, and most of them are events: boxing the
// large variant would add an allocation per event to save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    NewContact {
        id: ContactId,
        created_at: Millis,
    },
    /// Point an identifier at a contact (insert, or move on merge).
    Identity {
        kind: IdKind,
        value: String,
        contact: ContactId,
        first_seen: Millis,
    },
    /// Fold `from` into `into`: identities, events, traits and account links
    /// of `from` are re-homed to `into`; `from` records where it went.
    Merge {
        from: ContactId,
        into: ContactId,
        at: Millis,
        reason: MergeReason,
        message_id: String,
    },
    Event(StoredEvent),
    /// Trait values set by one message (history row per key).
    ContactTraits {
        contact: ContactId,
        traits: Map<String, Value>,
        at: Millis,
        seq: i64,
    },
    /// Create the account if new (no-op otherwise).
    NewAccount {
        group_id: String,
        created_at: Millis,
    },
    AccountTraits {
        group_id: String,
        traits: Map<String, Value>,
        at: Millis,
        seq: i64,
    },
    /// Set the contact's current account.
    ContactAccount {
        contact: ContactId,
        group_id: String,
        link: AccountLink,
        at: Millis,
    },
    Rejection(Rejection),
    /// A segment entry/exit or tier change recorded by the engine.
    Membership(MembershipRecord),
    /// A score's closed form changed (events, state points, definitions;
    /// never decay alone, which the form already describes).
    Score(ScoreRecord),
    /// The engine has recorded every change up to this instant.
    Checkpoint {
        at: Millis,
    },
}

/// A membership change as stored: enough to rebuild who is in which segment
/// (and since when) after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipRecord {
    pub at: Millis,
    /// `contact` or `account`.
    pub subject_kind: String,
    /// The contact number, or the account's group id.
    pub subject_key: String,
    /// How people name the subject (user id, group id) at the time.
    pub label: String,
    /// `entered` or `exited`.
    pub change: String,
    /// `segment` or `tier`.
    pub definition_kind: String,
    pub definition: String,
    /// The tier level entered or left.
    pub level: Option<String>,
}

/// A score of one subject from `at` on, in closed form: its value at any
/// later instant (until the next record) is
/// `constant + decaying × 2^(−(t − anchor) / half_life)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    pub at: Millis,
    /// `contact` or `account`.
    pub subject_kind: String,
    /// The contact number, or the account's group id.
    pub subject_key: String,
    /// How people name the subject (user id, group id) at the time.
    pub label: String,
    pub score: String,
    /// The value at `at`.
    pub value: f64,
    pub constant: f64,
    pub decaying: f64,
    pub anchor: Millis,
    /// Milliseconds; `None`: no decay.
    pub half_life: Option<Millis>,
}

/// Everything the identity graph needs to rebuild itself at start-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentitySnapshot {
    /// Every contact ever created, with its survivor if merged away.
    pub contacts: Vec<(ContactId, Option<ContactId>)>,
    pub identities: Vec<IdentityRow>,
    /// Current account per live contact.
    pub contact_accounts: Vec<(ContactId, String, AccountLink, Millis)>,
    /// Known accounts and their `domain` trait if any.
    pub accounts: Vec<(String, Option<String>)>,
    /// Highest stored sequence number (0 when empty).
    pub max_seq: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRow {
    pub kind: IdKind,
    pub value: String,
    pub contact: ContactId,
    pub first_seen: Millis,
}

/// A contact as the query API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub id: ContactId,
    pub created_at: Millis,
    /// Known user ids, earliest first-seen first: the first is the primary.
    pub user_ids: Vec<String>,
    pub anonymous_ids: Vec<String>,
    pub emails: Vec<String>,
    pub account_id: Option<String>,
    /// Current traits: per key, the value with the latest event time.
    pub traits: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub group_id: String,
    pub created_at: Millis,
    pub traits: Map<String, Value>,
    pub contact_ids: Vec<ContactId>,
}

/// A recorded identity merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub from: ContactId,
    pub into: ContactId,
    pub at: Millis,
    pub reason: MergeReason,
    pub message_id: String,
}

/// One historical trait value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitChange {
    pub key: String,
    pub value: Value,
    pub at: Millis,
    pub seq: i64,
}

/// The durable store. Methods block: call them from a dedicated thread or
/// `spawn_blocking`, never directly on the async runtime.
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Applies `ops` atomically and durably: when this returns `Ok`, every op
    /// survives a crash of the process.
    fn apply(&self, ops: &[WriteOp]) -> Result<(), StoreError>;

    /// Which of `message_ids` from `source` are already stored.
    fn seen_message_ids(
        &self,
        source: &str,
        message_ids: &[&str],
    ) -> Result<HashSet<String>, StoreError>;

    fn load_identity(&self) -> Result<IdentitySnapshot, StoreError>;

    /// The live contact a `kind`/`value` identifier resolves to.
    fn contact_by_identity(
        &self,
        kind: IdKind,
        value: &str,
    ) -> Result<Option<ContactRecord>, StoreError>;

    fn contact(&self, id: ContactId) -> Result<Option<ContactRecord>, StoreError>;

    fn account(&self, group_id: &str) -> Result<Option<AccountRecord>, StoreError>;

    /// Events of a contact, newest first (by timestamp, then seq), starting
    /// strictly after the `(timestamp, seq)` cursor when given.
    fn contact_events(
        &self,
        contact: ContactId,
        limit: usize,
        before: Option<(Millis, i64)>,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every stored event in `seq` order after `after_seq`, at most `limit`.
    fn scan_events(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    fn contact_trait_history(&self, contact: ContactId) -> Result<Vec<TraitChange>, StoreError>;

    fn account_trait_history(&self, group_id: &str) -> Result<Vec<TraitChange>, StoreError>;

    fn merges_into(&self, contact: ContactId) -> Result<Vec<MergeRecord>, StoreError>;

    /// Most recent rejections first.
    fn recent_rejections(&self, limit: usize) -> Result<Vec<Rejection>, StoreError>;

    fn event_count(&self) -> Result<u64, StoreError>;

    /// Every recorded membership change in recording order, and the engine's
    /// last checkpoint (`None` before the first).
    fn membership_history(&self) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError>;

    /// The recorded changes of one subject (`subject_kind`, `subject_key` as
    /// in [`MembershipRecord`]), in recording order.
    fn subject_history(
        &self,
        subject_kind: &str,
        subject_key: &str,
    ) -> Result<Vec<MembershipRecord>, StoreError>;

    /// The recorded changes of one segment or tier at or after `since`, in
    /// recording order.
    fn definition_history(
        &self,
        definition: &str,
        since: Millis,
    ) -> Result<Vec<MembershipRecord>, StoreError>;

    /// The recorded score changes of one subject, in recording order.
    fn score_history(
        &self,
        subject_kind: &str,
        subject_key: &str,
    ) -> Result<Vec<ScoreRecord>, StoreError>;

    /// The last recorded form of every (subject, score): where the engine
    /// resumes comparing after a restart.
    fn latest_scores(&self) -> Result<Vec<ScoreRecord>, StoreError>;
}
