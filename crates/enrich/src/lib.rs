//! Enrichment from the customer's own tables (SPEC §7 "Enrichment"):
//! firmographics by domain (`kind = "domains"`, CSV or Parquet) and the
//! company behind a visitor's IP address (`kind = "ip"`, CIDR networks in
//! CSV or a MaxMind DB), plus the answers of an optional HTTP provider
//! (`kind = "http"`), kept here so the identity graph reads one place.
//!
//! **Invariant**: lookups are pure reads of loaded tables; loading is the
//! only IO, and a reload swaps whole tables atomically (a lookup sees the
//! old tables or the new ones, never a mix).

mod config;
mod domain;
mod domains;
mod error;
mod handle;
mod mmdb;
mod networks;
mod table;
mod table_file;

pub use config::{EnrichmentConfig, EnrichmentKind, HttpSettings};
pub use domain::normalize_domain;
pub use domains::DomainTable;
pub use error::EnrichError;
pub use handle::{Answer, AskProvider, Enrichment, TableReport};
pub use mmdb::MmdbTable;
pub use networks::NetworkTable;
pub use table::{IpTable, Reveal, Tables};

/// Trait values of one company, by trait name.
pub type Traits = serde_json::Map<String, serde_json::Value>;
