//! Enrichment coverage and reload (SPEC §7 "Enrichment"): what each table
//! holds, how many accounts it enriched and visitors it revealed, what it
//! missed, and how the HTTP provider fares.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_enrich::TableReport;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::metrics::OutcomeLabels;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TableView {
    pub(crate) name: String,
    /// `domains`, `ip` or `http`.
    pub(crate) kind: &'static str,
    /// The file, as the config names it (none for `http`).
    pub(crate) file: Option<String>,
    /// Rows loaded (for a `.mmdb`, nodes of its search tree; for `http`,
    /// answers kept).
    pub(crate) rows: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CoverageView {
    /// Accounts with a known domain (their email domain, or a `domain` or
    /// `website` trait of a `group` call).
    pub(crate) accounts_with_domain: usize,
    /// Accounts holding at least one trait from enrichment.
    pub(crate) accounts_enriched: usize,
    /// Accounts whose domain no table lists.
    pub(crate) domain_misses: usize,
    /// Contacts in an account revealed by their IP address.
    pub(crate) visitors_revealed: usize,
    /// Messages since start with a `context.ip` no network holds (from
    /// contacts without an account of their own).
    pub(crate) ip_misses: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProviderView {
    pub(crate) name: String,
    pub(crate) rate_per_minute: u32,
    pub(crate) ttl_seconds: i64,
    pub(crate) timeout_ms: i64,
    /// Requests since start that got an answer.
    pub(crate) answered: u64,
    /// Requests the provider answered 404 (nothing known).
    pub(crate) not_found: u64,
    /// Requests that failed (error status, timeout, not a JSON object).
    pub(crate) failed: u64,
    pub(crate) last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnrichmentView {
    pub(crate) tables: Vec<TableView>,
    pub(crate) coverage: CoverageView,
    pub(crate) provider: Option<ProviderView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReloadView {
    pub(crate) tables: Vec<TableView>,
    /// Domains whose rows changed in the files.
    pub(crate) domains_changed: usize,
    /// Accounts whose enriched traits changed with the reload.
    pub(crate) accounts_changed: usize,
}

fn table_views(reports: Vec<TableReport>) -> Vec<TableView> {
    reports
        .into_iter()
        .map(|report| TableView {
            name: report.name,
            kind: report.kind.as_str(),
            file: report.file,
            rows: report.rows,
        })
        .collect()
}

/// Coverage of the `[[enrichment]]` tables.
#[utoipa::path(get, path = "/api/v1/enrichment", tag = "query",
    responses((status = 200, body = EnrichmentView)), security(("bearer" = [])))]
pub(crate) async fn enrichment(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<EnrichmentView>, ApiError> {
    require_token(&state.config, &headers, Scope::Read)?;
    Ok(Json(view(&state)))
}

/// The coverage view (the ingestion page shows it too).
pub(crate) fn view(state: &AppState) -> EnrichmentView {
    let enrichment = &state.config.identity.enrichment;
    let coverage = state.ingestor.enrichment_coverage();
    let count = |outcome: &'static str| {
        state
            .metrics
            .enrichment_requests
            .get_or_create(&OutcomeLabels { outcome })
            .get()
    };
    let provider = enrichment.http().map(|settings| ProviderView {
        name: settings.name.clone(),
        rate_per_minute: settings.rate_per_minute,
        ttl_seconds: settings.ttl_ms / 1000,
        timeout_ms: settings.timeout_ms,
        answered: count("answered"),
        not_found: count("not_found"),
        failed: count("failed"),
        last_error: state.metrics.enrichment_last_error.lock().clone(),
    });
    EnrichmentView {
        tables: table_views(enrichment.reports()),
        coverage: CoverageView {
            accounts_with_domain: coverage.accounts_with_domain,
            accounts_enriched: coverage.accounts_enriched,
            domain_misses: coverage.domain_misses,
            visitors_revealed: coverage.visitors_revealed,
            ip_misses: coverage.ip_misses,
        },
        provider,
    }
}

/// Re-reads the table files and applies what changed to the accounts (as
/// `SIGHUP` does). A file that does not load changes nothing: 400 naming
/// the file and line.
#[utoipa::path(post, path = "/api/v1/enrichment/reload", tag = "admin",
    responses((status = 200, body = ReloadView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, description = "no [[enrichment]] table is configured", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ReloadView>, ApiError> {
    require_token(&state.config, &headers, Scope::Admin)?;
    let reloaded = crate::enrichment::reload(&state).await?;
    Ok(Json(ReloadView {
        tables: table_views(reloaded.tables),
        domains_changed: reloaded.domains_changed,
        accounts_changed: reloaded.accounts_changed,
    }))
}
