//! End-to-end tests: the real `bellwether` binary, real HTTP, real stores,
//! real SDK clients. One test binary, so it links once.

mod harness;

mod api;
mod bad_input;
mod bench;
mod check;
mod durability;
mod gen;
mod identity;
mod import;
mod mcp;
mod reports;
mod scores;
mod sdk;
mod segments;
mod shared_identity;
mod trends;
mod ui;
mod webhooks;
