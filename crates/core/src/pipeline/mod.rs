//! The commit pipeline, above the engine and the action layer: each
//! committed write is applied to the engine (`runner`: the shared handle,
//! the commit listener and the timer thread), the changes it makes are
//! routed to owner assignments and outbox rows (`router`; `owners`: who
//! owns whom now, kept compact), and all of it is
//! written in one transaction with a checkpoint, off the engine's path
//! (`recorder`). Readers never come here for data: they read the engine's
//! published `View`.
//!
//! Dependencies point down: pipeline → engine, pipeline → actions; neither
//! of those knows the pipeline.

mod owners;
mod recorder;
pub mod router;
mod runner;

pub use router::{delivery_id, ActionRouter};
pub use runner::{EngineGuard, EngineHandle, EngineListener};
