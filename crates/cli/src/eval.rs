//! `bellwether eval`: every membership as of an instant, from the stored
//! events, as CSV (`kind,id,segment`); optionally every score
//! (`kind,id,score,value`) and tier level (`kind,id,tier,level`). The
//! reference the live engine is checked against, and what the benchmarks
//! time and compare with SQL peers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::engine::{Engine, SubjectValues};
use clap::Args;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The instant, RFC 3339 (e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    pub(crate) at: String,
    /// Output CSV file of memberships (`kind,id,segment`).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Also write every score value at the instant (`kind,id,score,value`).
    #[arg(long)]
    pub(crate) scores: Option<PathBuf>,
    /// Also write every tier level at the instant (`kind,id,tier,level`).
    #[arg(long)]
    pub(crate) tiers: Option<PathBuf>,
}

pub(crate) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let at = bellwether_server::segment::parse_timestamp(&args.at)
        .with_context(|| format!("--at {:?} is not an RFC 3339 instant", args.at))?;
    let loaded = args.store.load()?;
    let definitions = args.store.definitions(&loaded)?;
    let store = args.store.open_store(&loaded.config)?;
    let started = std::time::Instant::now();
    let start = crate::subjects::start(
        store.as_ref(),
        &args.store.data_dir(&loaded.config),
        &loaded.config.identity,
        definitions.property_keys(),
        crate::subjects::Reads::Nothing,
    )?;
    let engine = Engine::with_subjects(Arc::new(definitions), start.subjects);
    let loaded_in = started.elapsed();
    let subjects = engine.evaluate_values(at);
    let evaluated_in = started.elapsed() - loaded_in;
    let memberships = write_memberships(&args.out, &subjects)?;
    if let Some(path) = &args.scores {
        write_rows(path, "kind,id,score,value", &subjects, |s| {
            s.values
                .scores()
                .map(|(name, form)| (name.to_string(), form.at(at).to_string()))
                .collect()
        })?;
    }
    if let Some(path) = &args.tiers {
        write_rows(path, "kind,id,tier,level", &subjects, |s| {
            s.values
                .tiers()
                .map(|(name, level)| (name.to_string(), level.to_string()))
                .collect()
        })?;
    }
    eprintln!(
        "{memberships} memberships as of {} written to {} (load {:.1} ms, evaluate {:.1} ms)",
        args.at,
        args.out.display(),
        loaded_in.as_secs_f64() * 1000.0,
        evaluated_in.as_secs_f64() * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the segment memberships, sorted; returns how many.
fn write_memberships(path: &Path, subjects: &[SubjectValues]) -> anyhow::Result<usize> {
    let mut rows: Vec<(&str, &str, &str)> = subjects
        .iter()
        .flat_map(|s| {
            s.values
                .segments()
                .filter(|(_, member)| *member)
                .map(|(segment, _)| (s.kind.as_str(), s.id.as_str(), &**segment))
        })
        .collect();
    rows.sort_unstable();
    let mut out = create(path)?;
    writeln!(out, "kind,id,segment")?;
    for (kind, id, segment) in &rows {
        writeln!(out, "{kind},{},{}", csv_field(id), csv_field(segment))?;
    }
    out.flush()?;
    Ok(rows.len())
}

/// Writes `header` and one `kind,id,name,value` row per pair `pairs` gives, sorted.
fn write_rows(
    path: &Path,
    header: &str,
    subjects: &[SubjectValues],
    pairs: impl Fn(&SubjectValues) -> Vec<(String, String)>,
) -> anyhow::Result<()> {
    let mut rows: Vec<(&str, &str, String, String)> = subjects
        .iter()
        .flat_map(|s| {
            pairs(s)
                .into_iter()
                .map(move |(name, value)| (s.kind.as_str(), s.id.as_str(), name, value))
        })
        .collect();
    rows.sort_unstable();
    let mut out = create(path)?;
    writeln!(out, "{header}")?;
    for (kind, id, name, value) in &rows {
        writeln!(
            out,
            "{kind},{},{},{}",
            csv_field(id),
            csv_field(name),
            csv_field(value)
        )?;
    }
    out.flush()?;
    Ok(())
}

fn create(path: &Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(std::io::BufWriter::new(file))
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
