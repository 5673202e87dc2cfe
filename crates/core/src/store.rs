//! The storage boundary. One trait, two implementations (SQLite, PostgreSQL)
//! in the `bellwether-store` crate, one conformance suite run against both.
//!
//! Invariant: the store decides nothing. Identity resolution, deduplication
//! and trait precedence are computed in this crate and handed over as
//! [`WriteOp`]s that an implementation applies in one transaction.

mod score_run;

pub use score_run::ScoreRun;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::message::{ContactId, Millis, Rejection, StoredEvent};
use crate::subject::{DefKind, SubjectKey, Transition};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Another process writes to this store (SPEC section 7, "One writer").
    #[error("{store} is already in use by {holder}; one bellwether serve or import writes to a store at a time")]
    Locked { store: String, holder: String },
    /// A thread of the write path could not be started (the system's
    /// thread or memory limit): nothing was written.
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        name: &'static str,
        source: std::io::Error,
    },
    /// A thread of the write path panicked: what it was writing is not
    /// committed (a bug; the panic is in the log).
    #[error("the {name} thread panicked")]
    ThreadPanicked { name: &'static str },
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
    /// Revealed by the visitor's IP address (`[[enrichment]] kind = "ip"`).
    Ip,
}

impl AccountLink {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::EmailDomain => "email_domain",
            Self::Ip => "ip",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "group" => Self::Group,
            "email_domain" => Self::EmailDomain,
            "ip" => Self::Ip,
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
    /// Move one stored message, and the contact traits it set (rows with
    /// its `seq`), from one contact to another: a shared anonymous id's or
    /// email's message belongs to whoever held it at its time (SPEC §7).
    /// `at` is the message's time and `traits` the contact traits it set,
    /// for the engine; the store needs only `seq`, `from` and `to`.
    Rehome {
        seq: i64,
        from: ContactId,
        to: ContactId,
        at: Millis,
        traits: Map<String, Value>,
    },
    /// A stored message that no longer names any contact (its only ids are
    /// blocked values, stored by a version without `blocked_ids`) leaves
    /// its contact, with the contact traits it set (deleted).
    Detach {
        seq: i64,
        from: ContactId,
        at: Millis,
        traits: Map<String, Value>,
    },
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
        /// The network of an IP reveal (`AccountLink::Ip`).
        via: Option<String>,
        at: Millis,
    },
    /// Enrichment changed the account's traits (SPEC §7 "Enrichment"):
    /// `changes` are trait values set at `at` (after message `seq`; `null`
    /// unsets), stored in its trait history marked as enrichment's, and
    /// `applied` is everything enrichment gives it now (replacing the
    /// previous record).
    AccountEnrichment {
        group_id: String,
        domain: String,
        changes: Map<String, Value>,
        applied: Map<String, Value>,
        at: Millis,
        seq: i64,
    },
    /// The enrichment provider's answer for a domain (`kind = "http"`),
    /// kept so a restart does not ask again within its TTL.
    EnrichmentAnswer {
        domain: String,
        traits: Map<String, Value>,
        fetched_at: Millis,
    },
    Rejection(Rejection),
    /// Forget stored rejections beyond the newest `keep_newest`, and those
    /// received before `before` (applied after this batch's rejections).
    PruneRejections {
        keep_newest: u64,
        before: Millis,
    },
    /// A segment entry/exit or tier change recorded by the engine.
    Membership(MembershipRecord),
    /// A score's closed form changed (events, state points, definitions;
    /// never decay alone, which the form already describes).
    Score(ScoreRecord),
    /// A first start's recorded forms of one subject's score, written as one
    /// row ([`ScoreRun`]); read back as the records it holds.
    ScoreRun(ScoreRun),
    /// The engine has recorded every change up to this instant.
    Checkpoint {
        at: Millis,
    },
    /// A delivery to make, committed with the change that caused it. An id
    /// already stored is ignored (a change recomputed after a crash).
    Outbox(OutboxRecord),
    /// A subject entering a segment was given an owner.
    Assign(AssignmentRecord),
    /// An assignment of a first start's history, written once with its
    /// end: nothing of its segment and subject is open in the store (the
    /// router ends what was), so nothing is ended as `Assign` would.
    BackfilledAssignment(BackfilledAssignment),
    /// A `[[digest]]` was queued for the period ending `period_end` (its
    /// outbox row commits in the same transaction): the latest period per
    /// digest is kept, so a restart does not send it again.
    DigestSent(DigestSentRecord),
    /// The subject left the segment: its current assignment there ends.
    Unassign {
        segment: String,
        subject: SubjectKey,
        at: Millis,
    },
    /// Delete a contact and every row about it (SPEC §7), suppress its
    /// identifiers, and log the deletion with what it removed.
    DeleteContact(ContactDeletion),
    /// Delete the recorded history of deleted contacts (membership and
    /// score changes, deliveries, assignments) that the engine recorded
    /// before it forgot them, and mark the deletion complete. Idempotent.
    PurgeContactRecords {
        deletion: String,
        contacts: Vec<ContactId>,
    },
    /// Messages carrying `value` are stored again.
    Unsuppress {
        value: String,
    },
    /// Retention (`[retention] events`): delete these behavior events,
    /// older than `before` (one step of a pass). The engine forgets every
    /// behavior event older than `before`, which the pass deletes.
    ExpireEvents {
        before: Millis,
        events: Vec<ExpiredEvent>,
    },
}

/// A behavior event past the retention: its sequence number and the
/// contact whose timeline holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiredEvent {
    pub seq: i64,
    pub contact: Option<ContactId>,
}

/// One contact's deletion (`DELETE /api/v1/contacts/{id}`, `bellwether
/// delete`): applied in one transaction, it removes the events, trait
/// history, identities, merges, account link and contact rows of
/// `contacts`, their recorded membership and score history and their
/// deliveries; their assignments lose the subject (kept, anonymous, so
/// round-robin turns still count); `suppress` is added to the suppression
/// list; a [`DeletionRecord`] with the row counts is logged.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDeletion {
    /// The audit log's key.
    pub id: String,
    pub at: Millis,
    /// Who asked: a token name, or `cli`.
    pub actor: String,
    /// The live contact first, then every contact merged into it.
    pub contacts: Vec<ContactId>,
    pub suppress: Vec<Suppression>,
}

/// An identifier whose messages are dropped at ingestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    /// The value as identities hold it (emails lowercase).
    pub value: String,
    pub kind: IdKind,
    pub at: Millis,
}

/// What one deletion removed, by kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionCounts {
    pub events: u64,
    pub traits: u64,
    pub identities: u64,
    pub memberships: u64,
    pub scores: u64,
    pub deliveries: u64,
    pub assignments: u64,
}

/// One entry of the deletion audit log: who, when, how much; never what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletionRecord {
    pub id: String,
    pub at: Millis,
    pub actor: String,
    /// Internal contact numbers (not identifiers people or SDKs use).
    pub contacts: Vec<ContactId>,
    pub counts: DeletionCounts,
    /// Whether the recorded history was purged too (see
    /// [`WriteOp::PurgeContactRecords`]); finished at the next start if not.
    pub complete: bool,
}

/// The latest period a digest was queued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSentRecord {
    pub name: String,
    /// The end of the period (the scheduled send instant).
    pub period_end: Millis,
    /// When it was queued.
    pub sent_at: Millis,
}

/// One delivery of one change to one destination, as committed. `id` is
/// the `webhook-id`: stable across retries and recomputation.
///
/// Its words stay text: besides a subject's changes (`contact`/`account`,
/// `segment`/`tier`/`score`, a [`Transition`]) the outbox carries digests
/// (`digest`, `digest`, `sent`), and the order key spans both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub id: String,
    pub destination: String,
    /// `contact`, `account` or `digest`, and the contact number, group id
    /// or digest name: the order key (deliveries of one subject to one
    /// destination go in order).
    pub subject_kind: String,
    pub subject_key: String,
    /// How people name the subject.
    pub label: String,
    /// `segment`, `tier`, `score` or `digest`, and its name.
    pub definition_kind: String,
    pub definition: String,
    /// A [`Transition`]'s text, or `sent` (a digest).
    pub change: String,
    /// The instant of the change.
    pub at: Millis,
    /// The exact body to send.
    pub body: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Out of attempts (or given up on): listed for replay.
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// An outbox row with its delivery progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub record: OutboxRecord,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Millis,
    pub last_attempt_at: Option<Millis>,
    /// HTTP status of the last attempt, if it got one.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    Delivered {
        at: Millis,
        status: u16,
    },
    /// Failed; try again at `next_at`.
    Retry {
        at: Millis,
        next_at: Millis,
        status: Option<u16>,
        error: String,
    },
    /// Failed for good: to the dead letters.
    Dead {
        at: Millis,
        status: Option<u16>,
        error: String,
    },
}

/// Which deliveries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFilter {
    pub destination: Option<String>,
    /// Segment, tier or score name.
    pub definition: Option<String>,
    pub state: Option<DeliveryState>,
    /// Only rows committed before this one (by commit order), for paging.
    pub before: Option<i64>,
    /// Only deliveries about this subject: `(subject_kind, subject_key)`
    /// as in [`OutboxRecord`].
    pub subject: Option<(String, String)>,
}

/// What the router resumes from at start-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedAssignments {
    /// Assignments not ended, oldest first.
    pub current: Vec<AssignmentRecord>,
    /// Per pool: round-robin turns ever used.
    pub turns: Vec<(String, u64)>,
}

/// An owner given to a subject that entered a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRecord {
    pub segment: String,
    pub subject: SubjectKey,
    pub label: String,
    pub owner: String,
    /// The pool it came from, when the segment's owner names one.
    pub pool: Option<String>,
    /// Whether the pool's round-robin turn was used (its turn counter is
    /// the number of such assignments).
    pub round_robin: bool,
    pub at: Millis,
}

/// An assignment of a backfilled history (`WriteOp::BackfilledAssignment`).
#[derive(Debug, Clone, PartialEq)]
pub struct BackfilledAssignment {
    pub assignment: AssignmentRecord,
    /// When the subject left the segment; `None` while it is still in.
    pub ended_at: Option<Millis>,
}

/// A membership change as stored: enough to rebuild who is in which segment
/// (and since when) after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipRecord {
    pub at: Millis,
    pub subject: SubjectKey,
    /// How people name the subject (user id, group id) at the time.
    pub label: String,
    /// Entered or exited.
    pub change: Transition,
    /// Segment or tier.
    pub definition_kind: DefKind,
    pub definition: String,
    /// The tier level entered or left.
    pub level: Option<String>,
}

/// A score of one subject from `at` on, in closed form: its value at any
/// later instant (until the next record) is
/// `constant + decaying × 2^(−(t − anchor) / half_life)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRecord {
    pub at: Millis,
    pub subject: SubjectKey,
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

/// What enrichment gave an account, as last recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountEnrichmentRecord {
    pub group_id: String,
    pub domain: String,
    pub traits: Map<String, Value>,
}

/// One account trait change enrichment wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichedTraitRow {
    pub group_id: String,
    pub key: String,
    pub value: Value,
    pub at: Millis,
    pub seq: i64,
}

/// The enrichment provider's answer for a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichmentAnswerRecord {
    pub domain: String,
    pub traits: Map<String, Value>,
    pub fetched_at: Millis,
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
    /// How the contact came to its account.
    pub account_link: Option<AccountLink>,
    /// The network whose address revealed the account (`AccountLink::Ip`).
    pub revealed_by: Option<String>,
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
/// The top-level keys of an event's properties and context a reader needs
/// (`None`: all of them). Traits always come whole.
#[derive(Clone, Copy, Default)]
pub struct EventParts<'a> {
    pub properties: Option<&'a dyn Fn(&str) -> bool>,
    pub context: Option<&'a dyn Fn(&str) -> bool>,
}

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

    /// The highest sequence number of a stored message, 0 when none (what
    /// [`IdentitySnapshot::max_seq`] holds, without reading the graph):
    /// the writer numbers new messages after it.
    fn max_seq(&self) -> Result<i64, StoreError> {
        Ok(self.load_identity()?.max_seq)
    }

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

    /// [`Store::scan_events`] for a reader that needs only `parts` of the
    /// properties and the context: a store may leave the other keys out
    /// instead of decoding them (start-up reads every stored message twice;
    /// most of a message is properties neither reader keeps). By default,
    /// everything.
    fn scan_event_parts(
        &self,
        after_seq: i64,
        limit: usize,
        parts: &EventParts<'_>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let _ = parts;
        self.scan_events(after_seq, limit)
    }

    fn contact_trait_history(&self, contact: ContactId) -> Result<Vec<TraitChange>, StoreError>;

    fn account_trait_history(&self, group_id: &str) -> Result<Vec<TraitChange>, StoreError>;

    fn merges_into(&self, contact: ContactId) -> Result<Vec<MergeRecord>, StoreError>;

    /// Most recent rejections first.
    fn recent_rejections(&self, limit: usize) -> Result<Vec<Rejection>, StoreError>;

    fn event_count(&self) -> Result<u64, StoreError>;

    /// Track, page and screen events with a timestamp before `before`
    /// among the sequence numbers `seqs` (a bounded range: retention walks
    /// the table in steps, without an index on time), in sequence order.
    fn expired_events(
        &self,
        before: Millis,
        seqs: std::ops::RangeInclusive<i64>,
    ) -> Result<Vec<ExpiredEvent>, StoreError>;

    /// What enrichment gave each account (`WriteOp::AccountEnrichment`).
    fn account_enrichments(&self) -> Result<Vec<AccountEnrichmentRecord>, StoreError>;

    /// The enrichment provider's kept answers (`WriteOp::EnrichmentAnswer`).
    fn enrichment_answers(&self) -> Result<Vec<EnrichmentAnswerRecord>, StoreError>;

    /// The account trait changes enrichment wrote (not derived from any
    /// message), in no particular order: a start that reads the store
    /// replays the messages, then these.
    fn enriched_traits(&self) -> Result<Vec<EnrichedTraitRow>, StoreError>;

    /// How many stored events have a sequence number of at most `seq` (a
    /// snapshot covering them is stale when this changed).
    fn events_through(&self, seq: i64) -> Result<u64, StoreError>;

    /// The last recorded change of each subject in each segment or tier, in
    /// recording order (who is in what since when: what a start restores),
    /// and the engine's last checkpoint (`None` before the first).
    fn latest_memberships(&self) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError>;

    /// The recorded changes of one subject, in recording order.
    fn subject_history(&self, subject: &SubjectKey) -> Result<Vec<MembershipRecord>, StoreError>;

    /// The recorded changes of one segment or tier at or after `since`, in
    /// time order (recording order within an instant: a first start writes
    /// its history one account at a time).
    fn definition_history(
        &self,
        definition: &str,
        since: Millis,
    ) -> Result<Vec<MembershipRecord>, StoreError>;

    /// The recorded score forms of one subject, in recording order: a
    /// [`ScoreRun`]'s forms, oldest first, where its row is (each score's
    /// own forms stay in order; a first start's runs do not interleave
    /// one score's with another's).
    fn score_history(&self, subject: &SubjectKey) -> Result<Vec<ScoreRecord>, StoreError>;

    /// The last recorded form of every (subject, score): where the engine
    /// resumes comparing after a restart.
    fn latest_scores(&self) -> Result<Vec<ScoreRecord>, StoreError>;

    /// Deletes every recorded membership change and score form if the
    /// engine has no checkpoint yet: what a first start that stopped before
    /// its checkpoint left (it writes history while walking it). With a
    /// checkpoint, deletes nothing. Returns the rows deleted.
    fn discard_unconfirmed_history(&self) -> Result<u64, StoreError>;

    /// A first start's history is about to be written in bulk: indexes
    /// its rows would update at random places on every transaction may be
    /// set aside until [`Store::end_history_bulk_write`] builds them again
    /// in one pass (a store opened after a crash in between has them
    /// back). Nothing to do by default.
    fn begin_history_bulk_write(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Builds again what [`Store::begin_history_bulk_write`] set aside.
    fn end_history_bulk_write(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Gives back the memory the writer's page cache grew to during a bulk
    /// write (a first start's history): it would otherwise stay resident
    /// for the life of the process. Nothing to do by default.
    fn release_write_cache(&self) -> Result<(), StoreError> {
        Ok(())
    }

    // ── The outbox (see `WriteOp::Outbox`) ──────────────────────────────

    /// Deliveries due at `now`: per (destination, subject), only the oldest
    /// pending one, and only if it is due (later ones wait their turn, so a
    /// subject's changes arrive in order). Destinations in `skip` (disabled
    /// or busy) are left out. Oldest first, at most `limit`, with the
    /// commit-order number of each.
    fn due_deliveries(
        &self,
        now: Millis,
        skip: &[String],
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError>;

    /// Records attempts (delivery id, outcome), in one transaction.
    fn record_attempts(&self, attempts: &[(String, AttemptOutcome)]) -> Result<(), StoreError>;

    /// Deliveries matching `filter`, newest first, with their commit-order
    /// number (for paging with `before`).
    fn deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError>;

    /// Puts dead deliveries (`ids`, or every one when `None`) back in the
    /// queue, due at `now`, attempts reset. Returns how many.
    fn replay_dead(&self, ids: Option<&[String]>, now: Millis) -> Result<usize, StoreError>;

    /// Pending and dead deliveries per destination: `(destination, pending, dead)`.
    fn outbox_depth(&self) -> Result<Vec<(String, u64, u64)>, StoreError>;

    /// Disables a destination (the receiver answered 410 Gone) with the
    /// reason, or enables it again with `None`.
    fn set_destination_disabled(
        &self,
        destination: &str,
        disabled: Option<(Millis, &str)>,
    ) -> Result<(), StoreError>;

    /// Disabled destinations: `(name, since, reason)`.
    fn disabled_destinations(&self) -> Result<Vec<(String, Millis, String)>, StoreError>;

    /// Current assignments (not ended), and per pool how many round-robin
    /// turns were ever used.
    fn assignments(&self) -> Result<RecordedAssignments, StoreError>;

    /// The latest period each digest was queued for
    /// (`WriteOp::DigestSent`), by name.
    fn digests_sent(&self) -> Result<Vec<DigestSentRecord>, StoreError>;

    // ── Privacy (see `WriteOp::DeleteContact`) ──────────────────────────

    /// Every suppressed identifier, oldest first.
    fn suppressions(&self) -> Result<Vec<Suppression>, StoreError>;

    /// The deletion audit log, newest first, at most `limit`.
    fn deletions(&self, limit: usize) -> Result<Vec<DeletionRecord>, StoreError>;
}
