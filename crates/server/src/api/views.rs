//! JSON shapes of the query API (SPEC section 5; fields may be added, never
//! renamed).

use std::collections::BTreeMap;

use bellwether_core::engine::Values;
use bellwether_core::message::StoredEvent;
use bellwether_core::store::{AccountRecord, ContactRecord, MergeRecord};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::segment::format_timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContactView {
    /// The primary user id (earliest seen); `null` for an anonymous contact.
    pub(crate) user_id: Option<String>,
    /// Every user id merged into this contact, primary first.
    pub(crate) user_ids: Vec<String>,
    pub(crate) anonymous_ids: Vec<String>,
    pub(crate) emails: Vec<String>,
    #[schema(value_type = Object)]
    pub(crate) traits: Map<String, Value>,
    pub(crate) account_id: Option<String>,
    /// How the contact joined its account: `group`, `email_domain`, or
    /// `ip` (revealed by its IP address through `[[enrichment]] kind = "ip"`).
    pub(crate) account_link: Option<&'static str>,
    /// For `account_link = "ip"`: the network that matched.
    pub(crate) revealed_by: Option<String>,
    pub(crate) scores: BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: BTreeMap<String, String>,
    /// Segment → owner assigned when the contact entered it.
    pub(crate) owners: BTreeMap<String, String>,
    pub(crate) created_at: String,
    /// Identity merges that folded other contacts into this one.
    pub(crate) merges: Vec<MergeView>,
    /// Anonymous ids and emails this contact shared with other users
    /// (SPEC §7): who held each from when.
    pub(crate) identity_conflicts: Vec<super::identity::ConflictView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeView {
    pub(crate) at: String,
    /// `identify`, `alias` or `email`.
    pub(crate) reason: &'static str,
    /// The message that caused it.
    pub(crate) message_id: String,
}

/// Scores (rounded to 2 decimals), memberships and tier levels of a subject.
pub(crate) struct Computed {
    pub(crate) scores: BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: BTreeMap<String, String>,
    /// Segment → the owner assigned when the subject entered it.
    pub(crate) owners: BTreeMap<String, String>,
}

impl Computed {
    pub(crate) fn from_values(values: Option<&Values>, now: i64) -> Self {
        let Some(values) = values else {
            return Self {
                scores: BTreeMap::new(),
                segments: Vec::new(),
                tiers: BTreeMap::new(),
                owners: BTreeMap::new(),
            };
        };
        let mut segments: Vec<String> = values
            .segments()
            .filter(|(_, member)| *member)
            .map(|(name, _)| name.to_string())
            .collect();
        segments.sort();
        Self {
            scores: values
                .scores()
                .map(|(name, score)| (name.to_string(), (score.at(now) * 100.0).round() / 100.0))
                .collect(),
            segments,
            tiers: values
                .tiers()
                .map(|(name, level)| (name.to_string(), level.to_string()))
                .collect(),
            owners: BTreeMap::new(),
        }
    }

    /// With the subject's current owners.
    pub(crate) fn with_owners(mut self, owners: BTreeMap<String, String>) -> Self {
        self.owners = owners;
        self
    }
}

impl ContactView {
    pub(crate) fn from_record(
        record: ContactRecord,
        merges: Vec<MergeRecord>,
        computed: Computed,
    ) -> Self {
        Self {
            user_id: record.user_ids.first().cloned(),
            user_ids: record.user_ids,
            anonymous_ids: record.anonymous_ids,
            emails: record.emails,
            traits: record.traits,
            account_id: record.account_id,
            account_link: record.account_link.map(|link| link.as_str()),
            revealed_by: record.revealed_by,
            scores: computed.scores,
            segments: computed.segments,
            tiers: computed.tiers,
            owners: computed.owners,
            created_at: format_timestamp(record.created_at),
            merges: merges
                .into_iter()
                .map(|m| MergeView {
                    at: format_timestamp(m.at),
                    reason: m.reason.as_str(),
                    message_id: m.message_id,
                })
                .collect(),
            identity_conflicts: Vec::new(),
        }
    }
}

/// A contact as listed inside an account.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountContactView {
    pub(crate) user_id: Option<String>,
    pub(crate) anonymous_ids: Vec<String>,
    pub(crate) email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountView {
    pub(crate) group_id: String,
    #[schema(value_type = Object)]
    pub(crate) traits: Map<String, Value>,
    pub(crate) scores: BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: BTreeMap<String, String>,
    /// Segment → owner assigned when the account entered it.
    pub(crate) owners: BTreeMap<String, String>,
    pub(crate) contacts: Vec<AccountContactView>,
    pub(crate) created_at: String,
}

impl AccountView {
    pub(crate) fn from_record(
        record: AccountRecord,
        contacts: Vec<ContactRecord>,
        computed: Computed,
    ) -> Self {
        Self {
            group_id: record.group_id,
            traits: record.traits,
            scores: computed.scores,
            segments: computed.segments,
            tiers: computed.tiers,
            owners: computed.owners,
            contacts: contacts
                .into_iter()
                .map(|c| AccountContactView {
                    user_id: c.user_ids.first().cloned(),
                    anonymous_ids: c.anonymous_ids,
                    email: c.emails.first().cloned(),
                })
                .collect(),
            created_at: format_timestamp(record.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventView {
    pub(crate) message_id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Track event name, or page/screen name.
    pub(crate) event: Option<String>,
    pub(crate) timestamp: String,
    pub(crate) received_at: String,
    #[schema(value_type = Object)]
    pub(crate) properties: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub(crate) traits: Map<String, Value>,
}

impl EventView {
    pub(crate) fn from_stored(event: StoredEvent) -> Self {
        let message = event.message;
        Self {
            message_id: message.message_id,
            kind: message.kind.as_str().to_owned(),
            event: message.event,
            timestamp: format_timestamp(message.timestamp),
            received_at: format_timestamp(message.received_at),
            properties: message.properties,
            traits: message.traits,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventPage {
    pub(crate) events: Vec<EventView>,
    /// Pass as `cursor` to get the next (older) page; `null` at the end.
    pub(crate) next_cursor: Option<String>,
}
