//! `bellwether sql`: the definitions compiled to one SQL statement over
//! `bellwether_events` (SPEC §7 "Scale-out SQL"), printed to stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bellwether_sql::{Dialect, Options, Output, TieOrder};
use clap::Args;

use crate::settings::{load_config, DEFAULT_CONFIG};

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// Configuration file holding the definitions.
    #[arg(long, env = "BELLWETHER_CONFIG", default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// The engine: duckdb, postgres or clickhouse.
    #[arg(long, value_parser = parse_dialect)]
    pub(crate) dialect: Dialect,
    /// The instant, RFC 3339 (default: the engine's current time).
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// Return `kind, id, score, value` instead of memberships.
    #[arg(long, conflicts_with = "tiers")]
    pub(crate) scores: bool,
    /// Return `kind, id, tier, level` instead of memberships.
    #[arg(long)]
    pub(crate) tiers: bool,
    /// `bellwether_events` has a `seq` column (as `bellwether export`
    /// writes): messages of one millisecond are ordered by it, exactly as
    /// the engine orders them. Without it they are ordered by the row's
    /// columns, which may pick another of two tied messages.
    #[arg(long)]
    pub(crate) seq: bool,
}

fn parse_dialect(text: &str) -> Result<Dialect, String> {
    Dialect::parse(text).ok_or_else(|| format!("{text:?} is not duckdb, postgres or clickhouse"))
}

pub(crate) fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(&args.config)?;
    let name = loaded.path.display().to_string();
    let rules = bellwether_rules::RuleSet::from_toml(&name, &loaded.text)
        .map_err(|diagnostics| anyhow::anyhow!("invalid definitions:\n{}", diagnostics.render()))?;
    let at = match &args.at {
        Some(text) => Some(
            bellwether_server::segment::parse_timestamp(text)
                .with_context(|| format!("--at {text:?} is not an RFC 3339 instant"))?,
        ),
        None => None,
    };
    let output = match (args.scores, args.tiers) {
        (true, _) => Output::Scores,
        (_, true) => Output::Tiers,
        _ => Output::Segments,
    };
    let ties = if args.seq {
        TieOrder::SeqColumn
    } else {
        TieOrder::RowContent
    };
    let options = Options {
        dialect: args.dialect,
        at,
        output,
        ties,
    };
    let statement = bellwether_sql::compile(&rules, &options).context("sql")?;
    println!("{statement};");
    Ok(ExitCode::SUCCESS)
}
