//! `bellwether backtest --segment NAME | --when EXPR --from --to --every 1d`:
//! a saved segment or a draft condition evaluated as of past instants on
//! the stored events: size, entrants and exits at each instant, and the
//! entrants' conversion for an optional outcome.

use std::process::ExitCode;

use bellwether_core::reports::{self, BacktestParams, BacktestTarget, OutcomeSpec};
use bellwether_rules::SubjectKind;
use clap::Args;

use crate::report::{duration, instant, Common};

const DAY: i64 = 86_400_000;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["segment", "when"])))]
pub(crate) struct BacktestArgs {
    #[command(flatten)]
    common: Common,
    /// A saved segment.
    #[arg(long)]
    segment: Option<String>,
    /// A draft condition in the rule language.
    #[arg(long)]
    when: Option<String>,
    /// The draft's subject.
    #[arg(long, default_value = "contact", value_parser = ["contact", "account"])]
    subject: String,
    /// First instant, RFC 3339 (default: 30 days before `--to`).
    #[arg(long)]
    from: Option<String>,
    /// Last instant (default: the report instant).
    #[arg(long)]
    to: Option<String>,
    /// Step between instants (at most 1,000 instants).
    #[arg(long, default_value = "1d")]
    every: String,
    /// Outcome event selector for the entrants' conversion.
    #[arg(long)]
    outcome: Option<String>,
    #[arg(long, default_value = "30d")]
    horizon: String,
}

pub(crate) fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let as_of = args.common.as_of()?;
    let to = instant("to", args.to.as_deref(), as_of)?;
    let from = instant("from", args.from.as_deref(), to - 30 * DAY)?;
    let target = match (&args.segment, &args.when) {
        (Some(segment), _) => BacktestTarget::Segment(segment.clone()),
        (None, when) => BacktestTarget::Draft {
            when: when.clone().unwrap_or_default(),
            subject: match args.subject.as_str() {
                "account" => SubjectKind::Account,
                _ => SubjectKind::Contact,
            },
        },
    };
    let outcome = match &args.outcome {
        Some(selector) => Some(OutcomeSpec::new(
            selector.clone(),
            duration("horizon", &args.horizon)?,
        )),
        None => None,
    };
    let params = BacktestParams {
        target,
        from,
        to,
        every: duration("every", &args.every)?,
        outcome,
        as_of,
        keep_members: false,
    };
    let (mut engine, store) = args.common.engine(as_of)?;
    let started = std::time::Instant::now();
    let report = reports::with_store(&mut engine, store.as_ref(), |e| {
        reports::backtest(e, &params)
    })?;
    eprintln!(
        "{} instants, {} evaluations, {:.0} ms",
        report.points.len(),
        report.evaluations,
        started.elapsed().as_secs_f64() * 1000.0
    );
    args.common.print(&report, || {
        let mut out =
            String::from("instant                      size  entered  exited  converted\n");
        for p in &report.points {
            let converted = p.converted.map_or("-".to_owned(), |c| c.to_string());
            out += &format!(
                "{:<26} {:>6} {:>8} {:>7} {:>10}\n",
                bellwether_server::segment::format_timestamp(p.at),
                p.size,
                p.entered,
                p.exited,
                converted
            );
        }
        out += &format!("{} distinct entrants", report.entrants);
        if let Some(c) = &report.conversion {
            let rate = c
                .rate
                .map_or("n/a".to_owned(), |r| format!("{:.1}%", r * 100.0));
            out += &format!(", {} converted ({rate})", c.count);
        }
        out + "\n"
    })?;
    Ok(ExitCode::SUCCESS)
}
