//! `bellwether eval`: every membership as of an instant, from the stored
//! events, as CSV (`kind,id,segment`). The reference the live engine is
//! checked against, and what the benchmarks time.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::engine::Engine;
use clap::Args;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The instant, RFC 3339 (e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    pub(crate) at: String,
    /// Output CSV file.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

pub(crate) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let at = bellwether_server::segment::parse_timestamp(&args.at)
        .with_context(|| format!("--at {:?} is not an RFC 3339 instant", args.at))?;
    let loaded = args.store.load()?;
    let definitions = args.store.definitions(&loaded)?;
    let store = args.store.open_store(&loaded.config)?;
    let started = std::time::Instant::now();
    let engine = Engine::load(store.as_ref(), Arc::new(definitions), at)
        .context("cannot load the stored events")?;
    let loaded_in = started.elapsed();
    let memberships = engine.evaluate_all(at);
    let evaluated_in = started.elapsed() - loaded_in;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "kind,id,segment")?;
    for membership in &memberships {
        writeln!(
            out,
            "{},{},{}",
            membership.kind,
            csv_field(&membership.id),
            csv_field(&membership.segment)
        )?;
    }
    out.flush()?;
    eprintln!(
        "{} memberships as of {} written to {} (load {:.0} ms, evaluate {:.0} ms)",
        memberships.len(),
        args.at,
        args.out.display(),
        loaded_in.as_secs_f64() * 1000.0,
        evaluated_in.as_secs_f64() * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
