//! Webhook panels: each destination's backlog, dead letters and state on
//! the dashboard, and a segment's recent deliveries on its page. They call
//! the typed queries behind `/api/v1/destinations` and `/api/v1/deliveries`.

use bellwether_core::store::DeliveryState;
use maud::{html, Markup};

use super::auth::Viewer;
use super::{format, layout, PageError};
use crate::api::deliveries::{
    deliveries_view, destinations_view, DeliveryQuery, DeliveryView, DestinationView,
};
use crate::AppState;

/// How many of a segment's deliveries its page lists.
const RECENT: usize = 8;

/// Destinations with pending and dead deliveries (dashboard side panel).
pub(crate) async fn destinations_panel(
    app: &AppState,
    viewer: &Viewer,
) -> Result<Markup, PageError> {
    let destinations = destinations_view(app, &viewer.headers).await?.destinations;
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
                                td title=(d.url) { (d.name) }
                                td.num { (format::count(d.pending)) }
                                td.num { (format::count(d.dead)) }
                                td { (state_pill(d)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn state_pill(destination: &DestinationView) -> Markup {
    if destination.disabled.is_some() {
        return layout::pill("disabled (410)", "bad");
    }
    match destination.dead {
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
    let rows = deliveries_view(
        app,
        &viewer.headers,
        DeliveryQuery::of_definition(segment, RECENT),
    )
    .await?
    .deliveries;
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
                            (layout::subject_link(&d.subject_kind, &d.subject))
                            " " (d.change) " → " (d.destination)
                            " · " (layout::when(d.at_ms, now))
                            @if let Some(error) = &d.last_error {
                                br; span.muted.small { (error) " (" (d.attempts) " attempts)" }
                            }
                        }
                    }
                }
            }
            p.muted.small { "Dead letters: " code { "GET /api/v1/dead-letters" } ", replay with " code { "bellwether dead-letters" } "." }
        }
    }))
}

fn delivery_pill(delivery: &DeliveryView) -> Markup {
    match delivery.state {
        DeliveryState::Delivered => layout::pill("sent", "good"),
        DeliveryState::Dead => layout::pill("dead", "bad"),
        DeliveryState::Pending => layout::pill("waiting", "muted"),
    }
}
