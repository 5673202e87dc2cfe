//! `GET /api/v1/contacts/{id}/export` (SPEC §7): a subject-access request,
//! everything stored about one contact as one JSON document: identity,
//! traits with their history, every event, membership and score history,
//! current values and every webhook delivery about it.
//!
//! Built in memory (one contact's data), from the same store reads the
//! other endpoints use; contacts merged into this one are included (their
//! data was folded into it).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::engine::SubjectKey;
use bellwether_core::message::{ContactId, StoredEvent};
use bellwether_core::store::{Delivery, DeliveryFilter, Store};
use serde_json::{json, Value};

use super::deliveries::DeliveryView;
use super::handler::blocking;
use super::history::ScoreFormView;
use super::subjects::find_contact;
use super::views::{Computed, ContactView, EventView};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// Rows read per store call while collecting events and deliveries.
const PAGE: usize = 5_000;

/// Everything stored about a contact, as one JSON document.
#[utoipa::path(get, path = "/api/v1/contacts/{user_id}/export", tag = "privacy",
    params(("user_id" = String, Path, description = "userId, anonymousId or email")),
    responses((status = 200, description = "`{\"exported_at\", \"contact\" (as GET /api/v1/contacts/{id}), \"trait_history\": [{key, value, at}], \"events\": [event, oldest first], \"membership_history\": [change], \"score_history\": [score form], \"deliveries\": [delivery with body]}`", body = Object),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn export_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    let engine = state.engine.clone();
    let document = blocking(&state, move |store| -> Result<Value, ApiError> {
        // Recorded history is written off the engine's path: ours first.
        engine.flush_records();
        let record = find_contact(store, &user_id)?;
        let now = engine.now();
        let contact_id = record.id;
        let merges = store.merges_into(contact_id)?;
        let keys: Vec<String> = std::iter::once(contact_id)
            .chain(merges.iter().map(|m| m.from))
            .map(|id| id.to_string())
            .collect();
        let computed = Computed::from_values(engine.view().contact_values(contact_id), now)
            .with_owners(engine.owners_of(&SubjectKey::Contact(contact_id)));
        let contact = ContactView::from_record(record, merges, computed);
        let trait_history: Vec<Value> = store
            .contact_trait_history(contact_id)?
            .into_iter()
            .map(|t| json!({"key": t.key, "value": t.value, "at": format_timestamp(t.at)}))
            .collect();
        let mut memberships = Vec::new();
        let mut scores = Vec::new();
        let mut deliveries = Vec::new();
        for key in &keys {
            memberships.extend(store.subject_history("contact", key)?);
            scores.extend(store.score_history("contact", key)?);
            deliveries.extend(subject_deliveries(store, key)?);
        }
        memberships.sort_by_key(|r| r.at);
        let memberships: Vec<Value> = memberships
            .into_iter()
            .map(|r| {
                json!({"at": format_timestamp(r.at), "change": r.change, "definition_kind": r.definition_kind,
                       "definition": r.definition, "level": r.level})
            })
            .collect();
        let events: Vec<EventView> = all_events(store, contact_id)?
            .into_iter()
            .map(EventView::from_stored)
            .collect();
        Ok(json!({
            "exported_at": format_timestamp(now),
            "contact": contact,
            "trait_history": trait_history,
            "events": events,
            "membership_history": memberships,
            "score_history": scores.into_iter().map(ScoreFormView::from_record).collect::<Vec<_>>(),
            "deliveries": deliveries
                .into_iter()
                .map(|d| DeliveryView::of(d, true))
                .collect::<Vec<_>>(),
        }))
    })
    .await??;
    Ok(Json(document))
}

/// Every event of the contact, oldest first.
fn all_events(store: &dyn Store, contact: ContactId) -> Result<Vec<StoredEvent>, ApiError> {
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut before = None;
    loop {
        let page = store.contact_events(contact, PAGE, before)?;
        let full = page.len() == PAGE;
        before = page.last().map(|e| (e.message.timestamp, e.seq));
        events.extend(page);
        if !full {
            break;
        }
    }
    events.reverse();
    Ok(events)
}

/// Every delivery about one contact number, newest first.
fn subject_deliveries(store: &dyn Store, key: &str) -> Result<Vec<Delivery>, ApiError> {
    let mut found = Vec::new();
    let mut filter = DeliveryFilter {
        subject: Some(("contact".to_owned(), key.to_owned())),
        ..DeliveryFilter::default()
    };
    loop {
        let page = store.deliveries(&filter, PAGE)?;
        let full = page.len() == PAGE;
        filter.before = page.last().map(|(seq, _)| *seq);
        found.extend(page.into_iter().map(|(_, delivery)| delivery));
        if !full {
            break;
        }
    }
    Ok(found)
}
