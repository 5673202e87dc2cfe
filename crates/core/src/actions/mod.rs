//! The action layer: what a membership change triggers. Holdouts decide
//! who is withheld from actions; pools assign owners; the router turns each
//! change into outbox rows (one per subscribed destination) that commit
//! with the change; the server's dispatcher delivers them.
//!
//! Invariant: everything here is a pure function of the change, the
//! configuration and the recorded assignments, so a change recomputed after
//! a crash yields the same rows (same `webhook-id`), stored once.

pub mod config;
pub mod holdout;
pub mod payload;
pub mod pools;
pub mod router;
pub mod schedule;
