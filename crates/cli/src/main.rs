//! The `bellwether` binary. `anyhow` lives here and nowhere else.

// The CLI is the one place that talks to a terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod backtest;
mod check;
mod dead_letters;
mod delete;
mod demo;
mod eval;
mod explain;
mod export;
mod gen;
mod import;
mod mcp;
mod progress;
mod report;
mod serve;
mod settings;
mod sql;
mod subjects;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bellwether",
    version,
    about = "Real-time behavioral segmentation and lead/account scoring"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: ingestion, API, metrics.
    Serve(serve::ServeArgs),
    /// Generate a demo data set, load it and serve it.
    Demo(demo::DemoArgs),
    /// Load an NDJSON file of Segment messages (`-` for stdin).
    Import(import::ImportArgs),
    /// Validate a definitions file.
    Check(check::CheckArgs),
    /// Write every membership as of an instant as CSV.
    Eval(eval::EvalArgs),
    /// Why a contact or account is in or out of a segment (as of an instant).
    Explain(explain::ExplainArgs),
    /// Write realistic synthetic B2B data (Segment NDJSON), seeded.
    Gen(gen::GenArgs),
    /// List webhook deliveries that ran out of attempts, or replay them.
    DeadLetters(dead_letters::DeadLetterArgs),
    /// Delete a contact and suppress its ids (GDPR), with no server running.
    Delete(delete::DeleteArgs),
    /// Serve the Model Context Protocol on stdin/stdout for a local agent.
    Mcp(mcp::McpArgs),
    /// Measure: conversion, holdout lift, score quality, overlap, lint.
    Report(report::ReportArgs),
    /// Evaluate a saved or draft segment as of past instants.
    Backtest(backtest::BacktestArgs),
    /// Write the resolved event log (`bellwether_events`) as CSV.
    Export(export::ExportArgs),
    /// Print the definitions as one SQL statement over `bellwether_events`
    /// (DuckDB, PostgreSQL or ClickHouse) returning the rows `eval` writes.
    Sql(sql::SqlArgs),
}

fn main() -> ExitCode {
    allocator::configure();
    init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Import(args) => import::run(args),
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Gen(args) => gen::run(args),
        Command::DeadLetters(args) => dead_letters::run(args),
        Command::Delete(args) => delete::run(args),
        Command::Report(args) => report::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Export(args) => export::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("BELLWETHER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
