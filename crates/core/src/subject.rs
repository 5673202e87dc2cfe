//! Typed references that cross the engine, the store and the server: which
//! subject, and what happened to it in a segment, tier or score. They become
//! text only at the store's codec and at the HTTP/JSON edge.

use std::fmt;
use std::sync::Arc;

pub use bellwether_rules::{DefKind, SubjectKind};

use crate::message::ContactId;

/// Hashes subject keys in the engine's maps: fast, and seeded per process
/// (an account's key is a group id a client chose).
pub type SubjectHasher = foldhash::fast::RandomState;

/// A map keyed by subject, hashed with [`SubjectHasher`].
pub type SubjectMap<V> = std::collections::HashMap<SubjectKey, V, SubjectHasher>;

/// Which subject: a contact (by internal id) or an account (by group id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKey {
    Contact(ContactId),
    Account(Arc<str>),
}

impl SubjectKey {
    /// The key as the store records it: the contact number, or the group id.
    pub fn store_key(&self) -> String {
        match self {
            SubjectKey::Contact(id) => id.to_string(),
            SubjectKey::Account(group_id) => group_id.to_string(),
        }
    }

    pub fn kind(&self) -> SubjectKind {
        match self {
            SubjectKey::Contact(_) => SubjectKind::Contact,
            SubjectKey::Account(_) => SubjectKind::Account,
        }
    }

    /// The key of a subject of `kind` recorded as `key` (see
    /// [`SubjectKey::store_key`]); `None` for a contact key that is not a
    /// contact number.
    pub fn from_store(kind: SubjectKind, key: &str) -> Option<Self> {
        match kind {
            SubjectKind::Contact => key.parse().ok().map(SubjectKey::Contact),
            SubjectKind::Account => Some(SubjectKey::Account(Arc::from(key))),
        }
    }
}

/// What happened to a subject in a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// Entered a segment or a tier level.
    Entered,
    /// Left a segment or a tier level.
    Exited,
    /// Moved from one tier level to another (one delivery for an exit and
    /// an entry made by the same evaluation).
    Changed,
    /// A score rose to or above a watched threshold.
    CrossedAbove,
    /// A score fell below a watched threshold.
    CrossedBelow,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Entered => "entered",
            Transition::Exited => "exited",
            Transition::Changed => "changed",
            Transition::CrossedAbove => "crossed_above",
            Transition::CrossedBelow => "crossed_below",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "entered" => Transition::Entered,
            "exited" => Transition::Exited,
            "changed" => Transition::Changed,
            "crossed_above" => Transition::CrossedAbove,
            "crossed_below" => Transition::CrossedBelow,
            _ => return None,
        })
    }

    /// Entered or exited, as a segment membership or tier level turns on or
    /// off.
    pub fn membership(is_member: bool) -> Self {
        if is_member {
            Transition::Entered
        } else {
            Transition::Exited
        }
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_reads_back_from_its_text() {
        for t in [
            Transition::Entered,
            Transition::Exited,
            Transition::Changed,
            Transition::CrossedAbove,
            Transition::CrossedBelow,
        ] {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).ok(), Some(t.as_str().into()));
        }
        assert_eq!(Transition::parse("Entered"), None);
    }

    #[test]
    fn kinds_read_back_from_their_text() {
        for kind in [SubjectKind::Contact, SubjectKind::Account] {
            assert_eq!(SubjectKind::parse(kind.as_str()), Some(kind));
        }
        for kind in [DefKind::Segment, DefKind::Tier, DefKind::Score] {
            assert_eq!(DefKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SubjectKind::parse("contacts"), None);
    }

    #[test]
    fn a_subject_key_reads_back_from_the_store_form() {
        let contact = SubjectKey::Contact(42);
        assert_eq!(
            SubjectKey::from_store(contact.kind(), &contact.store_key()),
            Some(contact)
        );
        let account = SubjectKey::Account(Arc::from("acme"));
        assert_eq!(
            SubjectKey::from_store(account.kind(), "acme"),
            Some(account)
        );
        assert_eq!(SubjectKey::from_store(SubjectKind::Contact, "acme"), None);
    }
}
