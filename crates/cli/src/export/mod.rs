//! `bellwether export`: the store's resolved event log as the
//! `bellwether_events` table (SPEC §7) that `bellwether sql` reads, as CSV
//! or Parquet (chosen by the extension of `--out`), with a progress bar.
//!
//! Columns: `contact_id, account_id, type, event, properties, traits, ts,
//! seq`; `ts` is UTC with milliseconds, JSON columns are JSON text (`{}`
//! when empty). What each row holds: `bellwether_core::export`.

mod csv;
mod parquet;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::export::{export_events, EventRow};
use clap::Args;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Output file: `.csv` or `.parquet`.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// Where rows go.
trait Sink {
    fn write(&mut self, row: &EventRow) -> anyhow::Result<()>;
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

fn sink(path: &Path) -> anyhow::Result<Box<dyn Sink>> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let file =
        || std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()));
    match extension.as_str() {
        "csv" => Ok(Box::new(csv::CsvSink::new(file()?)?)),
        "parquet" => Ok(Box::new(parquet::ParquetSink::new(file()?)?)),
        _ => anyhow::bail!(
            "--out {}: the format follows the extension, .csv or .parquet",
            path.display()
        ),
    }
}

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let mut out = sink(&args.out)?;
    let loaded = args.store.load()?;
    let store = args.store.open_store(&loaded.config)?;
    let total = store
        .event_count()
        .context("cannot count the stored events")?;
    let bar = crate::progress::bar(
        total,
        "{bar:40} {pos}/{len} messages ({per_sec}, {eta} left)",
    );
    let written = export_events::<anyhow::Error>(
        store.as_ref(),
        |row| out.write(row),
        |read| bar.set_position(read),
    )?;
    out.finish()?;
    bar.finish_and_clear();
    eprintln!("{written} rows written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
