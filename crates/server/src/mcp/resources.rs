//! MCP resources: the definitions in force and the rule-language reference,
//! so an agent can learn the syntax before drafting a segment.

use axum::http::HeaderMap;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents};
use rmcp::ErrorData;

use super::McpServer;

const DEFINITIONS: &str = "bellwether://definitions";
const LANGUAGE: &str = "bellwether://docs/language";
const LANGUAGE_TEXT: &str = include_str!("../../../../docs/language.md");

pub(super) fn list() -> Vec<Resource> {
    let resource = |uri: &str, name: &str, description: &str, mime: &str| {
        let mut resource = Resource::new(uri, name).with_description(description);
        resource.mime_type = Some(mime.into());
        resource
    };
    vec![
        resource(
            DEFINITIONS,
            "definitions",
            "The scores, segments and tiers in force, as TOML.",
            "application/toml",
        ),
        resource(
            LANGUAGE,
            "language",
            "The Bellwether rule language reference.",
            "text/markdown",
        ),
    ]
}

pub(super) fn read(
    server: &McpServer,
    caller: &HeaderMap,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let text = match uri {
        LANGUAGE => LANGUAGE_TEXT.to_owned(),
        DEFINITIONS => {
            // Same rule as the REST API: definitions need a read token.
            let state = server.state.clone();
            let allowed = crate::auth::require_token(
                &state.config,
                caller,
                bellwether_core::config::Scope::Read,
            );
            allowed.map_err(|e| ErrorData::invalid_request(e.to_string(), None))?;
            let definitions = state.engine.rules().definitions().clone();
            toml::to_string(&definitions)
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
        }
        other => {
            return Err(ErrorData::resource_not_found(
                format!("no resource {other}"),
                None,
            ))
        }
    };
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )]))
}
