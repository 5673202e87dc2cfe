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
use bellwether_core::store::{Delivery, DeliveryFilter, MembershipRecord, Store, TraitChange};
use serde::Serialize;
use utoipa::ToSchema;

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

/// Everything stored about one contact.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContactExport {
    pub(crate) exported_at: String,
    /// As `GET /api/v1/contacts/{id}` answers it.
    pub(crate) contact: ContactView,
    /// Every recorded trait value, with when it was set.
    pub(crate) trait_history: Vec<TraitChangeView>,
    /// Oldest first.
    pub(crate) events: Vec<EventView>,
    /// Segment entries and exits and tier changes, oldest first.
    pub(crate) membership_history: Vec<MembershipChangeView>,
    /// Every change of a score's closed form, as the history API shows it.
    pub(crate) score_history: Vec<ScoreFormView>,
    /// Every webhook delivery about the contact, with its body.
    pub(crate) deliveries: Vec<DeliveryView>,
}

/// A trait value as it was set.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TraitChangeView {
    pub(crate) key: String,
    /// Any JSON value.
    pub(crate) value: serde_json::Value,
    pub(crate) at: String,
}

impl TraitChangeView {
    fn from_record(change: TraitChange) -> Self {
        Self {
            key: change.key,
            value: change.value,
            at: format_timestamp(change.at),
        }
    }
}

/// One segment entry or exit, or tier change (the history API's change
/// without the subject's name: it is the exported contact).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MembershipChangeView {
    pub(crate) at: String,
    /// `entered` or `exited`.
    pub(crate) change: &'static str,
    /// `segment` or `tier`.
    pub(crate) definition_kind: &'static str,
    pub(crate) definition: String,
    /// The tier level entered or left.
    pub(crate) level: Option<String>,
}

impl MembershipChangeView {
    fn from_record(record: MembershipRecord) -> Self {
        Self {
            at: format_timestamp(record.at),
            change: record.change.as_str(),
            definition_kind: record.definition_kind.as_str(),
            definition: record.definition,
            level: record.level,
        }
    }
}

/// Everything stored about a contact, as one JSON document.
#[utoipa::path(get, path = "/api/v1/contacts/{user_id}/export", tag = "privacy",
    params(("user_id" = String, Path, description = "userId, anonymousId or email")),
    responses((status = 200, body = ContactExport), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn export_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<ContactExport>, ApiError> {
    export_view(&state, &headers, user_id).await.map(Json)
}

/// Everything stored about the contact `user_id`, for `credentials` with
/// the admin scope.
pub(crate) async fn export_view(
    state: &AppState,
    credentials: &HeaderMap,
    user_id: String,
) -> Result<ContactExport, ApiError> {
    require_token(&state.config, credentials, Scope::Admin)?;
    let engine = state.engine.clone();
    blocking(state, move |store| -> Result<ContactExport, ApiError> {
        // Recorded history is written off the engine's path: ours first.
        engine.flush_records();
        let record = find_contact(store, &user_id)?;
        let now = engine.now();
        let contact_id = record.id;
        let merges = store.merges_into(contact_id)?;
        let keys: Vec<SubjectKey> = std::iter::once(contact_id)
            .chain(merges.iter().map(|m| m.from))
            .map(SubjectKey::Contact)
            .collect();
        let computed = Computed::from_values(engine.view().contact_values(contact_id), now)
            .with_owners(engine.owners_of(&SubjectKey::Contact(contact_id)));
        let contact = ContactView::from_record(record, merges, computed);
        let trait_history = store.contact_trait_history(contact_id)?;
        let mut memberships = Vec::new();
        let mut scores = Vec::new();
        let mut deliveries = Vec::new();
        for key in &keys {
            memberships.extend(store.subject_history(key)?);
            scores.extend(store.score_history(key)?);
            deliveries.extend(subject_deliveries(store, key)?);
        }
        memberships.sort_by_key(|r| r.at);
        Ok(ContactExport {
            exported_at: format_timestamp(now),
            contact,
            trait_history: trait_history
                .into_iter()
                .map(TraitChangeView::from_record)
                .collect(),
            events: all_events(store, contact_id)?
                .into_iter()
                .map(EventView::from_stored)
                .collect(),
            membership_history: memberships
                .into_iter()
                .map(MembershipChangeView::from_record)
                .collect(),
            score_history: scores.into_iter().map(ScoreFormView::from_record).collect(),
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryView::of(d, true))
                .collect(),
        })
    })
    .await?
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
fn subject_deliveries(store: &dyn Store, key: &SubjectKey) -> Result<Vec<Delivery>, ApiError> {
    let mut found = Vec::new();
    let mut filter = DeliveryFilter {
        subject: Some((key.kind().as_str().to_owned(), key.store_key())),
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

#[cfg(test)]
mod tests {
    use bellwether_core::store::ContactRecord;

    use super::*;

    /// The document's field names and order, and those of the rows only it
    /// has (the contact, events, scores and deliveries are the other
    /// endpoints' views).
    #[test]
    fn the_export_serializes_to_its_documented_wire_format() {
        let at = 1_767_225_600_250;
        let contact = ContactRecord {
            id: 1,
            created_at: at,
            user_ids: vec!["ann".into()],
            anonymous_ids: Vec::new(),
            emails: Vec::new(),
            account_id: None,
            account_link: None,
            revealed_by: None,
            traits: serde_json::Map::new(),
        };
        let export = ContactExport {
            exported_at: format_timestamp(at),
            contact: ContactView::from_record(contact, Vec::new(), Computed::from_values(None, at)),
            trait_history: vec![TraitChangeView::from_record(TraitChange {
                key: "plan".into(),
                value: serde_json::json!({"tier": "pro", "seats": 12}),
                at,
                seq: 3,
            })],
            events: Vec::new(),
            membership_history: vec![MembershipChangeView::from_record(MembershipRecord {
                at,
                subject: SubjectKey::Contact(1),
                label: "ann".into(),
                change: bellwether_core::subject::Transition::Entered,
                definition_kind: bellwether_core::subject::DefKind::Tier,
                definition: "stage".into(),
                level: Some("aware".into()),
            })],
            score_history: Vec::new(),
            deliveries: Vec::new(),
        };
        let json = serde_json::to_string(&export).expect("serializes");
        assert_eq!(
            json,
            concat!(
                r#"{"exported_at":"2026-01-01T00:00:00.250Z","#,
                r#""contact":{"user_id":"ann","user_ids":["ann"],"anonymous_ids":[],"emails":[],"traits":{},"account_id":null,"account_link":null,"revealed_by":null,"scores":{},"segments":[],"tiers":{},"owners":{},"created_at":"2026-01-01T00:00:00.250Z","merges":[],"identity_conflicts":[]},"#,
                r#""trait_history":[{"key":"plan","value":{"tier":"pro","seats":12},"at":"2026-01-01T00:00:00.250Z"}],"#,
                r#""events":[],"#,
                r#""membership_history":[{"at":"2026-01-01T00:00:00.250Z","change":"entered","definition_kind":"tier","definition":"stage","level":"aware"}],"#,
                r#""score_history":[],"deliveries":[]}"#,
            )
        );
    }
}
