//! `/`: every segment with its size, 30-day trend and today's entries and
//! exits; every tier with its level sizes; evaluation health.
//!
//! Extension points: a column per segment (e.g. conversion, issue #7) is
//! one more [`ExtraColumn`] pushed in [`page`]; a side panel (e.g.
//! deliveries and dead letters, issue #5) is one more [`Markup`] pushed onto
//! `panels` there.

use std::collections::HashMap;

use crate::api::Query;
use axum::extract::{Path, State};
use axum::Json;
use maud::{html, Markup};
use serde_json::Value;

use super::auth::Viewer;
use super::layout::{self, Nav};
use super::{chart, format, Page, UiState};
use crate::api::health;
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
    let Json(health) = health::health(State(app.clone()), viewer.headers.clone()).await?;
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
    let columns: Vec<ExtraColumn> = Vec::new();
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

fn last_changes(health: &Value) -> HashMap<String, i64> {
    health["definitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let at = format::parse_time(d["last_change"].as_str()?)?;
            Some((d["name"].as_str()?.to_owned(), at))
        })
        .collect()
}

fn today(trend: &SegmentTrend) -> (u64, u64) {
    trend.days.last().map_or((0, 0), |d| (d.entered, d.exited))
}

fn totals(health: &Value, rows: &[Row]) -> Markup {
    let (entered, exited) = rows
        .iter()
        .map(|r| today(&r.trend))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let contacts = health["subjects"]["contacts"].as_u64().unwrap_or(0);
    let accounts = health["subjects"]["accounts"].as_u64().unwrap_or(0);
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

fn health_panel(health: &Value, now: i64) -> Markup {
    let current = health["current"].as_bool().unwrap_or(false);
    let p50 = health["evaluation_us"]["p50"].as_f64();
    let p99 = health["evaluation_us"]["p99"].as_f64();
    let micros =
        |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{} µs", format::compact(v)));
    html! {
        section.card #health {
            h2 { "Health" }
            dl.facts {
                dt { "Evaluation" }
                dd { @if current { (layout::pill("current", "good")) } @else { (layout::pill("behind", "bad")) } }
                dt { "Pending timers" }
                dd { (format::count(health["timers_pending"].as_u64().unwrap_or(0))) }
                dt { "Next timer" }
                dd { @match health["next_deadline"].as_str().and_then(format::parse_time) {
                    Some(at) => (layout::when(at, now)), None => span.muted { "none" } } }
                dt { "Evaluation time" }
                dd { (micros(p50)) " median, " (micros(p99)) " p99" }
                dt { "Write queue" }
                dd { (format::count(health["ingest_pending_messages"].as_u64().unwrap_or(0))) " messages" }
            }
        }
    }
}
