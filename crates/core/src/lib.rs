//! Bellwether's domain layer.
//!
//! Architecture invariant: no HTTP or wire-format types here, no wall clock
//! reads outside [`clock::SystemClock`]. Everything that decides *what* is
//! stored (identity resolution, deduplication, trait history) lives here;
//! *how* it is stored is behind the [`store::Store`] trait.

pub mod actions;
pub mod clock;
pub mod config;
pub mod digest;
pub mod engine;
pub mod event_pages;
pub mod export;
pub mod identity;
pub mod ingest;
pub mod message;
mod names;
pub mod pipeline;
pub mod progress;
pub mod reports;
pub mod snapshot;
pub mod store;
pub mod subject;
pub mod whole_store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use message::{Message, MessageKind, Millis};
pub use store::{Store, StoreError};
