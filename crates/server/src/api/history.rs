//! `GET /api/v1/{contacts|accounts}/{id}/history`: a subject's segment
//! entries/exits and tier changes, each at its exact instant, and its score
//! history: every change of a score's closed form, from which the value at
//! any instant follows exactly.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::engine::SubjectKey;
use bellwether_core::store::{MembershipRecord, ScoreRecord, Store};
use bellwether_core::Millis;
use bellwether_rules::SubjectKind;
use serde::Serialize;
use utoipa::ToSchema;

use super::handler::blocking;
use super::subjects::{collection_kind, find_contact};
use crate::auth::require_token;
use crate::error::ApiError;
use crate::segment::format_timestamp;
use crate::AppState;

/// A subject's recorded changes, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct HistoryView {
    /// Segment entries and exits and tier changes.
    pub(crate) changes: Vec<HistoryChangeView>,
    /// Every change of a score's closed form.
    pub(crate) scores: Vec<ScoreFormView>,
}

/// One segment entry or exit, or tier change, of a subject.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct HistoryChangeView {
    pub(crate) at: String,
    #[serde(skip)]
    pub(crate) at_ms: Millis,
    /// How people named the subject then (user id, group id): a contact's
    /// history includes the contacts merged into it.
    pub(crate) id: String,
    /// `entered` or `exited`.
    pub(crate) change: &'static str,
    /// `segment` or `tier`.
    pub(crate) definition_kind: &'static str,
    pub(crate) definition: String,
    /// The tier level entered or left.
    pub(crate) level: Option<String>,
}

impl HistoryChangeView {
    fn from_record(record: MembershipRecord) -> Self {
        Self {
            at: format_timestamp(record.at),
            at_ms: record.at,
            id: record.label,
            change: record.change.as_str(),
            definition_kind: record.definition_kind.as_str(),
            definition: record.definition,
            level: record.level,
        }
    }

    /// A segment entry (not an exit, not a tier change).
    pub(crate) fn enters_segment(&self) -> bool {
        self.change == "entered" && self.definition_kind == "segment"
    }
}

/// One score change: the value then, and the closed form it follows until
/// the next change (`value(t) = constant + decaying × 2^(−(t − anchor) / half_life)`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ScoreFormView {
    pub(crate) at: String,
    #[serde(skip)]
    pub(crate) at_ms: Millis,
    pub(crate) score: String,
    /// The value at `at`.
    pub(crate) value: f64,
    pub(crate) constant: f64,
    pub(crate) decaying: f64,
    pub(crate) anchor: String,
    #[serde(skip)]
    pub(crate) anchor_ms: Millis,
    /// `null`: no decay.
    pub(crate) half_life_ms: Option<Millis>,
}

impl ScoreFormView {
    pub(crate) fn from_record(record: ScoreRecord) -> Self {
        Self {
            at: format_timestamp(record.at),
            at_ms: record.at,
            score: record.score,
            value: record.value,
            constant: record.constant,
            decaying: record.decaying,
            anchor: format_timestamp(record.anchor),
            anchor_ms: record.anchor,
            half_life_ms: record.half_life,
        }
    }
}

/// Membership history of a contact (including contacts merged into it) or an
/// account, and its score history.
#[utoipa::path(get, path = "/api/v1/{kind}/{id}/history", tag = "query",
    params(("kind" = String, Path, description = "`contacts` or `accounts`"), ("id" = String, Path)),
    responses((status = 200, body = HistoryView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<HistoryView>, ApiError> {
    // Credentials answer before the path (401, then 404 for an unknown
    // collection); the query checks them again for its other callers.
    require_token(&state.config, &headers, Scope::Read)?;
    let subject = collection_kind(&kind)?;
    history_view(&state, &headers, subject, id).await.map(Json)
}

/// The history of the contact or account `id`, for `credentials` with the
/// read scope: the REST handler and the contact and account pages call it.
pub(crate) async fn history_view(
    state: &AppState,
    credentials: &HeaderMap,
    subject: SubjectKind,
    id: String,
) -> Result<HistoryView, ApiError> {
    require_token(&state.config, credentials, Scope::Read)?;
    let engine = state.engine.clone();
    let (records, scores) = blocking(state, move |store| {
        // Changes are written off the engine's path: see our own first.
        engine.flush_records();
        subject_records(store, subject, &id)
    })
    .await??;
    Ok(HistoryView {
        changes: records
            .into_iter()
            .map(HistoryChangeView::from_record)
            .collect(),
        scores: scores.into_iter().map(ScoreFormView::from_record).collect(),
    })
}

type Records = (Vec<MembershipRecord>, Vec<ScoreRecord>);

fn subject_records(store: &dyn Store, subject: SubjectKind, id: &str) -> Result<Records, ApiError> {
    match subject {
        SubjectKind::Contact => {
            let contact = find_contact(store, id)?;
            let key = SubjectKey::Contact(contact.id);
            let mut records = Vec::new();
            for merge in store.merges_into(contact.id)? {
                records.extend(store.subject_history(&SubjectKey::Contact(merge.from))?);
            }
            records.extend(store.subject_history(&key)?);
            records.sort_by_key(|r| r.at);
            Ok((records, store.score_history(&key)?))
        }
        SubjectKind::Account => {
            store
                .account(id)?
                .ok_or_else(|| ApiError::NotFound(format!("no account with group id {id:?}")))?;
            let key = SubjectKey::Account(id.into());
            Ok((store.subject_history(&key)?, store.score_history(&key)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellwether_core::subject::{DefKind, Transition};

    /// The wire format as the query API documents it (SPEC section 5):
    /// field names and order, instants with milliseconds, `null`s kept.
    #[test]
    fn the_history_serializes_to_its_documented_wire_format() {
        let membership = |change: &str, level: Option<&str>| MembershipRecord {
            at: 1_767_225_600_000,
            subject: SubjectKey::Account("acme".into()),
            label: "acme".into(),
            change: Transition::parse(change).expect("a transition"),
            definition_kind: if level.is_some() {
                DefKind::Tier
            } else {
                DefKind::Segment
            },
            definition: "stage".into(),
            level: level.map(Into::into),
        };
        let score = |half_life: Option<Millis>| ScoreRecord {
            at: 1_767_225_600_250,
            subject: SubjectKey::Account("acme".into()),
            label: "acme".into(),
            score: "intent".into(),
            value: 12.5,
            constant: 2.0,
            decaying: 10.5,
            anchor: 1_767_225_600_000,
            half_life,
        };
        let view = HistoryView {
            changes: vec![
                HistoryChangeView::from_record(membership("entered", None)),
                HistoryChangeView::from_record(membership("exited", Some("engaged"))),
            ],
            scores: vec![
                ScoreFormView::from_record(score(Some(1_209_600_000))),
                ScoreFormView::from_record(score(None)),
            ],
        };
        let json = serde_json::to_string(&view).expect("serializes");
        assert_eq!(
            json,
            concat!(
                r#"{"changes":["#,
                r#"{"at":"2026-01-01T00:00:00.000Z","id":"acme","change":"entered","definition_kind":"segment","definition":"stage","level":null},"#,
                r#"{"at":"2026-01-01T00:00:00.000Z","id":"acme","change":"exited","definition_kind":"tier","definition":"stage","level":"engaged"}"#,
                r#"],"scores":["#,
                r#"{"at":"2026-01-01T00:00:00.250Z","score":"intent","value":12.5,"constant":2.0,"decaying":10.5,"anchor":"2026-01-01T00:00:00.000Z","half_life_ms":1209600000},"#,
                r#"{"at":"2026-01-01T00:00:00.250Z","score":"intent","value":12.5,"constant":2.0,"decaying":10.5,"anchor":"2026-01-01T00:00:00.000Z","half_life_ms":null}"#,
                r#"]}"#,
            )
        );
    }
}
