//! Webhook panels: each destination's backlog, dead letters and state on
//! the dashboard, and a segment's recent deliveries on its page. They read
//! the same handlers as `/api/v1/destinations` and `/api/v1/deliveries`.

use crate::api::Query;
use axum::extract::State;
use axum::Json;
use maud::{html, Markup};
use serde_json::Value;

use super::auth::Viewer;
use super::{format, layout, PageError};
use crate::api::deliveries::{self, DeliveryQuery};
use crate::AppState;

/// How many of a segment's deliveries its page lists.
const RECENT: usize = 8;

/// Destinations with pending and dead deliveries (dashboard side panel).
pub(crate) async fn destinations_panel(
    app: &AppState,
    viewer: &Viewer,
) -> Result<Markup, PageError> {
    let Json(list) =
        deliveries::list_destinations(State(app.clone()), viewer.headers.clone()).await?;
    let list = serde_json::to_value(&list).unwrap_or(Value::Null);
    let destinations = list["destinations"].as_array().cloned().unwrap_or_default();
    Ok(html! {
        section.card #destinations {
            h2 { "Destinations" }
            @if destinations.is_empty() {
                p.muted.small { "No webhooks yet: add a " code { "[[destination]]" } " to the configuration." }
            } @else {
                table.data.compact {
                    thead { tr { th { "Name" } th.num { "Waiting" } th.num { "Dead" } th { "State" } } }
                    tbody {
                        @for d in &destinations {
                            tr {
                                td title=(d["url"].as_str().unwrap_or("")) { (d["name"].as_str().unwrap_or("")) }
                                td.num { (format::count(d["pending"].as_u64().unwrap_or(0))) }
                                td.num { (format::count(d["dead"].as_u64().unwrap_or(0))) }
                                td { (state_pill(d)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn state_pill(destination: &Value) -> Markup {
    if destination["disabled"].is_object() {
        return layout::pill("disabled (410)", "bad");
    }
    match destination["dead"].as_u64().unwrap_or(0) {
        0 => layout::pill("ok", "good"),
        _ => layout::pill("dead letters", "muted"),
    }
}

/// A segment's latest deliveries, newest first (segment side panel).
pub(crate) async fn segment_panel(
    app: &AppState,
    viewer: &Viewer,
    segment: &str,
    now: i64,
) -> Result<Option<Markup>, PageError> {
    if !app
        .config
        .destination
        .iter()
        .any(|d| d.segments.iter().any(|s| s == segment))
    {
        return Ok(None);
    }
    let Json(page) = deliveries::list_deliveries(
        State(app.clone()),
        viewer.headers.clone(),
        Query(DeliveryQuery::of_definition(segment, RECENT)),
    )
    .await?;
    let page = serde_json::to_value(&page).unwrap_or(Value::Null);
    let rows = page["deliveries"].as_array().cloned().unwrap_or_default();
    Ok(Some(html! {
        section.card #deliveries {
            h2 { "Deliveries" }
            @if rows.is_empty() {
                p.muted.small { "Nothing sent yet." }
            } @else {
                ol.feed {
                    @for d in &rows {
                        li {
                            (delivery_pill(d))
                            " "
                            (layout::subject_link(d["subject_kind"].as_str().unwrap_or("contact"), d["subject"].as_str().unwrap_or("")))
                            " " (d["change"].as_str().unwrap_or("")) " → " (d["destination"].as_str().unwrap_or(""))
                            @if let Some(at) = d["at"].as_str().and_then(format::parse_time) {
                                " · " (layout::when(at, now))
                            }
                            @if let Some(error) = d["last_error"].as_str() {
                                br; span.muted.small { (error) " (" (d["attempts"].as_u64().unwrap_or(0)) " attempts)" }
                            }
                        }
                    }
                }
            }
            p.muted.small { "Dead letters: " code { "GET /api/v1/dead-letters" } ", replay with " code { "bellwether dead-letters" } "." }
        }
    }))
}

fn delivery_pill(delivery: &Value) -> Markup {
    match delivery["state"].as_str() {
        Some("delivered") => layout::pill("sent", "good"),
        Some("dead") => layout::pill("dead", "bad"),
        _ => layout::pill("waiting", "muted"),
    }
}
