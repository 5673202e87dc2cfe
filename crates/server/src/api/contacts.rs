//! Contacts, accounts and their event timelines.

use super::Query;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::engine::SubjectKey;
use serde::Deserialize;

use super::handler::{blocking, page_limit};
use super::subjects::find_contact;
use super::views::{AccountView, Computed, ContactView, EventPage, EventView};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::AppState;

/// A contact by user id (anonymous ids and emails resolve too).
#[utoipa::path(get, path = "/api/v1/contacts/{user_id}", tag = "query",
    params(("user_id" = String, Path, description = "userId, anonymousId or email")),
    responses((status = 200, body = ContactView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    contact_view(&state, &headers, user_id).await.map(Json)
}

/// The contact `user_id`, for `credentials` with the read scope: the REST
/// handler, the contact page, the buying committee and the MCP tools call it.
pub(crate) async fn contact_view(
    state: &AppState,
    credentials: &HeaderMap,
    user_id: String,
) -> Result<ContactView, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let engine = state.engine.clone();
    let view = blocking(state, move |store| -> Result<_, ApiError> {
        let record = find_contact(store, &user_id)?;
        let merges = store.merges_into(record.id)?;
        let computed = Computed::from_values(engine.view().contact_values(record.id), engine.now())
            .with_owners(engine.owners_of(&SubjectKey::Contact(record.id)));
        Ok(ContactView::from_record(record, merges, computed))
    })
    .await??;
    let mut view = view;
    view.identity_conflicts = super::identity::conflicts_of(state, &view.user_ids);
    Ok(view)
}

/// An account (company) with its contacts.
#[utoipa::path(get, path = "/api/v1/accounts/{group_id}", tag = "query",
    params(("group_id" = String, Path, description = "groupId (or email domain for derived accounts)")),
    responses((status = 200, body = AccountView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    account_view(&state, &headers, group_id).await.map(Json)
}

/// The account `group_id` with its contacts, for `credentials` with the
/// read scope: the REST handler, the account page and the MCP tools call it.
pub(crate) async fn account_view(
    state: &AppState,
    credentials: &HeaderMap,
    group_id: String,
) -> Result<AccountView, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let engine = state.engine.clone();
    blocking(state, move |store| -> Result<AccountView, ApiError> {
        let record = store
            .account(&group_id)?
            .ok_or_else(|| ApiError::NotFound(format!("no account with group id {group_id:?}")))?;
        let mut contacts = Vec::with_capacity(record.contact_ids.len());
        for id in &record.contact_ids {
            contacts.extend(store.contact(*id)?);
        }
        let computed =
            Computed::from_values(engine.view().account_values(&record.group_id), engine.now())
                .with_owners(
                    engine.owners_of(&SubjectKey::Account(record.group_id.as_str().into())),
                );
        Ok(AccountView::from_record(record, contacts, computed))
    })
    .await?
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PageParams {
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// A contact's events, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/{user_id}/events", tag = "query",
    params(("user_id" = String, Path, description = "userId, anonymousId or email"), PageParams),
    responses((status = 200, body = EventPage), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_contact_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<EventPage>, ApiError> {
    contact_events(&state, &headers, user_id, params)
        .await
        .map(Json)
}

/// One page of the contact's events, newest first, for `credentials` with
/// the read scope: the REST handler, the contact page's timeline and the
/// MCP tool call it.
pub(crate) async fn contact_events(
    state: &AppState,
    credentials: &HeaderMap,
    user_id: String,
    params: PageParams,
) -> Result<EventPage, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let limit = page_limit(params.limit)?;
    let before = params.cursor.as_deref().map(parse_cursor).transpose()?;
    blocking(state, move |store| -> Result<EventPage, ApiError> {
        let contact = find_contact(store, &user_id)?;
        let mut events = store.contact_events(contact.id, limit + 1, before)?;
        let next_cursor = if events.len() > limit {
            events.truncate(limit);
            events
                .last()
                .map(|e| format!("{}_{}", e.message.timestamp, e.seq))
        } else {
            None
        };
        Ok(EventPage {
            events: events.into_iter().map(EventView::from_stored).collect(),
            next_cursor,
        })
    })
    .await?
}

fn parse_cursor(cursor: &str) -> Result<(i64, i64), ApiError> {
    let invalid = || ApiError::InvalidField {
        field: "cursor".into(),
        reason: "not a cursor returned by this endpoint".into(),
    };
    let (time, seq) = cursor.split_once('_').ok_or_else(invalid)?;
    Ok((
        time.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    ))
}
