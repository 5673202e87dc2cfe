//! `bellwether export`: the store's resolved event log as the
//! `bellwether_events` table (SPEC §7) that `bellwether sql` reads, as CSV
//! with a header: `contact_id,account_id,type,event,properties,traits,ts,seq`.
//!
//! `ts` is RFC 3339 UTC with milliseconds; JSON columns are JSON text (`{}`
//! when empty); a missing value is an empty unquoted field and an empty
//! string is `""` (what PostgreSQL's `COPY ... CSV` and DuckDB's
//! `read_csv(..., allow_quoted_nulls = false)` read back exactly).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::export::{export_events, EventRow};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Output file: `.csv`.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// The table's columns, in order.
pub(crate) const HEADER: &str = "contact_id,account_id,type,event,properties,traits,ts,seq";

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let extension = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !extension.eq_ignore_ascii_case("csv") {
        anyhow::bail!(
            "--out {}: the format is chosen by the extension, and only .csv is supported",
            args.out.display()
        );
    }
    let loaded = args.store.load()?;
    let store = args.store.open_store(&loaded.config)?;
    let total = store
        .event_count()
        .context("cannot count the stored events")?;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{HEADER}")?;
    let written = export_events::<anyhow::Error>(
        store.as_ref(),
        |row| write_row(&mut out, row),
        |read| bar.set_position(read),
    )?;
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("{written} rows written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn write_row(out: &mut impl Write, row: &EventRow) -> anyhow::Result<()> {
    let text = |value: &Option<String>| value.as_deref().map_or(String::new(), quote);
    writeln!(
        out,
        "{},{},{},{},{},{},{},{}",
        text(&row.contact_id),
        text(&row.account_id),
        row.kind.as_str(),
        text(&row.event),
        quote(&serde_json::to_string(&row.properties)?),
        quote(&serde_json::to_string(&row.traits)?),
        bellwether_rules::format_time(row.ts),
        row.seq
    )?;
    Ok(())
}

/// Always quoted, so that an empty string differs from a missing value.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}
