//! `/contacts/{user_id}`: identity (ids, merges), traits, account link,
//! scores with a chart over time, segments and tiers each with its
//! explanation tree, membership history, and the event timeline (filter by
//! type, paged).

use crate::api::Query;
use axum::extract::{Path, State};
use bellwether_rules::SubjectKind;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Viewer;
use super::layout::{self, Nav};
use super::subject::{self, Current, Memberships};
use super::{format, Page, UiState};
use crate::api::contacts::{self, PageParams};
use crate::api::handler::blocking;
use crate::api::history::history_view;
use crate::api::subjects::find_contact;
use crate::api::views::{ContactView, EventView};

const EVENTS_PAGE: usize = 25;
/// Fetches per timeline page when filtering by type (each fetches at most
/// what is still missing, so no page overshoots its cursor).
const MAX_FETCHES: usize = 20;

#[derive(Debug, Deserialize)]
pub(crate) struct ContactParams {
    /// A segment or tier whose explanation starts open.
    explain: Option<String>,
    /// Only events of this type (`track`, `page`, `identify`, …).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Timeline cursor (older events).
    before: Option<String>,
}

pub(crate) async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Path(user_id): Path<String>,
    Query(params): Query<ContactParams>,
) -> Page {
    let app = &ui.app;
    let contact = contacts::contact_view(app, &viewer.headers, user_id.clone()).await?;
    let history = history_view(app, &viewer.headers, SubjectKind::Contact, user_id.clone()).await?;
    let record_id = {
        let id = user_id.clone();
        blocking(app, move |store| find_contact(store, &id))
            .await??
            .id
    };
    let memberships = Memberships::load(
        &ui,
        &viewer,
        Current {
            subject: SubjectKind::Contact,
            id: &user_id,
            member_of: &contact.segments,
            levels: &contact.tiers,
        },
        &history,
        |engine, tier, now| engine.explain_contact_tier(record_id, tier, now),
    )
    .await?;
    let kind = params.kind.as_deref().filter(|k| !k.is_empty());
    let (events, next) = timeline(&ui, &viewer, &user_id, kind, params.before.clone()).await?;
    let now = app.engine.now();
    let title = contact
        .user_id
        .clone()
        .or_else(|| contact.emails.first().cloned())
        .or_else(|| contact.anonymous_ids.first().cloned())
        .unwrap_or_else(|| user_id.clone());
    let open = params.explain.as_deref();
    let body = html! {
        (layout::heading("Contact", &title, html! {
            @if let Some(account) = &contact.account_id {
                a.button href=(layout::subject_href("account", account, None)) { "Account: " (account) }
            }
        }))
        (subject::score_stats(&contact.scores, &contact.segments, &contact.tiers))
        div.columns {
            div.wide {
                (subject::score_charts(&history, now))
                (memberships.segments_card(open, now))
                (memberships.tiers_card(open, now))
                (timeline_card(&user_id, &events, kind, next.as_deref(), now))
            }
            aside.side {
                (identity_card(&contact, now))
                (subject::traits_card("Traits", &contact.traits))
                (subject::history_card(&history, now))
            }
        }
    };
    Ok(layout::page(&title, Nav::Detail, Some(&viewer), body))
}

/// One page of the timeline, newest first, optionally of one event type.
async fn timeline(
    ui: &UiState,
    viewer: &Viewer,
    user_id: &str,
    kind: Option<&str>,
    mut cursor: Option<String>,
) -> Result<(Vec<EventView>, Option<String>), super::PageError> {
    let mut events = Vec::new();
    for _ in 0..MAX_FETCHES {
        let params = PageParams {
            limit: Some(EVENTS_PAGE - events.len()),
            cursor: cursor.take(),
        };
        let page =
            contacts::contact_events(&ui.app, &viewer.headers, user_id.to_owned(), params).await?;
        events.extend(
            page.events
                .into_iter()
                .filter(|e| kind.is_none_or(|k| e.kind == k)),
        );
        cursor = page.next_cursor;
        if cursor.is_none() || events.len() >= EVENTS_PAGE {
            break;
        }
    }
    Ok((events, cursor))
}

fn identity_card(contact: &ContactView, now: i64) -> Markup {
    let ids = |label: &str, list: &[String]| {
        html! {
            dt { (label) }
            dd { @if list.is_empty() { span.muted { "none" } } @else { @for id in list { code.id { (id) } " " } } }
        }
    };
    html! {
        section.card {
            h2 { "Identity" }
            dl.facts {
                (ids("User ids", &contact.user_ids))
                (ids("Anonymous ids", &contact.anonymous_ids))
                (ids("Emails", &contact.emails))
                dt { "First seen" }
                dd { @match format::parse_time(&contact.created_at) { Some(at) => (layout::when(at, now)), None => "–" } }
                dt { "Account" }
                dd {
                    @match &contact.account_id { Some(a) => (layout::subject_link("account", a)), None => span.muted { "none" } }
                    @match (contact.account_link, &contact.revealed_by) {
                        (Some("ip"), Some(network)) => { " " span.pill.subject title="The visitor's IP address lies in this network of an [[enrichment]] kind = \"ip\" table" { "revealed by IP" } " " span.muted.small { code { (network) } } }
                        (Some("email_domain"), _) => { " " span.muted.small { "by email domain" } }
                        _ => {}
                    }
                }
                @if !contact.owners.is_empty() {
                    dt { "Owners" }
                    dd { @for (segment, owner) in &contact.owners { (owner) span.muted.small { " for " (segment) } br; } }
                }
            }
            @if !contact.merges.is_empty() {
                h3 { "Merges" }
                ul.plain {
                    @for merge in &contact.merges {
                        li {
                            (merge.reason) " merge "
                            @if let Some(at) = format::parse_time(&merge.at) { (layout::when(at, now)) }
                            span.muted.small { " message " code { (merge.message_id) } }
                        }
                    }
                }
            }
            (conflicts_list(contact, now))
        }
    }
}

/// SPEC §7: anonymous ids and emails shared with other users, who held each
/// from when (links between users are refused, not merged).
fn conflicts_list(contact: &ContactView, now: i64) -> Markup {
    html! {
        @if !contact.identity_conflicts.is_empty() {
            h3 #identity-conflicts { "Shared identifiers" }
            p.muted.small { "Also used by other users: each message goes to whoever held the id at its time." }
            ul.plain {
                @for conflict in &contact.identity_conflicts {
                    li {
                        (conflict.kind) " " code.id { (conflict.value) }
                        span.muted.small { " " (format::plural(conflict.claims as i64, "claim")) }
                        ul.plain {
                            @for holder in &conflict.holders {
                                li {
                                    (layout::subject_link("contact", &holder.user_id))
                                    " from "
                                    @match format::parse_time(&holder.from) { Some(at) => (layout::when(at, now)), None => (holder.from) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

const EVENT_TYPES: [&str; 6] = ["track", "page", "screen", "identify", "group", "alias"];

fn timeline_card(
    user_id: &str,
    events: &[EventView],
    kind: Option<&str>,
    next: Option<&str>,
    now: i64,
) -> Markup {
    let base = format!("/contacts/{}", layout::encode(user_id));
    html! {
        section.card #timeline {
            h2 { "Timeline" }
            form.toolbar method="get" action=(base) {
                label for="type" { "Event type" }
                select #type name="type" {
                    option value="" selected[kind.is_none()] { "All types" }
                    @for t in EVENT_TYPES { option value=(t) selected[kind == Some(t)] { (t) } }
                }
                button type="submit" { "Filter" }
            }
            @if events.is_empty() {
                (layout::empty("No events here."))
            } @else {
                table.data {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Type" } th scope="col" { "Event" } th scope="col" { "Properties" } } }
                    tbody {
                        @for event in events {
                            tr {
                                td.nowrap { @match format::parse_time(&event.timestamp) { Some(at) => (layout::when(at, now)), None => (event.timestamp) } }
                                td { (layout::pill(&event.kind, "subject")) }
                                td { (event_name(event.event.as_deref(), &event.properties, None)) }
                                td.props { (properties(&event.properties)) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                nav.pager aria-label="Timeline pages" {
                    a href=(older_href(&base, next, kind)) rel="next" { "Older events →" }
                }
            }
        }
    }
}

/// What an event is called: the track event or page name, else the page
/// path, else the group id.
pub(crate) fn event_name(
    name: Option<&str>,
    properties: &serde_json::Map<String, Value>,
    group_id: Option<&str>,
) -> String {
    name.map(str::to_owned)
        .or_else(|| {
            properties
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or_else(|| group_id.map(str::to_owned))
        .unwrap_or_else(|| "–".to_owned())
}

fn older_href(base: &str, next: &str, kind: Option<&str>) -> String {
    let mut href = format!("{base}?before={}", layout::encode(next));
    if let Some(kind) = kind {
        href.push_str(&format!("&type={}", layout::encode(kind)));
    }
    href.push_str("#timeline");
    href
}

/// `key: value` pairs, the first few.
fn properties(map: &serde_json::Map<String, Value>) -> Markup {
    html! {
        @for (key, value) in map.iter().take(4) {
            span.prop { span.muted { (key) ": " } (format::json_text(value)) }
        }
        @if map.len() > 4 { span.muted { "+" (map.len() - 4) } }
    }
}
