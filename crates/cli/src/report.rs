//! `bellwether report …`: conversion by segment, holdout lift, score
//! quality, overlap and lint over a data directory (like `eval`: the
//! stored events loaded into an engine, no server needed). Text by default,
//! `--json` for the report as data (instants in ms since the epoch).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bellwether_core::engine::Engine;
use bellwether_core::reports::{
    self, ConversionParams, Group, LintParams, OutcomeSpec, Period, Proportion, QualityParams,
};
use bellwether_core::{Clock, Millis, Store, SystemClock};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::settings::StoreArgs;

const DAY: Millis = 86_400_000;

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    pub(crate) report: Report,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Report {
    /// Members' conversion after entry vs non-members'.
    Conversion(ConversionArgs),
    /// Treated vs held-out entrants of a segment with a holdout.
    Holdout(ConversionArgs),
    /// AUC and conversion by decile of a score.
    ScoreQuality(QualityArgs),
    /// Members shared by each pair of segments (Jaccard).
    Overlap(OverlapArgs),
    /// The same findings as `bellwether check --lint`.
    Lint(LintArgs),
}

/// Flags every report takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The instant the report is computed at, RFC 3339 (default: now).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ConversionArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    segment: String,
    /// Outcome event selector, e.g. '"Deal Won"' (a plain name works too).
    #[arg(long)]
    outcome: String,
    /// How long after entry the outcome counts.
    #[arg(long, default_value = "30d")]
    horizon: String,
    /// Start of the period (default: 90 days before `--to`).
    #[arg(long)]
    from: Option<String>,
    /// End of the period, exclusive (default: the report instant).
    #[arg(long)]
    to: Option<String>,
    /// A numeric property of the outcome's events (e.g. amount): adds
    /// revenue per group and per member.
    #[arg(long)]
    value: Option<String>,
    /// A selector for the deals in play (e.g. 'any where amount > 0'):
    /// adds pipeline, the sum of `--value` over its events. Needs `--value`.
    #[arg(long)]
    pipeline: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct QualityArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    score: String,
    #[arg(long)]
    outcome: String,
    #[arg(long, default_value = "30d")]
    horizon: String,
    /// When the score is read (default: the report instant minus the horizon).
    #[arg(long)]
    at: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct OverlapArgs {
    #[command(flatten)]
    common: Common,
    /// Comma-separated segments (default: all).
    #[arg(long, value_delimiter = ',')]
    segments: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    #[command(flatten)]
    common: Common,
    /// Fewer members than this is too small to act on.
    #[arg(long, default_value_t = reports::DEFAULT_MIN_SIZE)]
    min_size: u64,
    /// Jaccard overlap above which two segments are near-duplicates.
    #[arg(long, default_value_t = reports::DEFAULT_MAX_OVERLAP)]
    max_overlap: f64,
}

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    match args.report {
        Report::Conversion(args) => conversion(args, false),
        Report::Holdout(args) => conversion(args, true),
        Report::ScoreQuality(args) => quality(args),
        Report::Overlap(args) => overlap(args),
        Report::Lint(args) => lint(args),
    }
}

/// An RFC 3339 flag, or `default`.
pub(crate) fn instant(flag: &str, text: Option<&str>, default: Millis) -> anyhow::Result<Millis> {
    match text {
        None => Ok(default),
        Some(text) => bellwether_server::segment::parse_timestamp(text)
            .with_context(|| format!("--{flag} {text:?} is not an RFC 3339 instant")),
    }
}

/// A duration flag (`30d`, `12h`).
pub(crate) fn duration(flag: &str, text: &str) -> anyhow::Result<Millis> {
    bellwether_rules::parse_duration(text)
        .filter(|d| *d > 0)
        .with_context(|| format!("--{flag} {text:?} is not a positive duration such as 30d"))
}

impl Common {
    pub(crate) fn as_of(&self) -> anyhow::Result<Millis> {
        instant("as-of", self.as_of.as_deref(), SystemClock.now_ms())
    }

    /// The engine over the stored events as of `as_of`, and the store.
    pub(crate) fn engine(&self, as_of: Millis) -> anyhow::Result<(Engine, Arc<dyn Store>)> {
        let loaded = self.store.load()?;
        let definitions = self.store.definitions(&loaded)?;
        let store = self.store.open_store(&loaded.config)?;
        let engine = crate::subjects::engine_as_of(
            store.as_ref(),
            &self.store.data_dir(&loaded.config),
            &loaded.config.identity,
            definitions,
            as_of,
        )?;
        Ok((engine, store))
    }

    pub(crate) fn print<T: Serialize>(
        &self,
        report: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        match self.json {
            true => println!("{}", serde_json::to_string_pretty(report)?),
            false => print!("{}", text()),
        }
        Ok(())
    }
}

fn conversion(args: ConversionArgs, holdout: bool) -> anyhow::Result<ExitCode> {
    let as_of = args.common.as_of()?;
    let to = instant("to", args.to.as_deref(), as_of)?;
    let from = instant("from", args.from.as_deref(), to - 90 * DAY)?;
    let params = ConversionParams {
        segment: args.segment.clone(),
        outcome: OutcomeSpec {
            selector: args.outcome.clone(),
            horizon: duration("horizon", &args.horizon)?,
            value: args.value.clone(),
            pipeline: args.pipeline.clone(),
        },
        period: Period { from, to },
        as_of,
    };
    let (mut engine, store) = args.common.engine(as_of)?;
    let started = std::time::Instant::now();
    if holdout {
        let report = reports::with_store(&mut engine, store.as_ref(), |e| {
            reports::holdout_lift(e, &params)
        })?;
        eprintln!(
            "computed in {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        args.common.print(&report, || {
            let mut out = format!(
                "holdout lift of {} ({:.0}% held out), outcome {} within {}\n",
                report.segment,
                report.share * 100.0,
                args.outcome,
                args.horizon
            );
            out += &group_line("treated", &report.treated);
            out += &group_line("held out", &report.held_out);
            out + &comparison(report.lift, report.difference, report.p_value)
        })?;
    } else {
        let report = reports::with_store(&mut engine, store.as_ref(), |e| {
            reports::conversion(e, &params)
        })?;
        eprintln!(
            "computed in {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        args.common.print(&report, || {
            let mut out = format!(
                "conversion of {} ({}s), outcome {} within {}\n",
                report.segment, report.subject, args.outcome, args.horizon
            );
            out += &group_line("members", &report.members);
            out += &group_line("non-members", &report.non_members);
            out + &comparison(report.lift, report.difference, report.p_value)
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

fn rate(p: &Proportion) -> String {
    match (p.rate, p.low, p.high) {
        (Some(rate), Some(low), Some(high)) => format!(
            "{}/{} = {:.1}% (95% CI {:.1}–{:.1}%)",
            p.count,
            p.total,
            rate * 100.0,
            low * 100.0,
            high * 100.0
        ),
        _ => format!("{}/{}", p.count, p.total),
    }
}

fn group_line(name: &str, group: &Group) -> String {
    let mut line = format!(
        "  {name:<12} {} ({} with a window cut short)\n",
        rate(&group.conversion),
        group.open
    );
    if let Some(days) = &group.days_to_outcome {
        line += &format!(
            "  {:<12} days to outcome: median {:.1} (quartiles {:.1}–{:.1})\n",
            "", days.median, days.p25, days.p75
        );
    }
    if let Some(value) = &group.value {
        let money = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.2}"));
        line += &format!(
            "  {:<12} revenue {:.2}, per member {}, per conversion {}\n",
            "",
            value.revenue,
            money(value.revenue_per_subject),
            money(value.revenue_per_conversion)
        );
        if let Some(pipeline) = value.pipeline {
            line += &format!(
                "  {:<12} pipeline {pipeline:.2}, per member {}\n",
                "",
                money(value.pipeline_per_subject)
            );
        }
    }
    line
}

fn comparison(lift: Option<f64>, difference: Option<f64>, p_value: Option<f64>) -> String {
    let show = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("n/a".to_owned(), f);
    format!(
        "  lift {}, difference {}, p-value {}\n",
        show(lift, &|l| format!("{l:.2}x")),
        show(difference, &|d| format!("{:+.1} points", d * 100.0)),
        show(p_value, &|p| format!("{p:.3e}")),
    )
}

fn quality(args: QualityArgs) -> anyhow::Result<ExitCode> {
    let as_of = args.common.as_of()?;
    let horizon = duration("horizon", &args.horizon)?;
    let at = instant("at", args.at.as_deref(), as_of - horizon)?;
    let params = QualityParams {
        score: args.score.clone(),
        outcome: OutcomeSpec::new(args.outcome.clone(), horizon),
        at,
        as_of,
    };
    let (mut engine, store) = args.common.engine(as_of)?;
    let report = reports::with_store(&mut engine, store.as_ref(), |e| {
        reports::score_quality(e, &params)
    })?;
    args.common.print(&report, || {
        let auc = report.auc.map_or("n/a".to_owned(), |a| format!("{a:.3}"));
        let mut out = format!(
            "score {} for {} within {}: AUC {auc}, overall {}\n",
            report.score,
            args.outcome,
            args.horizon,
            rate(&report.overall)
        );
        for d in &report.deciles {
            out += &format!(
                "  decile {:>2} (score {:.1} to {:.1}): {}\n",
                d.decile,
                d.min_score,
                d.max_score,
                rate(&d.conversion)
            );
        }
        out
    })?;
    Ok(ExitCode::SUCCESS)
}

fn overlap(args: OverlapArgs) -> anyhow::Result<ExitCode> {
    let as_of = args.common.as_of()?;
    let (engine, _) = args.common.engine(as_of)?;
    let report = reports::overlap(&engine, &args.segments)?;
    args.common.print(&report, || {
        report
            .pairs
            .iter()
            .map(|p| {
                let jaccard = p.jaccard.map_or("n/a".to_owned(), |j| format!("{:.3}", j));
                format!(
                    "{:<28} {:<28} shared {:>6} of {:>6} and {:>6}  Jaccard {jaccard}\n",
                    p.a, p.b, p.shared, p.size_a, p.size_b
                )
            })
            .collect()
    })?;
    Ok(ExitCode::SUCCESS)
}

fn lint(args: LintArgs) -> anyhow::Result<ExitCode> {
    let params = LintParams {
        min_size: args.min_size,
        max_overlap: args.max_overlap,
    };
    let as_of = args.common.as_of()?;
    let (engine, store) = args.common.engine(as_of)?;
    let report = lint_engine(&engine, store.as_ref(), params)?;
    args.common
        .print(&report, || render_findings(&report.findings))?;
    Ok(ExitCode::SUCCESS)
}

/// Lint findings for an engine loaded over `store`.
pub(crate) fn lint_engine(
    engine: &Engine,
    store: &dyn Store,
    params: LintParams,
) -> anyhow::Result<reports::LintReport> {
    Ok(reports::lint(engine, params, &mut |name| {
        Ok(!store.definition_history(name, Millis::MIN)?.is_empty())
    })?)
}

pub(crate) fn render_findings(findings: &[reports::Finding]) -> String {
    if findings.is_empty() {
        return "no findings\n".to_owned();
    }
    findings
        .iter()
        .map(|f| format!("{}: {}: {}\n", f.code, f.definition, f.message))
        .collect()
}
