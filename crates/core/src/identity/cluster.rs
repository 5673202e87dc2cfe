//! Shared identifiers: anonymous ids and emails, the claims users made on
//! them, and who holds them at each instant.
//!
//! A *cluster* is a set of anonymous ids and emails that user-less messages
//! tied together (an `identify` with an anonymous id and an email, no user
//! id). A message carrying a user id and such an identifier *claims* the
//! identifier's cluster for that user from the message's timestamp on. The
//! cluster's user-less messages belong, each at its own time, to the user of
//! the latest claim at or before it, and to the first claimant before any
//! claim. A cluster nobody claimed is its own anonymous contact (`home`).
//!
//! Every choice here is a function of the claims' `(timestamp, source,
//! message id)` order, never of arrival order.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::message::{ContactId, Millis};
use crate::store::IdKind;

pub(super) type ClusterId = u64;

/// A user's claim on a cluster, ordered by time, then by a hash of the
/// message's `(source, messageId)` (ties never depend on arrival).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(super) struct Claim {
    pub(super) at: Millis,
    pub(super) tie: u64,
    pub(super) user: Arc<str>,
}

/// FNV-1a of a message's `(source, messageId)`: a stable tie-break.
pub(super) fn tie_of(source: &str, message_id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in source.bytes().chain([0]).chain(message_id.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A user-less message resolved through a cluster.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct ClusterEvent {
    pub(super) at: Millis,
    pub(super) seq: i64,
    /// Where the store has it now.
    pub(super) contact: ContactId,
    /// The contact traits it set (identify), moved with it.
    pub(super) traits: Option<Arc<Map<String, Value>>>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Cluster {
    /// Its identifiers, each with the contact the store points it at and
    /// when it was first seen.
    pub(super) ids: Vec<Member>,
    /// Sorted; may hold one user several times.
    pub(super) claims: Vec<Claim>,
    /// Its anonymous contact while nobody claimed it.
    pub(super) home: Option<ContactId>,
    /// Sorted by `(at, seq)`.
    pub(super) events: Vec<ClusterEvent>,
    /// The distinct users of `claims` (few): who else claimed it is asked
    /// on every claim.
    pub(super) claimants: Vec<Arc<str>>,
    /// Another cluster was folded in since the last full settle.
    pub(super) united: bool,
}

/// One identifier of a cluster.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Member {
    pub(super) kind: IdKind,
    pub(super) value: String,
    pub(super) pointer: Option<ContactId>,
    pub(super) first_seen: Millis,
}

impl Cluster {
    /// Adds a claim in order; its position, or `None` if it was already
    /// there.
    pub(super) fn add_claim(&mut self, claim: Claim) -> Option<usize> {
        match self.claims.binary_search(&claim) {
            Ok(_) => None,
            Err(at) => {
                if !self.claimants.contains(&claim.user) {
                    self.claimants.push(claim.user.clone());
                }
                self.claims.insert(at, claim);
                Some(at)
            }
        }
    }

    /// Adds a user-less message in `(at, seq)` order.
    pub(super) fn insert_event(&mut self, event: ClusterEvent) {
        let key = (event.at, event.seq);
        let at = self.events.partition_point(|e| (e.at, e.seq) <= key);
        self.events.insert(at, event);
    }

    /// The user holding the cluster at `at`: the latest claim at or before
    /// it, else the first claim.
    pub(super) fn holder_at(&self, at: Millis) -> Option<&Arc<str>> {
        let after = self.claims.partition_point(|claim| claim.at <= at);
        let index = after.saturating_sub(1);
        self.claims.get(index).map(|claim| &claim.user)
    }

    /// The user holding it from now on (latest claim).
    pub(super) fn current_holder(&self) -> Option<&Arc<str>> {
        self.claims.last().map(|claim| &claim.user)
    }

    /// Folds `other` into `self` (a user-less message tied the two).
    pub(super) fn absorb(&mut self, other: Cluster) {
        self.ids.extend(other.ids);
        for claim in other.claims {
            self.add_claim(claim);
        }
        self.events.extend(other.events);
        self.events.sort_by_key(|e| (e.at, e.seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(at: Millis, user: &str) -> Claim {
        Claim {
            at,
            tie: tie_of("web", &format!("{user}-{at}")),
            user: Arc::from(user),
        }
    }

    #[test]
    fn holder_is_the_latest_claim_and_the_first_before_any() {
        let mut cluster = Cluster::default();
        assert_eq!(cluster.holder_at(5), None);
        cluster.add_claim(claim(20, "bob"));
        cluster.add_claim(claim(10, "alice"));
        assert_eq!(cluster.add_claim(claim(10, "alice")), None);
        assert_eq!(cluster.holder_at(1).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(10).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(19).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(20).map(|u| &**u), Some("bob"));
        assert_eq!(cluster.current_holder().map(|u| &**u), Some("bob"));
    }
}
