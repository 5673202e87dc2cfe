//! `/segments/{name}`: the definition (highlighted), owner and action, size
//! over time, entries and exits per day, members ranked by a score with
//! paging and search, the live feed of entries and exits, and "Export
//! CSV" (every member with its scores, `/segments/{name}/members.csv`).
//!
//! Side panels (`panels` in [`page`]): the live feed and, when a
//! destination subscribes to the segment, its latest webhook deliveries.

use crate::api::Query;
use axum::extract::{Path, State};
use axum::Json;
use bellwether_core::engine::{MemberQuery, RankedPage};
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::Viewer;
use super::chart::{self, Bar, LineChart};
use super::layout::{self, Nav};
use super::{format, highlight, Page, PageError, UiState};
use crate::api::segments::{self, ChangeParams, ChangeView, SegmentSummary};
use crate::api::trends::{self, SegmentTrend, TrendParams};
use crate::error::ApiError;

const PAGE_SIZE: usize = 25;
const HISTORY_DAYS: u32 = 90;
const BAR_DAYS: usize = 30;
const FEED_ITEMS: usize = 15;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Deserialize)]
pub(crate) struct MemberParams {
    /// Search in member ids.
    q: Option<String>,
    /// The score members are ranked by.
    score: Option<String>,
    /// 1-based page.
    page: Option<usize>,
    /// Conversion card: the outcome to measure, within how long, and its
    /// value property.
    outcome: Option<String>,
    horizon: Option<String>,
    value: Option<String>,
}

pub(crate) async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(params): Query<MemberParams>,
) -> Page {
    let app = &ui.app;
    let Json(list) = segments::list_segments(State(app.clone()), viewer.headers.clone()).await?;
    let Some(summary) = list.segments.into_iter().find(|s| s.name == name) else {
        return Err(PageError(ApiError::NotFound(format!(
            "no segment named {name:?}"
        ))));
    };
    let Json(trend) = trends::segment_trend(
        State(app.clone()),
        viewer.headers.clone(),
        Path(name.clone()),
        Query(TrendParams {
            days: Some(HISTORY_DAYS),
        }),
    )
    .await?;
    let Json(changes) = segments::recent_changes(
        State(app.clone()),
        viewer.headers.clone(),
        Query(ChangeParams { limit: Some(1_000) }),
    )
    .await?;
    let feed: Vec<ChangeView> = changes
        .changes
        .into_iter()
        .filter(|c| c.definition == name)
        .rev()
        .take(FEED_ITEMS)
        .collect();
    let scores: Vec<String> = {
        let engine = app.engine.view_async().await;
        engine
            .rules()
            .definitions()
            .score
            .iter()
            .filter(|s| s.subject.as_str() == summary.subject)
            .map(|s| s.name.clone())
            .collect()
    };
    let score = params
        .score
        .clone()
        .filter(|s| scores.contains(s))
        .or_else(|| scores.iter().find(|s| s.contains("intent")).cloned())
        .or_else(|| scores.first().cloned());
    let page_number = params.page.unwrap_or(1).max(1);
    let now = app.engine.now();
    let members = app.engine.view_async().await.ranked_members(MemberQuery {
        segment: &name,
        score: score.as_deref(),
        search: params.q.as_deref(),
        offset: (page_number - 1).saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
        now,
    });
    let asked = super::conversion::Asked {
        outcome: params.outcome.as_deref(),
        horizon: params.horizon.as_deref(),
        value: params.value.as_deref(),
    };
    let conversion = super::conversion::card(app, &viewer, &name, asked).await;
    let mut panels: Vec<Markup> = vec![feed_panel(&name, &feed, now)];
    panels.extend(super::deliveries::segment_panel(app, &viewer, &name, now).await?);
    let view = MembersView {
        segment: &summary,
        members: &members,
        scores: &scores,
        score: score.as_deref(),
        search: params.q.as_deref().unwrap_or(""),
        page: page_number,
        now,
    };
    let body = html! {
        (layout::heading(&format!("{} segment", format::label(summary.subject)), &summary.name, html! {
            a.button #export-csv href={"/segments/" (layout::encode(&summary.name)) "/members.csv"} download {
                "Export CSV"
            }
            " "
            a.button href={"/editor?segment=" (layout::encode(&summary.name))} { "Edit definition" }
        }))
        (overview(&summary, &trend))
        div.columns {
            div.wide {
                section.card {
                    h2 { "Definition" }
                    (highlight::expression(&summary.definition))
                    dl.facts.inline {
                        dt { "Owner" } dd { (summary.owner.as_deref().unwrap_or("–")) }
                        dt { "Action" } dd { (summary.action.as_deref().unwrap_or("–")) }
                        @if let Some(description) = &summary.description { dt { "About" } dd { (description) } }
                    }
                }
                (conversion)
                section.card {
                    h2 { "Size over time" }
                    (size_chart(&trend))
                    (entries_chart(&trend))
                }
                (members_table(&view))
            }
            aside.side { @for panel in &panels { (panel) } }
        }
    };
    Ok(layout::page(
        &summary.name,
        Nav::Detail,
        Some(&viewer),
        body,
    ))
}

/// `/segments/{name}/members.csv`: the "Export CSV" button's download,
/// `GET /api/v1/segments/{name}/members.csv` with the viewer's token.
pub(crate) async fn members_csv(
    State(ui): State<UiState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<axum::response::Response, PageError> {
    Ok(
        crate::api::members_csv::members_csv(State(ui.app.clone()), viewer.headers, Path(name))
            .await?,
    )
}

fn day_start(date: &str) -> Option<i64> {
    format::parse_time(&format!("{date}T00:00:00Z"))
}

fn overview(summary: &SegmentSummary, trend: &SegmentTrend) -> Markup {
    let today = trend.days.last();
    let month = &trend.days[trend.days.len().saturating_sub(BAR_DAYS)..];
    let (entered, exited) = month
        .iter()
        .fold((0, 0), |a, d| (a.0 + d.entered, a.1 + d.exited));
    html! {
        div.stats {
            (layout::stat("Members", &format::count(summary.size as u64), Some(&format::grouped(summary.size as u64))))
            (layout::stat("Entered today", &format::count(today.map_or(0, |d| d.entered)), None))
            (layout::stat("Exited today", &format::count(today.map_or(0, |d| d.exited)), None))
            (layout::stat("Last 30 days", &format!("+{} / −{}", format::count(entered), format::count(exited)), Some("entries / exits")))
        }
    }
}

fn size_chart(trend: &SegmentTrend) -> Markup {
    let points: Vec<(i64, f64)> = trend
        .days
        .iter()
        .filter_map(|d| Some((day_start(&d.date)?, d.size as f64)))
        .collect();
    let span = (
        points.first().map_or(0, |p| p.0),
        points.last().map_or(0, |p| p.0 + DAY_MS),
    );
    chart::line_chart(&LineChart {
        title: &format!("Members at the end of each day, last {HISTORY_DAYS} days"),
        unit: "members",
        points: &points,
        span,
        step: true,
    })
}

fn entries_chart(trend: &SegmentTrend) -> Markup {
    let recent = &trend.days[trend.days.len().saturating_sub(BAR_DAYS)..];
    let bars: Vec<Bar> = recent
        .iter()
        .filter_map(|d| {
            Some(Bar {
                at: day_start(&d.date)?,
                up: d.entered as f64,
                down: d.exited as f64,
            })
        })
        .collect();
    chart::bar_chart(
        &format!("Entries (up) and exits (down) per day, last {BAR_DAYS} days"),
        "per day",
        &bars,
        DAY_MS,
    )
}

struct MembersView<'a> {
    segment: &'a SegmentSummary,
    members: &'a RankedPage,
    scores: &'a [String],
    score: Option<&'a str>,
    search: &'a str,
    page: usize,
    now: i64,
}

fn members_table(view: &MembersView<'_>) -> Markup {
    let pages = view.members.matched.div_ceil(PAGE_SIZE).max(1);
    let first = (view.page - 1) * PAGE_SIZE;
    html! {
        section.card #members {
            h2 { "Members" }
            form.toolbar method="get" action={"/segments/" (layout::encode(&view.segment.name))} role="search" {
                label for="q" { "Search ids" }
                input #q type="search" name="q" value=(view.search) placeholder="user id, email, group id";
                @if !view.scores.is_empty() {
                    label for="score" { "Rank by" }
                    select #score name="score" {
                        @for name in view.scores {
                            option value=(name) selected[Some(name.as_str()) == view.score] { (name) }
                        }
                    }
                }
                button type="submit" { "Apply" }
            }
            @if view.members.members.is_empty() {
                (layout::empty(if view.search.is_empty() { "No members right now." } else { "No member id matches that search." }))
            } @else {
                table.data {
                    thead { tr {
                        th.num scope="col" { "#" }
                        th scope="col" { (format::label(view.segment.subject)) }
                        th.num scope="col" { (view.score.unwrap_or("score")) }
                        th scope="col" { "Member since" }
                        th scope="col" { span.sr-only { "Explanation" } }
                    } }
                    tbody {
                        @for (i, member) in view.members.members.iter().enumerate() {
                            tr {
                                td.num.muted { (first + i + 1) }
                                td { (layout::subject_link(view.segment.subject, &member.id)) }
                                td.num { @match member.score { Some(v) => (format::compact(v)), None => span.muted { "–" } } }
                                td { (layout::when(member.entered_at, view.now)) }
                                td { a href=(layout::subject_href(view.segment.subject, &member.id, Some(&view.segment.name))) { "Why?" } }
                            }
                        }
                    }
                }
            }
            (pager(view, pages))
        }
    }
}

fn pager(view: &MembersView<'_>, pages: usize) -> Markup {
    let link = |page: usize| {
        let mut href = format!(
            "/segments/{}?page={page}",
            layout::encode(&view.segment.name)
        );
        if !view.search.is_empty() {
            href.push_str(&format!("&q={}", layout::encode(view.search)));
        }
        if let Some(score) = view.score {
            href.push_str(&format!("&score={}", layout::encode(score)));
        }
        href.push_str("#members");
        href
    };
    html! {
        nav.pager aria-label="Member pages" {
            @if view.page > 1 { a href=(link(view.page - 1)) rel="prev" { "← Previous" } }
            span.muted { "Page " (view.page) " of " (pages) " · " (format::grouped(view.members.matched as u64)) " members" }
            @if view.page < pages { a href=(link(view.page + 1)) rel="next" { "Next →" } }
        }
    }
}

fn feed_panel(name: &str, feed: &[ChangeView], now: i64) -> Markup {
    html! {
        section.card #live {
            h2 { "Live entries and exits " span.live #live-status aria-live="polite" { "connecting…" } }
            ol.feed #feed data-stream={"/ui/stream?definition=" (layout::encode(name))} aria-live="polite" {
                @for change in feed { (feed_item(change, now)) }
            }
            @if feed.is_empty() { p.empty #feed-empty { "No recent changes. New entries and exits appear here as they happen." } }
        }
    }
}

/// One feed line; the script builds the same markup for streamed changes.
fn feed_item(change: &ChangeView, now: i64) -> Markup {
    html! {
        li {
            @if change.change == "entered" { span.pill.good { "entered" } } @else { span.pill.bad { "exited" } }
            " " (layout::subject_link(change.subject, &change.id)) " "
            span.muted { (layout::when(change.at_ms, now)) }
        }
    }
}
