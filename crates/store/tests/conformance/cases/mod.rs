//! The cases, one function per behavior, each taking a fresh backend.

pub(crate) mod accounts;
pub(crate) mod durability;
pub(crate) mod enrichment;
pub(crate) mod events;
pub(crate) mod identity;
pub(crate) mod memberships;
pub(crate) mod merges;
pub(crate) mod outbox;
pub(crate) mod privacy;
pub(crate) mod rehome;
pub(crate) mod scores;
pub(crate) mod traits;
