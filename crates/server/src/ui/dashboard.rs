//! `/`: every segment with its size, 30-day trend and today's entries and
//! exits; every tier with its level sizes; evaluation health.
//!
//! With a default outcome (`[reports] outcome`), each segment's members'
//! conversion and lift, read from the figures
//! [`crate::conversion_cache`] keeps fresh (never computed per request).
//!
//! Extension points: a column per segment is one more [`ExtraColumn`]
//! pushed in [`page`]; a side panel is one more [`Markup`] pushed onto
//! `panels` there.

use std::collections::HashMap;

use crate::api::Query;
use axum::extract::{Path, State};
use axum::Json;
use maud::{html, Markup};

use super::auth::Viewer;
use super::layout::{self, Nav};
use super::{chart, format, Page, UiState};
use crate::api::health::{self, HealthView};
use crate::api::segments::{self, SegmentSummary};
use crate::api::trends::{self, SegmentTrend, TrendParams};
use bellwether_core::engine::TierCounts;

const TREND_DAYS: u32 = 30;

/// A column added to the segments table: its header and a cell per segment
/// name (segments without a cell show a dash).
pub(crate) struct ExtraColumn {
    pub(crate) header: String,
    pub(crate) cells: HashMap<String, Markup>,
}

struct Row {
    summary: SegmentSummary,
    trend: SegmentTrend,
    last_change: Option<i64>,
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct DashboardParams {
    /// A segment the editor just saved.
    saved: Option<String>,
}

pub(crate) async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(params): Query<DashboardParams>,
) -> Page {
    let app = &ui.app;
    let Json(list) = segments::list_segments(State(app.clone()), viewer.headers.clone()).await?;
    let health = health::health_view(app).await;
    let last_changes = last_changes(&health);
    let mut rows = Vec::with_capacity(list.segments.len());
    for summary in list.segments {
        let params = TrendParams {
            days: Some(TREND_DAYS),
        };
        let Json(trend) = trends::segment_trend(
            State(app.clone()),
            viewer.headers.clone(),
            Path(summary.name.clone()),
            Query(params),
        )
        .await?;
        let last_change = last_changes.get(&summary.name).copied();
        rows.push(Row {
            summary,
            trend,
            last_change,
        });
    }
    let tiers = app.engine.view_async().await.tier_level_counts();
    let now = app.engine.now();
    let columns: Vec<ExtraColumn> = conversion_column(app, &rows).into_iter().collect();
    let panels: Vec<Markup> = vec![
        health_panel(&health, now),
        super::deliveries::destinations_panel(app, &viewer).await?,
    ];
    let body = html! {
        (layout::heading("Overview", "Segments", html! {
            a.button.primary href="/editor" { "New segment" }
        }))
        @if let Some(saved) = params.saved.as_deref().filter(|s| rows.iter().any(|r| r.summary.name == *s)) {
            p.notice role="status" { "Saved segment " a href={"/segments/" (layout::encode(saved))} { (saved) } "." }
        }
        (totals(&health, &rows))
        div.columns {
            div.wide {
                section.card #segments {
                    h2 { "Segments" }
                    (segment_table(&rows, &columns, now))
                }
                section.card {
                    h2 { "Tiers" }
                    (tier_cards(&tiers))
                }
            }
            aside.side { @for panel in &panels { (panel) } }
        }
    };
    Ok(layout::page(
        "Dashboard",
        Nav::Dashboard,
        Some(&viewer),
        body,
    ))
}

/// Members' conversion and lift for the default outcome (`[reports]`),
/// from the figures kept in the background; none without an outcome.
fn conversion_column(app: &crate::AppState, rows: &[Row]) -> Option<ExtraColumn> {
    let outcome = app.config.reports.outcome.as_deref()?;
    let header = format!(
        "Conversion ({}, {})",
        outcome.trim_matches('"'),
        app.config.reports.horizon_text()
    );
    let cells = rows
        .iter()
        .filter_map(|row| {
            let standing = app.conversion_cache.get(&row.summary.name)?;
            let cell = match &standing.report {
                Err(error) => html! { span.muted title=(error) { "n/a" } },
                Ok(report) => {
                    let rate = report.members.conversion.rate;
                    let percent = |r: Option<f64>| r.map_or("–".to_owned(), |r| format!("{:.1}%", r * 100.0));
                    let title = format!(
                        "members {} of {} ({}), non-members {} ({} of {})",
                        report.members.conversion.converted,
                        report.members.conversion.total,
                        percent(rate),
                        percent(report.non_members.conversion.rate),
                        report.non_members.conversion.converted,
                        report.non_members.conversion.total,
                    );
                    let per_member = report.members.value.as_ref().and_then(|v| v.revenue_per_member);
                    html! {
                        span.conversion title=(title) {
                            strong { (percent(rate)) }
                            @if let Some(lift) = report.lift {
                                " " span class={"lift " @if lift >= 1.0 { "up" } @else { "down" }} { (format!("{lift:.1}×")) }
                            }
                            @if let Some(value) = per_member {
                                div.muted.small { (format::compact(value)) " per member" }
                            }
                        }
                    }
                }
            };
            Some((row.summary.name.clone(), cell))
        })
        .collect();
    Some(ExtraColumn { header, cells })
}

fn last_changes(health: &HealthView) -> HashMap<String, i64> {
    health
        .definitions
        .iter()
        .filter_map(|d| Some((d.name.clone(), d.last_change_ms?)))
        .collect()
}

fn today(trend: &SegmentTrend) -> (u64, u64) {
    trend.days.last().map_or((0, 0), |d| (d.entered, d.exited))
}

fn totals(health: &HealthView, rows: &[Row]) -> Markup {
    let (entered, exited) = rows
        .iter()
        .map(|r| today(&r.trend))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let contacts = health.subjects.contacts as u64;
    let accounts = health.subjects.accounts as u64;
    html! {
        div.stats {
            (layout::stat("Contacts", &format::count(contacts), None))
            (layout::stat("Accounts", &format::count(accounts), None))
            (layout::stat("Segments", &rows.len().to_string(), None))
            (layout::stat("Entries today", &format::count(entered), Some("all segments")))
            (layout::stat("Exits today", &format::count(exited), Some("all segments")))
        }
    }
}

fn segment_table(rows: &[Row], columns: &[ExtraColumn], now: i64) -> Markup {
    if rows.is_empty() {
        return layout::empty("No segments yet. Create one in the segment editor.");
    }
    html! {
        table.data {
            thead { tr {
                th scope="col" { "Segment" }
                th.num scope="col" { "Members" }
                th scope="col" { "Last " (TREND_DAYS) " days" }
                th.num scope="col" { "Today" }
                @for column in columns { th scope="col" { (column.header) } }
                th scope="col" { "Last change" }
            } }
            tbody {
                @for row in rows {
                    @let (entered, exited) = today(&row.trend);
                    @let sizes: Vec<f64> = row.trend.days.iter().map(|d| d.size as f64).collect();
                    tr {
                        td {
                            a.strong href={"/segments/" (layout::encode(&row.summary.name))} { (row.summary.name) }
                            " " (layout::pill(row.summary.subject, "subject"))
                            @if let Some(action) = &row.summary.action {
                                div.muted.small { (action) @if let Some(owner) = &row.summary.owner { " · " (owner) } }
                            }
                        }
                        td.num.big title=(format::grouped(row.summary.size as u64)) { (format::count(row.summary.size as u64)) }
                        td { (chart::sparkline(&sizes, &format!("{} members over the last {TREND_DAYS} days", row.summary.name))) }
                        td.num {
                            span.up title="entered today" { "+" (format::count(entered)) }
                            " "
                            span.down title="exited today" { "−" (format::count(exited)) }
                        }
                        @for column in columns {
                            td { @match column.cells.get(&row.summary.name) { Some(cell) => (cell), None => span.muted { "–" } } }
                        }
                        td { @match row.last_change { Some(at) => (layout::when(at, now)), None => span.muted { "never" } } }
                    }
                }
            }
        }
    }
}

fn tier_cards(tiers: &[TierCounts]) -> Markup {
    if tiers.is_empty() {
        return layout::empty("No tiers defined.");
    }
    html! {
        div.tiers {
            @for tier in tiers {
                @let total: usize = tier.levels.iter().map(|(_, n)| n).sum::<usize>() + tier.unplaced;
                div.tier {
                    h3 { (format::label(&tier.name)) " " (layout::pill(tier.subject, "subject")) }
                    div.levelbar role="img" aria-label={(tier.name) " level sizes"} {
                        @for (i, (_, n)) in tier.levels.iter().enumerate() {
                            @if *n > 0 {
                                span class={"seg s" (i % 6)} style={"flex-grow:" (n)} {}
                            }
                        }
                    }
                    ul.legend {
                        @for (i, (level, n)) in tier.levels.iter().enumerate() {
                            li {
                                span class={"dot s" (i % 6)} {}
                                (level) " " strong { (format::count(*n as u64)) }
                                span.muted { " " (percent(*n, total)) }
                            }
                        }
                        @if tier.unplaced > 0 {
                            li { span.dot {} "no level " strong { (format::count(tier.unplaced as u64)) } }
                        }
                    }
                }
            }
        }
    }
}

fn percent(part: usize, total: usize) -> String {
    if total == 0 {
        return String::new();
    }
    format!("{:.0}%", part as f64 * 100.0 / total as f64)
}

fn health_panel(health: &HealthView, now: i64) -> Markup {
    let current = health.current;
    let (p50, p99) = (health.evaluation_us.p50, health.evaluation_us.p99);
    let micros =
        |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{} µs", format::compact(v)));
    html! {
        section.card #health {
            h2 { "Health" }
            dl.facts {
                dt { "Evaluation" }
                dd { @if current { (layout::pill("current", "good")) } @else { (layout::pill("behind", "bad")) } }
                dt { "Pending timers" }
                dd { (format::count(health.timers_pending as u64)) }
                dt { "Next timer" }
                dd { @match health.next_deadline_ms {
                    Some(at) => (layout::when(at, now)), None => span.muted { "none" } } }
                dt { "Evaluation time" }
                dd { (micros(p50)) " median, " (micros(p99)) " p99" }
                dt { "Write queue" }
                dd { (format::count(health.ingest_pending_messages as u64)) " messages" }
            }
        }
    }
}
