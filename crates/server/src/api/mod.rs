//! The REST query API under `/api/v1` (bearer tokens with scopes) and its
//! OpenAPI document.

mod admin;
pub(crate) mod committee;
pub(crate) mod contact_export;
pub(crate) mod contacts;
pub(crate) mod definitions;
pub(crate) mod deliveries;
mod digest_views;
pub(crate) mod digests;
pub(crate) mod directory;
pub(crate) mod enrichment;
pub(crate) mod explanation;
pub(crate) mod handler;
pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod identity;
pub(crate) mod ingestion;
pub(crate) mod members_csv;
pub(crate) mod privacy;
mod query;
pub(crate) mod report_views;
pub(crate) mod reports;
pub(crate) mod segments;
pub(crate) mod stream;
pub(crate) mod subjects;
pub(crate) mod trends;
pub(crate) mod views;

pub(crate) use query::Query;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", get(directory::list_contacts))
        .route("/api/v1/accounts", get(directory::list_accounts))
        .route(
            "/api/v1/contacts/{user_id}",
            get(contacts::get_contact).delete(privacy::delete_contact),
        )
        .route("/api/v1/suppressions", get(privacy::list_suppressions))
        .route(
            "/api/v1/suppressions/{value}",
            axum::routing::delete(privacy::delete_suppression),
        )
        .route("/api/v1/deletions", get(privacy::list_deletions))
        .route(
            "/api/v1/contacts/{user_id}/events",
            get(contacts::get_contact_events),
        )
        .route(
            "/api/v1/contacts/{user_id}/export",
            get(contact_export::export_contact),
        )
        .route("/api/v1/accounts/{group_id}", get(contacts::get_account))
        .route("/api/v1/segments", get(segments::list_segments))
        .route(
            "/api/v1/segments/{name}/members",
            get(segments::segment_members),
        )
        .route(
            "/api/v1/segments/{name}/members.csv",
            get(members_csv::members_csv),
        )
        .route(
            "/api/v1/{kind}/{id}/explain/{segment}",
            get(segments::explain),
        )
        .route("/api/v1/segments/{name}/trend", get(trends::segment_trend))
        .route("/api/v1/changes", get(segments::recent_changes))
        .route("/api/v1/stream", get(stream::stream))
        .route("/api/v1/health", get(health::health))
        .route("/api/v1/{kind}/{id}/history", get(history::history))
        .route(
            "/api/v1/definitions",
            axum::routing::put(definitions::put_definitions),
        )
        .route("/api/v1/ingestion/errors", get(ingestion::list_errors))
        .route("/api/v1/ingestion/retention", get(ingestion::retention))
        .route("/api/v1/enrichment", get(enrichment::enrichment))
        .route(
            "/api/v1/enrichment/reload",
            axum::routing::post(enrichment::reload),
        )
        .route("/api/v1/identity/conflicts", get(identity::list_conflicts))
        .route("/api/v1/admin/config", get(admin::get_config))
        .route("/api/v1/destinations", get(deliveries::list_destinations))
        .route(
            "/api/v1/destinations/{name}/enable",
            axum::routing::post(deliveries::enable_destination),
        )
        .route("/api/v1/deliveries", get(deliveries::list_deliveries))
        .route("/api/v1/digests", get(digests::list_digests))
        .route(
            "/api/v1/digests/{name}/preview",
            get(digests::preview_digest),
        )
        .route("/api/v1/dead-letters", get(deliveries::list_dead_letters))
        .route(
            "/api/v1/dead-letters/replay",
            axum::routing::post(deliveries::replay_dead_letters),
        )
        .route(
            "/api/v1/dead-letters/{id}/replay",
            axum::routing::post(deliveries::replay_dead_letter),
        )
        .route("/api/v1/reports/conversion", get(reports::conversion))
        .route("/api/v1/reports/holdout", get(reports::holdout))
        .route("/api/v1/reports/score-quality", get(reports::score_quality))
        .route("/api/v1/reports/overlap", get(reports::overlap))
        .route("/api/v1/reports/backtest", get(reports::backtest))
        .route("/api/v1/reports/lint", get(reports::lint))
        .route("/api/v1/openapi.json", get(openapi_json))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bellwether API", description = "Segment-compatible ingestion and the query API of Bellwether."),
    paths(
        crate::ingest::identify, crate::ingest::track, crate::ingest::page, crate::ingest::screen,
        crate::ingest::group, crate::ingest::alias, crate::ingest::batch, crate::ingest::import,
        crate::personalize::personalize,
        crate::actions::inbox::list,
        contacts::get_contact, contacts::get_contact_events, contacts::get_account,
        directory::list_contacts, directory::list_accounts, contact_export::export_contact,
        privacy::delete_contact, privacy::list_suppressions, privacy::delete_suppression, privacy::list_deletions,
        ingestion::list_errors, ingestion::retention, enrichment::enrichment, enrichment::reload, identity::list_conflicts, admin::get_config,
        segments::list_segments, segments::segment_members, members_csv::members_csv, segments::explain, segments::recent_changes, stream::stream, definitions::put_definitions, health::health, history::history, trends::segment_trend,
        deliveries::list_destinations, deliveries::enable_destination, deliveries::list_deliveries,
        deliveries::list_dead_letters, deliveries::replay_dead_letters, deliveries::replay_dead_letter,
        digests::list_digests, digests::preview_digest,
        reports::conversion, reports::holdout, reports::score_quality, reports::overlap, reports::backtest, reports::lint,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes),
    tags((name = "ingestion", description = "Segment tracking API (write key as HTTP Basic username)"),
         (name = "query", description = "Contacts, accounts and events (bearer token)"),
         (name = "actions", description = "Destinations, webhook deliveries, dead letters and digests"),
         (name = "reports", description = "Conversion, lift, score quality, overlap, backtests and lint (bearer token, read scope)"),
         (name = "privacy", description = "Delete and suppress a contact, suppressions, the deletion audit log, subject-access exports (admin scope)"),
         (name = "admin", description = "Configuration (admin scope)"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        document_common_errors(openapi);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// Every operation needs a credential (a bearer token or a write key), so
/// every one can answer 401 with the error body; every one with query
/// parameters can answer 400 (a parameter that does not parse or is out of
/// range, named in `field`).
fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    let unauthorized =
        error("missing or unknown credentials (`WWW-Authenticate` names the scheme)");
    let bad_query =
        error("a query parameter that does not parse or is out of range (`field` names it)");
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            responses
                .entry("401".to_owned())
                .or_insert_with(|| unauthorized.clone().into());
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|parameter| matches!(parameter.parameter_in, ParameterIn::Query));
            if has_query {
                responses
                    .entry("400".to_owned())
                    .or_insert_with(|| bad_query.clone().into());
            }
        }
    }
}

/// The OpenAPI document, generated from the handlers' annotations.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema name of an operation's 200 response.
    fn ok_schema(document: &serde_json::Value, path: &str, method: &str) -> String {
        let schema = &document["paths"][path][method]["responses"]["200"]["content"]
            ["application/json"]["schema"]["$ref"];
        schema.as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn read_responses_name_their_schemas() {
        let document = serde_json::to_value(openapi_document()).expect("serializes");
        for (path, method, schema) in [
            ("/api/v1/{kind}/{id}/history", "get", "HistoryView"),
            (
                "/api/v1/{kind}/{id}/explain/{segment}",
                "get",
                "ExplanationView",
            ),
        ] {
            assert_eq!(
                ok_schema(&document, path, method),
                format!("#/components/schemas/{schema}"),
                "{method} {path}"
            );
            assert!(
                document["components"]["schemas"][schema].is_object(),
                "{schema} is not among the components"
            );
        }
    }
}
