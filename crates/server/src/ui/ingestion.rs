//! `/ingestion`: throughput (events received per minute over the last
//! hour), counts since start per source, the most recent events, rejected
//! messages with the field at fault and the reason, the retention policy
//! with the oldest event kept, and enrichment coverage.

use crate::api::Query;
use axum::extract::State;
use axum::Json;
use bellwether_core::message::StoredEvent;
use bellwether_core::Store;
use maud::{html, Markup};

use super::auth::Viewer;
use super::chart::{self, Bar};
use super::layout::{self, Nav};
use super::{format, Page, UiState};
use crate::api::enrichment::EnrichmentView;
use crate::api::handler::blocking;
use crate::api::ingestion::{self, ListParams, RejectionView, RetentionView};
use crate::error::ApiError;
use crate::metrics::SourceLabels;

/// Recent events read for the throughput chart.
const WINDOW: usize = 2_000;
/// Recent events listed.
const LISTED: usize = 25;
const MINUTE_MS: i64 = 60_000;
const MINUTES: i64 = 60;

pub(crate) async fn page(State(ui): State<UiState>, viewer: Viewer) -> Page {
    let app = &ui.app;
    let engine = app.engine.clone();
    let newest = engine.view_async().await.position();
    let (total, recent) = blocking(app, move |store| recent_events(store, newest)).await??;
    let Json(retention) = ingestion::retention(State(app.clone()), viewer.headers.clone()).await?;
    let Json(rejections) = ingestion::list_errors(
        State(app.clone()),
        viewer.headers.clone(),
        Query(ListParams { limit: Some(50) }),
    )
    .await?;
    let enrichment = if app.config.identity.enrichment.is_configured() {
        Some(crate::api::enrichment::view(app))
    } else {
        None
    };
    let now = app.engine.now();
    let sources: Vec<(String, u64, u64, u64)> = app
        .config
        .source
        .iter()
        .map(|s| {
            let labels = SourceLabels {
                source: s.name.clone(),
            };
            let metrics = &app.metrics;
            (
                s.name.clone(),
                metrics.events_ingested.get_or_create(&labels).get(),
                metrics.events_duplicate.get_or_create(&labels).get(),
                metrics.events_rejected.get_or_create(&labels).get(),
            )
        })
        .collect();
    let (bars, last_hour, complete) = throughput(&recent, now);
    let body = html! {
        (layout::heading("Data in", "Ingestion", html! {}))
        div.stats {
            (layout::stat("Events stored", &format::count(total), Some(&format::grouped(total))))
            (layout::stat("Last hour", &format!("{}{}", if complete { "" } else { "≥ " }, format::count(last_hour)), Some("events received")))
            (layout::stat("Write queue", &format::count(app.ingestor.pending() as u64), Some("messages waiting")))
            (layout::stat("Rejected", &format::count(rejections.errors.len() as u64), Some("recent messages")))
        }
        div.columns {
            div.wide {
                section.card {
                    h2 { "Throughput" }
                    (chart::bar_chart("Events received per minute, last hour", "per minute", &bars, MINUTE_MS))
                    @if !complete { p.muted.small { "Busy hour: the chart counts the latest " (format::grouped(WINDOW as u64)) " events only." } }
                }
                section.card #recent {
                    h2 { "Recent events" }
                    (events_table(&recent, now))
                }
                section.card #rejected {
                    h2 { "Rejected messages" }
                    (rejections_table(&rejections.errors, now))
                }
            }
            aside.side {
                (retention_card(&retention))
                (enrichment_card(enrichment.as_ref()))
                section.card {
                    h2 { "Since this server started" }
                    table.data.compact {
                        thead { tr { th scope="col" { "Source" } th.num scope="col" { "Stored" } th.num scope="col" { "Duplicates" } th.num scope="col" { "Rejected" } } }
                        tbody {
                            @for (name, stored, duplicates, rejected) in &sources {
                                tr { td { (name) } td.num { (format::count(*stored)) } td.num { (format::count(*duplicates)) } td.num { (format::count(*rejected)) } }
                            }
                        }
                    }
                    p.muted.small { "Counters reset when the server restarts; /metrics has them for Prometheus." }
                }
            }
        }
    };
    Ok(layout::page(
        "Ingestion",
        Nav::Ingestion,
        Some(&viewer),
        body,
    ))
}

/// The retention policy, the oldest event kept and what was deleted.
fn retention_card(view: &RetentionView) -> Markup {
    html! {
        section.card #retention {
            h2 { "Retention" }
            @match &view.events {
                Some(events) => p {
                    "Track, page and screen events are kept for " strong { (events) }
                    "; older ones are deleted every " (view.every) ". Identify, group and alias messages stay until the contact is deleted."
                },
                None => p { "Events are kept forever. Set " code { "[retention] events = \"400d\"" } " to delete older ones." },
            }
            table.data.compact {
                tbody {
                    tr { th scope="row" { "Oldest event kept" } td { (view.oldest_event.as_deref().unwrap_or("none")) } }
                    @if let Some(cutoff) = &view.cutoff {
                        tr { th scope="row" { "Deleting events before" } td { (cutoff) } }
                    }
                    tr { th scope="row" { "Deleted since start" } td.num { (format::count(view.deleted_since_start)) } }
                }
            }
        }
    }
}

/// What the `[[enrichment]]` tables hold and cover.
fn enrichment_card(view: Option<&EnrichmentView>) -> Markup {
    let Some(view) = view else {
        return html! {
            section.card #enrichment {
                h2 { "Enrichment" }
                p.muted { "No tables. Add " code { "[[enrichment]] kind = \"domains\"" } " (company traits by domain) or "
                    code { "kind = \"ip\"" } " (accounts of anonymous visitors by IP) to the config." }
            }
        };
    };
    let coverage = &view.coverage;
    html! {
        section.card #enrichment {
            h2 { "Enrichment" }
            table.data.compact {
                thead { tr { th scope="col" { "Table" } th scope="col" { "Kind" } th.num scope="col" { "Rows" } } }
                tbody {
                    @for table in &view.tables {
                        tr {
                            td { (table.name) @if let Some(file) = &table.file { br; span.muted.small { code { (file) } } } }
                            td { (table.kind) }
                            td.num { (format::count(table.rows as u64)) }
                        }
                    }
                }
            }
            table.data.compact {
                tbody {
                    tr { th scope="row" { "Accounts enriched" } td.num { (format::count(coverage.accounts_enriched as u64)) " of " (format::count(coverage.accounts_with_domain as u64)) } }
                    tr { th scope="row" { "Domains no table lists" } td.num { (format::count(coverage.domain_misses as u64)) } }
                    tr { th scope="row" { "Visitors revealed by IP" } td.num { (format::count(coverage.visitors_revealed as u64)) } }
                    tr { th scope="row" { "Addresses in no network" } td.num { (format::count(coverage.ip_misses)) } }
                }
            }
            @if let Some(provider) = &view.provider {
                p.small {
                    "Provider " strong { (provider.name) } ": "
                    (format::count(provider.answered)) " answered, "
                    (format::count(provider.not_found)) " unknown, "
                    (format::count(provider.failed)) " failed since start"
                    @if let Some(error) = &provider.last_error { br; span.muted { "Last failure: " (error) } }
                }
            }
            p.muted.small { "Edit a table, then send " code { "SIGHUP" } " or " code { "POST /api/v1/enrichment/reload" } ": only the accounts whose traits change are updated." }
        }
    }
}

/// The event count and the latest `WINDOW` events up to sequence number
/// `newest`, oldest first.
fn recent_events(store: &dyn Store, newest: i64) -> Result<(u64, Vec<StoredEvent>), ApiError> {
    let total = store.event_count()?;
    Ok((total, newest_events(store, newest, WINDOW)?))
}

/// The newest `count` stored events up to sequence number `newest`, oldest
/// first. Deletions (retention, a deleted contact) leave gaps, so the scan
/// starts `count` numbers before the newest and reads on until the end.
pub(crate) fn newest_events(
    store: &dyn Store,
    newest: i64,
    count: usize,
) -> Result<Vec<StoredEvent>, ApiError> {
    let mut after = newest.saturating_sub(count as i64).max(0);
    let mut events: Vec<StoredEvent> = Vec::new();
    loop {
        let batch = store.scan_events(after, count)?;
        let full = batch.len() == count;
        after = batch.last().map_or(after, |e| e.seq);
        events.extend(batch);
        if !full {
            break;
        }
    }
    let keep = events.len().saturating_sub(count);
    events.drain(..keep);
    Ok(events)
}

/// Bars per minute of receipt over the last hour, the hour's total, and
/// whether the window reached back a whole hour.
fn throughput(events: &[StoredEvent], now: i64) -> (Vec<Bar>, u64, bool) {
    let first_minute = now.div_euclid(MINUTE_MS) - MINUTES + 1;
    let mut counts = vec![0u64; MINUTES as usize];
    for event in events {
        let index = event.message.received_at.div_euclid(MINUTE_MS) - first_minute;
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
            *slot += 1;
        }
    }
    let complete = events.len() < WINDOW
        || events
            .first()
            .is_some_and(|e| e.message.received_at < first_minute * MINUTE_MS);
    let total = counts.iter().sum();
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, n)| Bar {
            at: (first_minute + i as i64) * MINUTE_MS,
            up: *n as f64,
            down: 0.0,
        })
        .collect();
    (bars, total, complete)
}

fn events_table(events: &[StoredEvent], now: i64) -> Markup {
    if events.is_empty() {
        return layout::empty("No events yet. Point a Segment SDK at this server's /v1/batch.");
    }
    html! {
        table.data {
            thead { tr { th scope="col" { "Received" } th scope="col" { "Type" } th scope="col" { "Event" } th scope="col" { "Who" } th scope="col" { "Source" } } }
            tbody {
                @for event in events.iter().rev().take(LISTED) {
                    @let message = &event.message;
                    tr {
                        td.nowrap { (layout::when(message.received_at, now)) }
                        td { (layout::pill(message.kind.as_str(), "subject")) }
                        td { (super::contact::event_name(message.event.as_deref(), &message.properties, message.group_id.as_deref())) }
                        td { @match message.user_id.as_deref().or(message.anonymous_id.as_deref()) {
                            Some(id) => (layout::subject_link("contact", id)), None => span.muted { "–" } } }
                        td { (message.source) }
                    }
                }
            }
        }
    }
}

fn rejections_table(rejections: &[RejectionView], now: i64) -> Markup {
    if rejections.is_empty() {
        return layout::empty("No rejected messages. Invalid messages in a batch are listed here with the field at fault.");
    }
    html! {
        table.data {
            thead { tr { th scope="col" { "Received" } th scope="col" { "Source" } th scope="col" { "Field" } th scope="col" { "Reason" } th scope="col" { "Message" } } }
            tbody {
                @for r in rejections {
                    tr {
                        td.nowrap { @match format::parse_time(&r.received_at) { Some(at) => (layout::when(at, now)), None => (r.received_at) } }
                        td { (r.source.as_deref().unwrap_or("–")) }
                        td { code { (r.field) } }
                        td { (r.reason) }
                        td.props { code.excerpt { (r.excerpt) } }
                    }
                }
            }
        }
    }
}
