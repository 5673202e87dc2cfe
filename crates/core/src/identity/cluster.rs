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

use super::sorted_chunks::SortedChunks;
use crate::message::{ContactId, Millis};
use crate::store::IdKind;

pub(super) type ClusterId = u64;

/// A user's claim on a cluster, ordered by time, then by a hash of the
/// message's `(source, messageId)`, then by user id (ties never depend on
/// arrival).
///
/// SDKs send the anonymous id with every call, so an identified user's
/// every message claims its browser's cluster: a claim is kept in two
/// words (its time, the tie, the claimant's place in
/// [`Cluster::claimants`]), with no allocation of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Claim {
    pub(super) at: Millis,
    pub(super) tie: u32,
    /// Index into the cluster's `claimants`.
    claimant: u32,
}

const _: () = assert!(std::mem::size_of::<Claim>() == 16);

/// FNV-1a of a message's `(source, messageId)`, folded to 32 bits: a
/// stable tie-break (claims equal in time and tie are ordered by user id).
pub(super) fn tie_of(source: &str, message_id: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in source.bytes().chain([0]).chain(message_id.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
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
    /// Sorted; may hold one user several times. Chunked: a user's every
    /// message may claim, and late ones land inside.
    pub(super) claims: SortedChunks<Claim>,
    /// Its anonymous contact while nobody claimed it.
    pub(super) home: Option<ContactId>,
    /// Sorted by `(at, seq)`; chunked like `claims`.
    pub(super) events: SortedChunks<ClusterEvent>,
    /// The distinct users of `claims` (few), in the order they first
    /// claimed it: who else claimed it is asked on every claim.
    pub(super) claimants: Vec<Arc<str>>,
    /// Another cluster was folded in since the last full settle.
    pub(super) united: bool,
}

// Held inline in the graph's table of clusters, about two per contact.
const _: () = assert!(std::mem::size_of::<Cluster>() == 120);

/// Where a new claim landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Added {
    /// It is the cluster's first claim.
    pub(super) first: bool,
    /// The time of the claim after it, if any.
    pub(super) next_at: Option<Millis>,
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
    /// Adds `user`'s claim at `(at, tie)` in order; `None` if it was
    /// already there.
    pub(super) fn add_claim(&mut self, at: Millis, tie: u32, user: &str) -> Option<Added> {
        let cursor = self
            .claims
            .search(|claim| self.order(claim, at, tie, user))
            .err()?;
        let claimant = self.claimant(user);
        let cursor = self.claims.insert(cursor, Claim { at, tie, claimant });
        Some(Added {
            first: self.claims.is_start(cursor),
            next_at: self.claims.after(cursor).map(|next| next.at),
        })
    }

    /// `user`'s index in `claimants`, added when new.
    fn claimant(&mut self, user: &str) -> u32 {
        let index = match self.claimants.iter().position(|known| **known == *user) {
            Some(index) => index,
            None => {
                self.claimants.push(Arc::from(user));
                self.claimants.len() - 1
            }
        };
        // A cluster has far fewer than 2^32 distinct claimants.
        index as u32
    }

    /// How `claim` compares with a claim by `user` at `(at, tie)`.
    fn order(&self, claim: &Claim, at: Millis, tie: u32, user: &str) -> std::cmp::Ordering {
        (claim.at, claim.tie)
            .cmp(&(at, tie))
            .then_with(|| self.user_of(claim).map(|u| &**u).cmp(&Some(user)))
    }

    /// The user who made `claim`.
    pub(super) fn user_of(&self, claim: &Claim) -> Option<&Arc<str>> {
        self.claimants.get(claim.claimant as usize)
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
        let claim = self.claims.before(after).or(self.claims.first())?;
        self.user_of(claim)
    }

    /// The user holding it from now on (latest claim).
    pub(super) fn current_holder(&self) -> Option<&Arc<str>> {
        self.user_of(self.claims.last()?)
    }

    /// Folds `other` into `self` (a user-less message tied the two).
    pub(super) fn absorb(&mut self, other: Cluster) {
        let claimants: Vec<u32> = other
            .claimants
            .iter()
            .map(|user| self.claimant(user))
            .collect();
        let mut claims = std::mem::take(&mut self.claims).into_vec();
        claims.extend(other.claims.iter().filter_map(|claim| {
            let claimant = *claimants.get(claim.claimant as usize)?;
            Some(Claim { claimant, ..*claim })
        }));
        let names = &self.claimants;
        let name = |claim: &Claim| names.get(claim.claimant as usize);
        claims.sort_by(|a, b| {
            (a.at, a.tie)
                .cmp(&(b.at, b.tie))
                .then_with(|| name(a).cmp(&name(b)))
        });
        claims.dedup();
        self.claims = SortedChunks::from_sorted(claims);
        self.ids.extend(other.ids);
        let mut events = std::mem::take(&mut self.events).into_vec();
        events.extend(other.events.into_vec());
        events.sort_by_key(|e| (e.at, e.seq));
        self.events = SortedChunks::from_sorted(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(first: bool, next_at: Option<Millis>) -> Option<Added> {
        Some(Added { first, next_at })
    }

    fn claim(cluster: &mut Cluster, at: Millis, user: &str) -> Option<Added> {
        cluster.add_claim(at, tie_of("web", &format!("{user}-{at}")), user)
    }

    #[test]
    fn holder_is_the_latest_claim_and_the_first_before_any() {
        let mut cluster = Cluster::default();
        assert_eq!(cluster.holder_at(5), None);
        assert_eq!(claim(&mut cluster, 20, "bob"), added(true, None));
        assert_eq!(claim(&mut cluster, 10, "alice"), added(true, Some(20)));
        assert_eq!(claim(&mut cluster, 10, "alice"), None);
        assert_eq!(claim(&mut cluster, 30, "alice"), added(false, None));
        assert_eq!(cluster.holder_at(1).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(10).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(19).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.holder_at(20).map(|u| &**u), Some("bob"));
        assert_eq!(cluster.holder_at(30).map(|u| &**u), Some("alice"));
        assert_eq!(cluster.current_holder().map(|u| &**u), Some("alice"));
        assert_eq!(cluster.claimants.len(), 2);
    }

    #[test]
    fn claims_at_one_instant_with_one_tie_are_ordered_by_user() {
        let mut cluster = Cluster::default();
        assert_eq!(cluster.add_claim(10, 7, "carol"), added(true, None));
        assert_eq!(cluster.add_claim(10, 7, "alice"), added(true, Some(10)));
        assert_eq!(cluster.add_claim(10, 7, "bob"), added(false, Some(10)));
        assert_eq!(cluster.add_claim(10, 7, "bob"), None);
        let users: Vec<&str> = cluster
            .claims
            .iter()
            .filter_map(|claim| cluster.user_of(claim).map(|u| &**u))
            .collect();
        assert_eq!(users, ["alice", "bob", "carol"]);
    }

    #[test]
    fn absorbing_a_cluster_merges_its_claims_in_order_without_duplicates() {
        let mut kept = Cluster::default();
        claim(&mut kept, 10, "alice");
        claim(&mut kept, 30, "alice");
        let mut other = Cluster::default();
        claim(&mut other, 20, "bob");
        claim(&mut other, 30, "alice");
        kept.absorb(other);
        let claims: Vec<(Millis, &str)> = kept
            .claims
            .iter()
            .filter_map(|claim| kept.user_of(claim).map(|u| (claim.at, &**u)))
            .collect();
        assert_eq!(claims, [(10, "alice"), (20, "bob"), (30, "alice")]);
        assert_eq!(kept.holder_at(25).map(|u| &**u), Some("bob"));
    }
}
