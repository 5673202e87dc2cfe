//! The segment page's conversion card: do members convert better than
//! everyone else, and what are they worth? Members' and non-members'
//! conversion to an outcome within a horizon, as bars with their Wilson
//! 95 % intervals, the lift and the p-value; the days from entry to the
//! outcome; revenue and pipeline per member when the outcome has a value.
//!
//! The configured default outcome (`[reports]`) is read from the
//! background figures ([`crate::conversion_cache`]); any other outcome
//! asked for in the form is computed on demand.

use bellwether_core::config::Scope;
use maud::{html, Markup};

use super::auth::Viewer;
use super::{format, layout};
use crate::api::report_views::{ConversionView, GroupView};
use crate::api::reports::{self, ConversionQuery};
use crate::auth::require_token;
use crate::AppState;

const WIDTH: f64 = 440.0;
const LABEL: f64 = 110.0;
const BAR: f64 = 22.0;

/// What the form asked for (all empty on a plain page view).
#[derive(Debug, Default)]
pub(crate) struct Asked<'a> {
    pub(crate) outcome: Option<&'a str>,
    pub(crate) horizon: Option<&'a str>,
    pub(crate) value: Option<&'a str>,
}

/// The card: the form, and the report for what was asked, else the
/// default outcome's figures.
pub(crate) async fn card(
    app: &AppState,
    viewer: &Viewer,
    segment: &str,
    asked: Asked<'_>,
) -> Markup {
    let defaults = &app.config.reports;
    let outcome = blank(asked.outcome);
    let report: Option<(Result<ConversionView, String>, Option<i64>)> = match outcome {
        Some(outcome) => {
            let query = ConversionQuery {
                segment: Some(segment.to_owned()),
                outcome: Some(outcome.to_owned()),
                horizon: blank(asked.horizon).map(str::to_owned),
                value: blank(asked.value).map(str::to_owned),
                ..ConversionQuery::default()
            };
            let answer = match require_token(&app.config, &viewer.headers, Scope::Read) {
                Ok(_) => reports::conversion_view(app, &query)
                    .await
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            Some((answer, None))
        }
        None => app.conversion_cache.get(segment).map(|standing| {
            let report = standing.report.map(|view| (*view).clone());
            (report, Some(standing.computed_at))
        }),
    };
    let shown_outcome = outcome
        .or(defaults.outcome.as_deref())
        .unwrap_or("Deal Won");
    let shown_horizon = blank(asked.horizon).unwrap_or(match outcome {
        Some(_) => "30d",
        None => defaults.horizon_text(),
    });
    let shown_value = match outcome {
        Some(_) => blank(asked.value),
        None => defaults.value.as_deref(),
    };
    html! {
        section.card #conversion {
            h2 { "Conversion" }
            form.inline method="get" action={"/segments/" (layout::encode(segment))} {
                label for="outcome" { "Outcome" }
                input #outcome name="outcome" value=(shown_outcome) size="16";
                label for="horizon" { "within" }
                input #horizon name="horizon" value=(shown_horizon) size="5";
                label for="value" { "value" }
                input #value name="value" value=(shown_value.unwrap_or("")) size="8" placeholder="amount";
                button type="submit" { "Measure" }
            }
            @match &report {
                None if defaults.outcome.is_some() => p.muted.small { "Computing the default outcome's figures…" },
                None => p.muted.small { "Members' conversion after entering vs everyone else's over the last 90 days. Set " code { "[reports] outcome" } " to see it here and on the dashboard." },
                Some((Err(error), _)) => p.error role="alert" { (error) },
                Some((Ok(report), computed_at)) => {
                    (chart(report))
                    (value_table(report))
                    @if let Some(at) = computed_at {
                        p.muted.small { "Default outcome, computed " (layout::when(*at, app.engine.now())) "." }
                    }
                }
            }
        }
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn chart(report: &ConversionView) -> Markup {
    let groups = [
        ("Members", &report.members),
        ("Non-members", &report.non_members),
    ];
    let top = groups
        .iter()
        .map(|(_, g)| g.conversion.high.unwrap_or(0.0))
        .fold(0.01, f64::max)
        * 1.1;
    let x = |rate: f64| LABEL + (WIDTH - LABEL - 60.0) * (rate / top).clamp(0.0, 1.0);
    let height = 20.0 + groups.len() as f64 * (BAR + 14.0);
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (height)} width=(WIDTH) height=(height) role="img"
                aria-label="conversion of members and non-members with 95% intervals" {
                @for (i, (name, group)) in groups.iter().enumerate() {
                    @let y = 10.0 + i as f64 * (BAR + 14.0);
                    @let rate = group.conversion.rate.unwrap_or(0.0);
                    @let (low, high) = (group.conversion.low.unwrap_or(rate), group.conversion.high.unwrap_or(rate));
                    text x="0" y=(y + BAR * 0.7) { (name) }
                    rect class={"bar " @if i == 0 { "good" } @else { "muted" }} x=(LABEL) y=(y) width=(x(rate) - LABEL) height=(BAR) {}
                    line.whisker x1=(x(low)) x2=(x(high)) y1=(y + BAR / 2.0) y2=(y + BAR / 2.0) {}
                    line.whisker x1=(x(low)) x2=(x(low)) y1=(y + 4.0) y2=(y + BAR - 4.0) {}
                    line.whisker x1=(x(high)) x2=(x(high)) y1=(y + 4.0) y2=(y + BAR - 4.0) {}
                    text x=(x(high) + 6.0) y=(y + BAR * 0.7) { (percent(group.conversion.rate)) }
                }
            }
            figcaption {
                @for (name, group) in &groups {
                    (name) ": " (group.conversion.converted) " of " (group.conversion.total)
                    " (95% " (percent(group.conversion.low)) "–" (percent(group.conversion.high)) "). "
                }
                @if let Some(lift) = report.lift { "Lift " strong { (format!("{lift:.2}×")) } ", " }
                @if let Some(p) = report.p_value { (p_value(p)) }
                " · outcome " code { (report.frame.outcome) } " within " (report.frame.horizon)
            }
        }
    }
}

/// Time to outcome, and revenue and pipeline when the outcome has a value.
fn value_table(report: &ConversionView) -> Markup {
    let groups = [
        ("Members", &report.members),
        ("Non-members", &report.non_members),
    ];
    let money = |v: Option<f64>| v.map_or("–".to_owned(), format::compact);
    let days = |g: &GroupView| {
        g.days_to_outcome.as_ref().map_or("–".to_owned(), |q| {
            format!("{:.1} d ({:.1}–{:.1})", q.median, q.p25, q.p75)
        })
    };
    let valued = report.members.value.is_some();
    let pipeline = report
        .members
        .value
        .as_ref()
        .is_some_and(|v| v.pipeline.is_some());
    html! {
        table.data #conversion-value {
            thead { tr {
                th scope="col" { }
                th.num scope="col" title="median days from entry to the outcome, with the quartiles" { "Days to outcome" }
                @if valued {
                    th.num scope="col" { "Revenue" }
                    th.num scope="col" { "Per member" }
                    th.num scope="col" { "Per conversion" }
                }
                @if pipeline {
                    th.num scope="col" { "Pipeline" }
                    th.num scope="col" { "Pipeline per member" }
                }
            } }
            tbody {
                @for (name, group) in &groups {
                    tr {
                        th scope="row" { (name) }
                        td.num { (days(group)) }
                        @if let Some(value) = &group.value {
                            td.num { (format::compact(value.revenue)) }
                            td.num { (money(value.revenue_per_member)) }
                            td.num { (money(value.revenue_per_conversion)) }
                            @if pipeline {
                                td.num { (money(value.pipeline)) }
                                td.num { (money(value.pipeline_per_member)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(value) = &report.frame.value {
            p.muted.small { "Revenue sums " code { (value) } " over each subject's outcome events in its window"
                @if let Some(pipeline) = &report.frame.pipeline { "; pipeline sums it over " code { (pipeline) } } "." }
        }
    }
}

/// `p = 4.88e-45`; below what a double resolves, `p < 1e-300`.
fn p_value(p: f64) -> String {
    match p {
        p if p < 1e-300 => "p < 1e-300".to_owned(),
        p => format!("p = {p:.2e}"),
    }
}

/// A form field, unless blank.
fn blank(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}
