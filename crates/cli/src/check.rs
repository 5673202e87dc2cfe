//! `bellwether check FILE`: validate a configuration and definitions file.
//! Prints every error rustc-style (file:line:col, the line, a caret) or as
//! JSON with `--json`; exits 1 when there is any error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::config::Config;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The definitions file to validate.
    pub(crate) file: PathBuf,
    /// Print diagnostics as JSON: `{"ok": bool, "errors": [...]}`.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The first problem of the non-definition tables, including destinations
/// naming segments, tiers or scores that do not exist.
fn config_problem(name: &str, text: &str) -> Option<String> {
    let config = match Config::from_toml(text) {
        Ok(config) => config,
        Err(error) => return Some(format!("{name}: {error}")),
    };
    let rules = bellwether_rules::RuleSet::from_toml(name, text).ok()?;
    let problems =
        bellwether_core::actions::router::reference_problems(&config.destination, &rules);
    problems.first().map(|problem| format!("{name}: {problem}"))
}

pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.display().to_string();
    let diagnostics = bellwether_rules::check_file(&name, &text);
    // Sources, tokens and server settings are validated by the core's config.
    let config_error = if diagnostics.is_empty() {
        config_problem(&name, &text)
    } else {
        None
    };
    let ok = diagnostics.is_empty() && config_error.is_none();
    if args.json {
        let mut report = diagnostics.to_json();
        if let Some(error) = &config_error {
            report["ok"] = serde_json::Value::Bool(false);
            report["config_error"] = serde_json::Value::String(error.clone());
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &config_error {
        println!("error: {error}");
    } else {
        print!("{}", diagnostics.render());
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
