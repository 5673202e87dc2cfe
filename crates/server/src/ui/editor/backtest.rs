//! The preview's backtest line: how many the condition would have caught
//! over the last 90 days (subjects entering at a daily instant after the
//! first) and how those converted to the default outcome (`[reports]
//! outcome`, as on the dashboard; without one, `"Deal Won"` within 30 days
//! when that event was ever seen).

use bellwether_core::reports::{self, BacktestParams, BacktestTarget, OutcomeSpec};
use bellwether_rules::{SubjectKind, DAY};
use maud::{html, Markup};

use crate::api::handler::blocking;
use crate::error::ApiError;
use crate::ui::{format, UiState};

/// Days looked back.
const DAYS: i64 = 90;
/// The outcome without a configured one.
const OUTCOME: &str = "Deal Won";
const HORIZON_DAYS: i64 = 30;

/// What the line says.
pub(crate) struct BacktestLine {
    subject: SubjectKind,
    entrants: u64,
    /// The entrants' conversion rate, when the outcome was ever seen.
    conversion: Option<Option<f64>>,
    /// The outcome and its horizon, as people read them.
    outcome: String,
}

/// Replays `when` over the last 90 days, one instant a day (91 instants,
/// well under the reports' cap), in one of the report slots, held by the
/// blocking work itself: previews abandoned as the user types queue
/// behind the slots instead of piling up.
pub(crate) async fn run(
    ui: &UiState,
    when: &str,
    subject: SubjectKind,
) -> Result<BacktestLine, ApiError> {
    let engine = ui.app.engine.clone();
    let now = engine.now();
    let (outcome, label) = match ui.app.config.reports.outcome_spec() {
        Some(spec) => {
            let label = format!(
                "{} within {}",
                spec.selector,
                ui.app.config.reports.horizon_text()
            );
            (Some(OutcomeSpec::new(spec.selector, spec.horizon)), label)
        }
        None => {
            let seen = engine
                .view_async()
                .await
                .seen_event_names()
                .contains(OUTCOME);
            let spec = OutcomeSpec::new(format!("{OUTCOME:?}"), HORIZON_DAYS * DAY);
            (
                seen.then_some(spec),
                format!("{OUTCOME} within {HORIZON_DAYS} days"),
            )
        }
    };
    let params = BacktestParams {
        target: BacktestTarget::Draft {
            when: when.to_owned(),
            subject,
        },
        from: now - DAYS * DAY,
        to: now,
        every: DAY,
        outcome,
        as_of: now,
        keep_members: false,
    };
    let slot = ui.app.report_slots.acquire_owned().await?;
    let report = blocking(&ui.app, move |store| {
        let _slot = slot;
        reports::with_handle(&engine, store, |view| reports::backtest(view, &params))
    })
    .await??;
    Ok(BacktestLine {
        subject,
        entrants: report.entrants,
        conversion: report.conversion.map(|c| c.rate),
        outcome: label,
    })
}

/// Where the script puts the line once `POST /editor/backtest` answers.
pub(crate) fn placeholder() -> Markup {
    html! {
        p.muted.small #backtest-pending data-backtest="/editor/backtest" aria-busy="true" {
            "Backtesting the last " (DAYS) " days…"
        }
    }
}

/// "Would have caught 12 contacts in the last 90 days, converting at 8.3 %".
pub(crate) fn render(line: &Result<BacktestLine, ApiError>) -> Markup {
    let line = match line {
        Ok(line) => line,
        Err(error) => {
            return html! { p.muted.small #backtest { "No backtest: " (error.to_string()) } }
        }
    };
    let noun = format!(
        "{} {}",
        format::grouped(line.entrants),
        plural(line.subject, line.entrants)
    );
    html! {
        p #backtest {
            "Would have caught " strong #backtest-caught { (noun) } " in the last " (DAYS) " days"
            @match line.conversion {
                Some(Some(rate)) => {
                    ", converting at " strong #backtest-rate { (format!("{:.1}%", rate * 100.0)) }
                    span.muted { " (" (line.outcome) ")" }
                }
                Some(None) => {}
                None => span.muted { " (no " (OUTCOME) " events seen, so no conversion)" },
            }
            "."
        }
    }
}

fn plural(subject: SubjectKind, count: u64) -> &'static str {
    match (subject, count == 1) {
        (SubjectKind::Contact, true) => "contact",
        (SubjectKind::Contact, false) => "contacts",
        (SubjectKind::Account, true) => "account",
        (SubjectKind::Account, false) => "accounts",
    }
}
