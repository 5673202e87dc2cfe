//! `bellwether check FILE`: validate a configuration and definitions file.
//! Prints every error rustc-style (file:line:col, the line, a caret) or as
//! JSON with `--json`; exits 1 when there is any error. Definitions that
//! read further back than `[retention] events` keeps are warned about
//! (exit 0), and so are segments a subject with no events at all is in (a
//! new lead entering a win-back play at once). With `--lint`, the
//! file's segments are also linted against the stored data (`--data`): too
//! small, near-duplicates, no owner/action, unknown events, never changed;
//! any finding exits 1 too.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bellwether_core::config::Config;
use bellwether_rules::Reach;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The definitions file to validate.
    pub(crate) file: PathBuf,
    /// Print diagnostics as JSON: `{"ok": bool, "errors": [...]}`.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also lint the segments against the stored data.
    #[arg(long)]
    pub(crate) lint: bool,
    /// Data directory to lint against.
    #[arg(long, env = "BELLWETHER_DATA")]
    pub(crate) data: Option<PathBuf>,
    /// `postgres://…` to lint against PostgreSQL.
    #[arg(long, env = "BELLWETHER_DATABASE")]
    pub(crate) database: Option<String>,
    /// Lint: fewer members than this is too small to act on.
    #[arg(long, default_value_t = bellwether_core::reports::DEFAULT_MIN_SIZE)]
    pub(crate) min_size: u64,
    /// Lint: Jaccard overlap above which two segments are near-duplicates.
    #[arg(long, default_value_t = bellwether_core::reports::DEFAULT_MAX_OVERLAP)]
    pub(crate) max_overlap: f64,
}

/// The first problem of the non-definition tables, including destinations
/// naming segments, tiers or scores that do not exist.
fn config_problem(name: &str, text: &str) -> Option<String> {
    let config = match Config::from_toml(text) {
        Ok(config) => config,
        Err(error) => return Some(format!("{name}: {error}")),
    };
    let rules = bellwether_rules::RuleSet::from_toml(name, text).ok()?;
    let mut problems =
        bellwether_core::actions::config::reference_problems(&config.destination, &rules);
    problems.extend(bellwether_core::digest::reference_problems(
        &config.digest,
        &rules,
    ));
    problems.extend(config.reports.reference_problems(&rules));
    problems.first().map(|problem| format!("{name}: {problem}"))
}

/// Definitions that read further back than `[retention] events` keeps:
/// warnings, not errors (the definition still works on what is kept).
fn retention_warnings(name: &str, text: &str) -> Vec<String> {
    let (Ok(config), Ok(rules)) = (
        Config::from_toml(text),
        bellwether_rules::RuleSet::from_toml(name, text),
    ) else {
        return Vec::new();
    };
    let Some(keep) = config.retention.events_ms() else {
        return Vec::new();
    };
    let kept = bellwether_rules::format_duration(keep);
    rules
        .history_reach()
        .into_iter()
        .filter_map(|found| {
            let what = format!("{} `{}`", found.kind.as_str(), found.name);
            match found.reach {
                Reach::Window(length) if length > keep => Some(format!(
                    "{what} reads {} back, longer than [retention] events = {kept}: \
                     events older than {kept} are deleted, so it sees only the last {kept}",
                    bellwether_rules::format_duration(length)
                )),
                Reach::AllHistory => Some(format!(
                    "{what} reads all history, but [retention] events = {kept} deletes \
                     older events: it sees only the last {kept}"
                )),
                Reach::Window(_) => None,
            }
        })
        .collect()
}

/// Segments a brand-new contact or account (traits, no behavior) is in at
/// once: warnings, not errors (`not exists("Demo Requested")` may be meant).
fn activity_warnings(name: &str, text: &str) -> Vec<String> {
    let Ok(rules) = bellwether_rules::RuleSet::from_toml(name, text) else {
        return Vec::new();
    };
    rules
        .holds_without_activity()
        .into_iter()
        .map(|def| {
            format!(
                "segment `{}` {}",
                def.name,
                bellwether_core::reports::without_activity_message(def.subject)
            )
        })
        .collect()
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
    let valid = diagnostics.is_empty() && config_error.is_none();
    let (warnings, idle) = match valid {
        true => (
            retention_warnings(&name, &text),
            activity_warnings(&name, &text),
        ),
        false => (Vec::new(), Vec::new()),
    };
    let findings = match (valid, args.lint) {
        (true, true) => Some(lint(&args, &name, &text)?),
        _ => None,
    };
    let ok = valid && findings.as_ref().is_none_or(Vec::is_empty);
    if args.json {
        let mut report = diagnostics.to_json();
        if let Some(error) = &config_error {
            report["ok"] = serde_json::Value::Bool(false);
            report["config_error"] = serde_json::Value::String(error.clone());
        }
        if let Some(findings) = &findings {
            report["ok"] = serde_json::Value::Bool(ok);
            report["lint"] = serde_json::to_value(findings)?;
        }
        if !warnings.is_empty() {
            report["retention_warnings"] = serde_json::to_value(&warnings)?;
        }
        if !idle.is_empty() {
            report["activity_warnings"] = serde_json::to_value(&idle)?;
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &config_error {
        println!("error: {error}");
    } else {
        print!("{}", diagnostics.render());
        for warning in warnings.iter().chain(&idle) {
            println!("warning: {name}: {warning}");
        }
        if let Some(findings) = &findings {
            print!("{}", crate::report::render_findings(findings));
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Lints the file's definitions against the stored data, as of now.
fn lint(
    args: &CheckArgs,
    name: &str,
    text: &str,
) -> anyhow::Result<Vec<bellwether_core::reports::Finding>> {
    use bellwether_core::Clock;
    let store_args = crate::settings::StoreArgs {
        config: args.file.clone(),
        data: args.data.clone(),
        database: args.database.clone(),
    };
    let config = Config::from_toml(text).with_context(|| format!("invalid config file {name}"))?;
    let rules = bellwether_rules::RuleSet::from_toml(name, text)
        .map_err(|d| anyhow::anyhow!("invalid definitions:\n{}", d.render()))?;
    let store = store_args.open_store(&config)?;
    let now = bellwether_core::SystemClock.now_ms();
    let engine = crate::subjects::engine_as_of(
        store.as_ref(),
        &store_args.data_dir(&config),
        &config.identity,
        rules,
        now,
    )?;
    let params = bellwether_core::reports::LintParams {
        min_size: args.min_size,
        max_overlap: args.max_overlap,
    };
    Ok(crate::report::lint_engine(&engine, store.as_ref(), params)?.findings)
}
