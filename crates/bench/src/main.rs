//! `bellwether-bench`: measures Bellwether beside a peer doing the same work
//! in the same run, and prints a Markdown table for BENCHMARKS.md.
//!
//! `ingest`: events/s through `/v1/batch` with durable acknowledgements
//! (several concurrent clients) vs the same events `COPY`ed into an indexed
//! PostgreSQL table. `timers`: lag of time-driven transitions. `latency`: one
//! event to its updated membership on 100k contacts. `webhooks`: event to
//! received webhook vs a PostgreSQL transactional outbox. `heavy`: one
//! contact's per-event cost as its history grows, in order and late.
//! `directory`: contact search and score order vs indexed PostgreSQL, and
//! the members CSV's memory. `personalize`: the website's visitor lookup
//! vs a PostgreSQL primary-key read of the same answer. `enrichment`:
//! ingest with 100k domains and 1M networks loaded vs without, and the
//! lookups vs PostgreSQL (primary key, GiST `inet`). `reads`: ack latency
//! while two clients loop on reports, vs PostgreSQL with readers.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod directory;
mod enrichment;
mod heavy;
mod ingest;
mod latency;
mod personalize;
mod reads;
mod stats;
mod timers;
mod webhooks;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bellwether-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Durable ingest throughput vs PostgreSQL COPY.
    Ingest(ingest::IngestArgs),
    /// Ingest with enrichment tables (100k domains, 1M networks) vs
    /// without, and the lookups vs PostgreSQL.
    Enrichment(enrichment::EnrichmentArgs),
    /// Contact search and score order on 100k contacts vs an indexed
    /// PostgreSQL table; members.csv of 100k members and its memory.
    Directory(directory::DirectoryArgs),
    /// Lag of time-driven transitions with many pending timers vs a
    /// PostgreSQL rescan; engine memory per contact and per event.
    Timers(timers::TimersArgs),
    /// One new event to its updated membership on a loaded server vs a
    /// durable insert and per-contact SQL in PostgreSQL.
    Latency(latency::LatencyArgs),
    /// `GET /v1/personalize` on 100k visitors vs a PostgreSQL
    /// primary-key lookup of the same answers.
    Personalize(personalize::PersonalizeArgs),
    /// One heavy contact: per-event cost as its history grows to 200k
    /// events, in order and late, vs PostgreSQL insert + recompute.
    Heavy(heavy::HeavyArgs),
    /// Event to received webhook at a fixed event rate vs a PostgreSQL
    /// transactional outbox with a LISTEN worker.
    Webhooks(webhooks::WebhookArgs),
    /// `/v1/track` ack latency idle and while two clients loop on a
    /// backtest and a conversion report, vs PostgreSQL with readers.
    Reads(reads::ReadsArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Enrichment(args) => enrichment::run(&args),
        Command::Directory(args) => directory::run(&args),
        Command::Timers(args) => timers::run(&args),
        Command::Latency(args) => latency::run(&args),
        Command::Webhooks(args) => webhooks::run(&args),
        Command::Heavy(args) => heavy::run(&args),
        Command::Personalize(args) => personalize::run(&args),
        Command::Reads(args) => reads::run(&args),
    }
}
