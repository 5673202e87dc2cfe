//! `PUT /api/v1/definitions`: replace the scores, segments and tiers while
//! running, with a dry run that says who would enter and exit each segment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Query;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_core::engine::Membership;
use bellwether_rules::RuleSet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::AppState;

const MAX_DEFINITIONS_BYTES: usize = 1024 * 1024;
/// Ids listed per segment and direction; the counts are always complete.
const SAMPLE: usize = 100;
/// Members listed per segment as they would be after the change.
const MEMBERS_SAMPLE: usize = 10;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PutParams {
    /// Only report what would change.
    #[serde(default)]
    pub(crate) dry_run: bool,
    /// Allow applying definitions with no score, segment or tier at all
    /// (which deletes every definition); refused without it (a dry run
    /// needs no flag: it changes nothing).
    #[serde(default)]
    pub(crate) allow_empty: bool,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct SegmentDiff {
    pub(crate) enter_count: usize,
    pub(crate) exit_count: usize,
    pub(crate) size_after: usize,
    /// Up to 100 ids that would enter.
    pub(crate) enter: Vec<String>,
    /// Up to 100 ids that would exit.
    pub(crate) exit: Vec<String>,
    /// Up to 10 ids of members after the change (the editor's sample).
    pub(crate) members_sample: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DefinitionsOutcome {
    pub(crate) applied: bool,
    pub(crate) segments: BTreeMap<String, SegmentDiff>,
}

/// Replaces the definitions (TOML with `[[score]]`, `[[segment]]`,
/// `[[tier]]` tables; admin scope). With `dry_run=true` nothing changes.
#[utoipa::path(put, path = "/api/v1/definitions", tag = "admin", params(PutParams),
    request_body(content = Option<String>, content_type = "text/plain", description = "definitions TOML (empty: no definitions)"),
    responses((status = 200, body = DefinitionsOutcome), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_definitions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<PutParams>,
    body: Body,
) -> Result<Json<DefinitionsOutcome>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    let bytes = axum::body::to_bytes(body, MAX_DEFINITIONS_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge("definitions exceed 1 MB".into()))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("definitions are not valid UTF-8".into()))?;
    let engine = state.engine.clone();
    let store = state.store.clone();
    let file = state.definitions_file.clone();
    let outcome = tokio::task::spawn_blocking(move || -> Result<DefinitionsOutcome, ApiError> {
        let rules = RuleSet::from_toml("definitions", &text).map_err(|diagnostics| {
            ApiError::InvalidDefinitions {
                diagnostics: diagnostics.diagnostics,
            }
        })?;
        let defined = rules.definitions();
        if !params.allow_empty
            && !params.dry_run
            && defined.score.is_empty()
            && defined.segment.is_empty()
            && defined.tier.is_empty()
        {
            return Err(ApiError::InvalidField {
                field: "allow_empty".into(),
                reason: "these definitions have no [[score]], [[segment]] or [[tier]]; applying them deletes every definition: send allow_empty=true to mean it".into(),
            });
        }
        // A definition reading a property no definition read before: the
        // engine loads it from the store first (the dry run needs it too).
        engine
            .lock()
            .widen_properties(store.as_ref(), &rules.property_keys())?;
        let now = engine.now();
        let (live, after) = {
            let engine = engine.view();
            (
                engine.live_memberships(),
                engine.memberships_under(&rules, now),
            )
        };
        let segments = diff(&rules, &live, &after);
        if params.dry_run {
            return Ok(DefinitionsOutcome {
                applied: false,
                segments,
            });
        }
        if let Some(path) = &file {
            persist(path, &text)?;
        }
        engine.replace_rules(Arc::new(rules));
        Ok(DefinitionsOutcome {
            applied: true,
            segments,
        })
    })
    .await??;
    Ok(Json(outcome))
}

fn diff(
    rules: &RuleSet,
    live: &[Membership],
    after: &[Membership],
) -> BTreeMap<String, SegmentDiff> {
    let by_segment = |list: &[Membership]| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in list {
            map.entry(m.segment.clone())
                .or_default()
                .insert(m.id.clone());
        }
        map
    };
    let (before, after) = (by_segment(live), by_segment(after));
    let empty = BTreeSet::new();
    let mut names: BTreeSet<String> = before.keys().cloned().collect();
    names.extend(rules.definitions().segment.iter().map(|s| s.name.clone()));
    names
        .into_iter()
        .map(|name| {
            let (was, will) = (
                before.get(&name).unwrap_or(&empty),
                after.get(&name).unwrap_or(&empty),
            );
            let enter: Vec<String> = will.difference(was).cloned().collect();
            let exit: Vec<String> = was.difference(will).cloned().collect();
            let summary = SegmentDiff {
                enter_count: enter.len(),
                exit_count: exit.len(),
                size_after: will.len(),
                enter: enter.into_iter().take(SAMPLE).collect(),
                exit: exit.into_iter().take(SAMPLE).collect(),
                members_sample: will.iter().take(MEMBERS_SAMPLE).cloned().collect(),
            };
            (name, summary)
        })
        .collect()
}

/// Writes atomically: a crash leaves the old file or the new one, never half.
fn persist(path: &std::path::Path, text: &str) -> Result<(), ApiError> {
    let temporary = path.with_extension("toml.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| ApiError::Unavailable(format!("cannot save the definitions: {e}")))
}
