//! The segment page's conversion card: do members convert better than
//! everyone else? Members' and non-members' conversion to an outcome within
//! a horizon, as bars with their Wilson 95 % intervals, the lift and the
//! p-value. Computed on demand (a form), from `/api/v1/reports/conversion`.

use crate::api::Query;
use axum::extract::State;
use axum::Json;
use maud::{html, Markup};
use serde_json::Value;

use super::auth::Viewer;
use super::layout;
use crate::api::reports::{self, ConversionQuery};
use crate::AppState;

const WIDTH: f64 = 440.0;
const LABEL: f64 = 110.0;
const BAR: f64 = 22.0;

/// The card: the form, and the report when an outcome was asked for.
pub(crate) async fn card(
    app: &AppState,
    viewer: &Viewer,
    segment: &str,
    outcome: Option<&str>,
    horizon: Option<&str>,
) -> Markup {
    let report = match outcome.filter(|o| !o.trim().is_empty()) {
        None => None,
        Some(outcome) => {
            let query = ConversionQuery {
                segment: Some(segment.to_owned()),
                outcome: Some(outcome.to_owned()),
                horizon: horizon.map(str::to_owned),
                ..ConversionQuery::default()
            };
            let answer =
                reports::conversion(State(app.clone()), viewer.headers.clone(), Query(query)).await;
            Some(answer.map(|Json(view)| serde_json::to_value(view).unwrap_or(Value::Null)))
        }
    };
    html! {
        section.card #conversion {
            h2 { "Conversion" }
            form.inline method="get" action={"/segments/" (layout::encode(segment))} {
                label for="outcome" { "Outcome" }
                input #outcome name="outcome" value=(outcome.unwrap_or("Deal Won")) size="16";
                label for="horizon" { "within" }
                input #horizon name="horizon" value=(horizon.unwrap_or("30d")) size="5";
                button type="submit" { "Measure" }
            }
            @match &report {
                None => p.muted.small { "Members' conversion after entering vs everyone else's over the last 90 days." },
                Some(Err(error)) => p.error role="alert" { (error.to_string()) },
                Some(Ok(report)) => (chart(report)),
            }
        }
    }
}

fn chart(report: &Value) -> Markup {
    let groups = [
        ("Members", &report["members"]),
        ("Non-members", &report["non_members"]),
    ];
    let top = groups
        .iter()
        .map(|(_, g)| g["high"].as_f64().unwrap_or(0.0))
        .fold(0.01, f64::max)
        * 1.1;
    let x = |rate: f64| LABEL + (WIDTH - LABEL - 60.0) * (rate / top).clamp(0.0, 1.0);
    let percent = |v: &Value| {
        v.as_f64()
            .map_or("–".to_owned(), |r| format!("{:.1}%", r * 100.0))
    };
    let height = 20.0 + groups.len() as f64 * (BAR + 14.0);
    let lift = report["lift"].as_f64();
    let p = report["p_value"].as_f64();
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (height)} width=(WIDTH) height=(height) role="img"
                aria-label="conversion of members and non-members with 95% intervals" {
                @for (i, (name, group)) in groups.iter().enumerate() {
                    @let y = 10.0 + i as f64 * (BAR + 14.0);
                    @let rate = group["rate"].as_f64().unwrap_or(0.0);
                    @let (low, high) = (group["low"].as_f64().unwrap_or(rate), group["high"].as_f64().unwrap_or(rate));
                    text x="0" y=(y + BAR * 0.7) { (name) }
                    rect class={"bar " @if i == 0 { "good" } @else { "muted" }} x=(LABEL) y=(y) width=(x(rate) - LABEL) height=(BAR) {}
                    line.whisker x1=(x(low)) x2=(x(high)) y1=(y + BAR / 2.0) y2=(y + BAR / 2.0) {}
                    line.whisker x1=(x(low)) x2=(x(low)) y1=(y + 4.0) y2=(y + BAR - 4.0) {}
                    line.whisker x1=(x(high)) x2=(x(high)) y1=(y + 4.0) y2=(y + BAR - 4.0) {}
                    text x=(x(high) + 6.0) y=(y + BAR * 0.7) { (percent(&group["rate"])) }
                }
            }
            figcaption {
                @for (name, group) in &groups {
                    (name) ": " (group["converted"].as_u64().unwrap_or(0)) " of " (group["total"].as_u64().unwrap_or(0))
                    " (95% " (percent(&group["low"])) "–" (percent(&group["high"])) "). "
                }
                @if let Some(lift) = lift { "Lift " strong { (format!("{lift:.2}×")) } ", " }
                @if let Some(p) = p { "p = " (format!("{p:.2e}")) }
                " · outcome " code { (report["outcome"].as_str().unwrap_or("")) } " within " (report["horizon"].as_str().unwrap_or(""))
            }
        }
    }
}
