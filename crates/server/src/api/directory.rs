//! `GET /api/v1/contacts` and `GET /api/v1/accounts` (SPEC §7): search by
//! id, email, name or domain, filter by segment or tier level, order by id
//! or `sort=score:NAME` (highest first), keyset pages with an opaque cursor.
//!
//! The engine answers from memory ([`bellwether_core::engine::View::directory`]);
//! this module parses and checks the parameters against the definitions
//! and shapes the JSON.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;
use bellwether_core::config::Scope;
use bellwether_core::engine::{
    DirectoryEntry, DirectoryOrder, DirectoryPage, DirectoryPosition, DirectoryQuery, View,
};
use bellwether_core::message::Millis;
use bellwether_rules::SubjectKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::page_limit;
use super::views::Computed;
use super::Query;
use crate::auth::require_token;
use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct DirectoryParams {
    /// Case-insensitive text in the id, email, name or domain.
    pub(crate) q: Option<String>,
    /// Only members of this segment (of the same kind of subject).
    pub(crate) segment: Option<String>,
    /// Only subjects at one level of a tier: `TIER:LEVEL` (e.g. `intent_level:high`).
    pub(crate) tier: Option<String>,
    /// `id` (default, ascending) or `score:NAME` (highest first, then id).
    pub(crate) sort: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<usize>,
    /// `next_cursor` of the previous page (same `sort`).
    pub(crate) cursor: Option<String>,
}

/// A contact in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContactRow {
    /// User id, else anonymous id: the id `GET /api/v1/contacts/{id}` takes.
    pub(crate) id: String,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) scores: std::collections::BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContactList {
    pub(crate) contacts: Vec<ContactRow>,
    /// How many contacts match the search and filters in all.
    pub(crate) matched: usize,
    /// Pass as `cursor` (with the same parameters) for the next page; `null` at the end.
    pub(crate) next_cursor: Option<String>,
}

/// An account in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountRow {
    /// The group id (or email domain of a derived account).
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    /// The `domain` trait.
    pub(crate) domain: Option<String>,
    pub(crate) scores: std::collections::BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountList {
    pub(crate) accounts: Vec<AccountRow>,
    /// How many accounts match the search and filters in all.
    pub(crate) matched: usize,
    /// Pass as `cursor` (with the same parameters) for the next page; `null` at the end.
    pub(crate) next_cursor: Option<String>,
}

/// Contacts found by a search, filtered and ordered.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "query", params(DirectoryParams),
    responses((status = 200, body = ContactList), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_contacts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<DirectoryParams>,
) -> Result<Json<ContactList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let (page, next_cursor, now) = run(&state, SubjectKind::Contact, params).await?;
    let contacts = page
        .entries
        .into_iter()
        .map(|entry| {
            let computed = Computed::from_values(Some(&entry.values), now);
            ContactRow {
                id: entry.id,
                email: entry.email,
                name: entry.name,
                account_id: entry.domain,
                scores: computed.scores,
                segments: computed.segments,
                tiers: computed.tiers,
            }
        })
        .collect();
    Ok(Json(ContactList {
        contacts,
        matched: page.matched,
        next_cursor,
    }))
}

/// Accounts found by a search, filtered and ordered.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "query", params(DirectoryParams),
    responses((status = 200, body = AccountList), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<DirectoryParams>,
) -> Result<Json<AccountList>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    let (page, next_cursor, now) = run(&state, SubjectKind::Account, params).await?;
    let accounts = page
        .entries
        .into_iter()
        .map(|entry| {
            let computed = Computed::from_values(Some(&entry.values), now);
            AccountRow {
                id: entry.id,
                name: entry.name,
                domain: entry.domain,
                scores: computed.scores,
                segments: computed.segments,
                tiers: computed.tiers,
            }
        })
        .collect();
    Ok(Json(AccountList {
        accounts,
        matched: page.matched,
        next_cursor,
    }))
}

/// Checks the parameters and lists one page off the async runtime (a
/// search reads every subject of the kind), with the instant its scores
/// are valued at.
///
/// Decaying scores fall between two requests, so a score order is keyed
/// at one instant: the first page's, carried in the cursor. Later pages
/// rank (and show) scores as of it, so none is skipped or repeated.
async fn run(
    state: &AppState,
    kind: SubjectKind,
    params: DirectoryParams,
) -> Result<(DirectoryPage, Option<String>, Millis), ApiError> {
    let limit = page_limit(params.limit)?;
    let handle = state.engine.clone();
    tokio::task::spawn_blocking(move || {
        let now = handle.now();
        let engine = handle.view();
        let checked = Checked::new(&engine, kind, &params, now)?;
        let now = checked.at;
        let query = DirectoryQuery {
            kind,
            search: params.q.as_deref(),
            segment: params.segment.as_deref(),
            tier: checked.tier,
            order: checked.order,
            after: checked.after,
            limit,
            now,
        };
        let page = engine.directory(&query);
        let next_cursor = page
            .more
            .then(|| {
                page.entries
                    .last()
                    .map(|last| encode_cursor(&checked.sort, now, last))
            })
            .flatten();
        Ok((page, next_cursor, now))
    })
    .await?
}

/// The parameters checked against the definitions in force.
struct Checked<'p> {
    tier: Option<(&'p str, &'p str)>,
    order: DirectoryOrder<'p>,
    /// The sort as given (`id` by default): cursors carry it.
    sort: String,
    after: Option<DirectoryPosition>,
    /// The instant scores are valued at: the cursor's, else now.
    at: Millis,
}

impl<'p> Checked<'p> {
    fn new(
        engine: &View,
        kind: SubjectKind,
        params: &'p DirectoryParams,
        now: Millis,
    ) -> Result<Self, ApiError> {
        let definitions = engine.rules().definitions();
        if let Some(segment) = &params.segment {
            match engine.segment_subject(segment) {
                Some(found) if found == kind => {}
                Some(found) => {
                    return Err(invalid(
                        "segment",
                        format!("segment {segment:?} is for {}s", found.as_str()),
                    ))
                }
                None => return Err(invalid("segment", format!("no segment named {segment:?}"))),
            }
        }
        let tier = match params.tier.as_deref() {
            None => None,
            Some(text) => {
                let (name, level) = text.split_once(':').ok_or_else(|| {
                    invalid("tier", "expected TIER:LEVEL, e.g. intent_level:high")
                })?;
                let tier = definitions
                    .tier
                    .iter()
                    .find(|t| t.name == name && t.subject == kind)
                    .ok_or_else(|| {
                        invalid("tier", format!("no {} tier named {name:?}", kind.as_str()))
                    })?;
                if !tier.levels.iter().any(|l| l.name == level) {
                    return Err(invalid(
                        "tier",
                        format!("tier {name:?} has no level {level:?}"),
                    ));
                }
                Some((name, level))
            }
        };
        let sort = params.sort.clone().unwrap_or_else(|| "id".to_owned());
        let order = match params.sort.as_deref() {
            None | Some("id") => DirectoryOrder::Id,
            Some(text) => {
                let name = text
                    .strip_prefix("score:")
                    .ok_or_else(|| invalid("sort", "expected id or score:NAME"))?;
                if !definitions
                    .score
                    .iter()
                    .any(|s| s.name == name && s.subject == kind)
                {
                    return Err(invalid(
                        "sort",
                        format!("no {} score named {name:?}", kind.as_str()),
                    ));
                }
                DirectoryOrder::Score(name)
            }
        };
        let cursor = params
            .cursor
            .as_deref()
            .map(|cursor| decode_cursor(cursor, &sort))
            .transpose()?;
        Ok(Self {
            tier,
            order,
            sort,
            at: cursor.as_ref().map_or(now, |(at, _)| *at),
            after: cursor.map(|(_, position)| position),
        })
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// What a cursor holds: the sort it was made for, the instant its scores
/// were valued at, and the last entry's place.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CursorBody {
    sort: String,
    at: Millis,
    /// The score's bits: a float read back from JSON text may be one ulp
    /// off, and the next page would then repeat or skip its subject.
    score: Option<u64>,
    id: String,
    key: String,
}

/// The cursor after `last`: base64url JSON, opaque to clients.
fn encode_cursor(sort: &str, at: Millis, last: &DirectoryEntry) -> String {
    let position = last.position();
    let body = CursorBody {
        sort: sort.to_owned(),
        at,
        score: position.score.map(f64::to_bits),
        id: position.id,
        key: position.key,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str, sort: &str) -> Result<(Millis, DirectoryPosition), ApiError> {
    let malformed = || invalid("cursor", "not a cursor returned by this endpoint");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| malformed())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if body.sort != sort {
        return Err(invalid(
            "cursor",
            format!(
                "this cursor was made for sort={}, not sort={sort}",
                body.sort
            ),
        ));
    }
    let position = DirectoryPosition {
        score: body.score.map(f64::from_bits),
        id: body.id,
        key: body.key,
    };
    Ok((body.at, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage_or_another_sort() {
        let body = CursorBody {
            sort: "score:intent".into(),
            at: 77,
            score: Some(12.5f64.to_bits()),
            id: "a,b:c".into(),
            key: "42".into(),
        };
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&body).unwrap());
        let (at, position) = decode_cursor(&text, "score:intent").unwrap();
        assert_eq!(
            (
                at,
                position.score,
                position.id.as_str(),
                position.key.as_str()
            ),
            (77, Some(12.5), "a,b:c", "42")
        );
        let wrong_sort = decode_cursor(&text, "id").unwrap_err();
        assert!(
            wrong_sort.to_string().contains("sort=score:intent"),
            "{wrong_sort}"
        );
        // A decayed score with every digit significant comes back exactly.
        for score in [
            29.999_999_993_876_543_f64,
            0.1 + 0.2,
            1e-300,
            123_456.789_012_345_67,
        ] {
            let body = CursorBody {
                sort: "score:intent".into(),
                at: 1,
                score: Some(score.to_bits()),
                id: "a".into(),
                key: "1".into(),
            };
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&body).unwrap());
            let (_, position) = decode_cursor(&text, "score:intent").unwrap();
            assert_eq!(position.score.map(f64::to_bits), Some(score.to_bits()));
        }
        for garbage in ["", "!!!", "bm90IGpzb24"] {
            let error = decode_cursor(garbage, "id").unwrap_err();
            assert_eq!(error.code(), "invalid_field", "{garbage:?}");
        }
    }
}
