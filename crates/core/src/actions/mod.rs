//! The action layer: what a membership change triggers. Destinations and
//! pools are configured here; holdouts decide who is withheld from actions;
//! pools assign owners; payloads are the bodies sent; the retry schedule
//! says when to try again. The commit pipeline's router
//! (`crate::pipeline::router`) applies them to each change; the server's
//! dispatcher delivers the rows.
//!
//! Invariant: everything here is a pure function of the change, the
//! configuration and the recorded assignments, so a change recomputed after
//! a crash yields the same rows (same `webhook-id`), stored once. Nothing
//! here reads the engine.

pub mod config;
pub mod holdout;
pub mod payload;
pub mod pools;
pub mod schedule;
