//! Admin views of the running configuration (names and scopes, never secrets).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceView {
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    name: String,
    scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConfigView {
    store: &'static str,
    sources: Vec<SourceView>,
    tokens: Vec<TokenView>,
}

/// Sources, tokens and the store backend in use (admin scope).
#[utoipa::path(get, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, body = ConfigView), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_config(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ConfigView>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    Ok(Json(ConfigView {
        store: state.store.backend(),
        sources: state
            .config
            .source
            .iter()
            .map(|s| SourceView {
                name: s.name.clone(),
            })
            .collect(),
        tokens: state
            .config
            .token
            .iter()
            .map(|t| TokenView {
                name: t.name.clone(),
                scopes: t
                    .scopes
                    .iter()
                    .map(|s| format!("{s:?}").to_lowercase())
                    .collect(),
            })
            .collect(),
    }))
}
