//! End-to-end tests: the real `bellwether` binary, real HTTP, real stores,
//! real SDK clients. One test binary, so it links once.

mod harness;

mod api;
mod bad_input;
mod bench;
mod check;
mod connections;
mod deletion;
mod digests;
mod durability;
mod enrichment;
mod explain;
mod gen;
mod identity;
mod import;
mod mcp;
mod one_writer;
mod posthog;
mod privacy;
mod properties;
mod reports;
mod retention;
mod scores;
mod sdk;
mod segments;
mod shared_identity;
mod snapshot;
mod sql;
mod sql_random;
mod sql_warehouse;
mod text_limits;
mod trends;
mod ui;
mod web_hardening;
mod webhooks;
mod website;
