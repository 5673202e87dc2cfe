//! MCP (Model Context Protocol) server over the same data as the REST API,
//! for AI agents: tools to list segments, read contacts and accounts,
//! explain memberships, find subjects, report on a segment and check a
//! draft definition; resources for the definitions and the language
//! reference. Two transports: Streamable HTTP at `/mcp` on the running
//! server, and stdio (`bellwether mcp`).
//!
//! Invariant: every tool runs through the REST handlers with the caller's
//! own credentials, so token scopes apply exactly as over REST; nothing
//! here reads data another way.

mod args;
mod resources;
pub(crate) mod sessions;
mod tools;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use bellwether_core::config::{Scope, Secret, TokenConfig};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, InitializeResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use crate::AppState;

const INSTRUCTIONS: &str = "Bellwether keeps behavioral segments, scores and tiers of B2B \
contacts and accounts exact in real time. Start with list_segments; read one subject with \
get_contact or get_account; ask why with explain_membership; find who to act on with \
find_subjects. Read the resource bellwether://docs/language before writing a definition, \
and validate drafts with check_definition.";

/// One MCP session's view of Bellwether.
#[derive(Clone)]
pub struct McpServer {
    state: AppState,
    /// Credentials of a local stdio session (the process owner is trusted);
    /// `None` over HTTP, where each request brings its own.
    local: Option<HeaderMap>,
    /// For read-only dry runs on the caller's behalf (`check_definition`).
    internal: HeaderMap,
}

impl McpServer {
    fn new(state: AppState, local: bool) -> Self {
        let (state, internal) = with_internal_token(state);
        let local = local.then(|| internal.clone());
        Self {
            state,
            local,
            internal,
        }
    }

    /// The credentials of the request being served.
    fn caller(&self, context: &RequestContext<RoleServer>) -> HeaderMap {
        if let Some(local) = &self.local {
            return local.clone();
        }
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .map(|parts| parts.headers.clone())
            .unwrap_or_default()
    }
}

/// A fresh admin token known only to this process, for calls the MCP layer
/// makes on its own behalf (never handed out).
fn with_internal_token(mut state: AppState) -> (AppState, HeaderMap) {
    let secret = format!("mcp-internal-{}", uuid_like());
    let mut config = (*state.config).clone();
    config.token.push(TokenConfig {
        name: "mcp-internal".into(),
        secret: Secret::new(secret.clone()),
        scopes: vec![Scope::Admin],
    });
    state.config = Arc::new(config);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {secret}")) {
        headers.insert(header::AUTHORIZATION, value);
    }
    (state, headers)
}

/// 128 random bits as hex.
fn uuid_like() -> String {
    use rand::Rng;
    let bits: u128 = rand::thread_rng().gen();
    format!("{bits:032x}")
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> InitializeResult {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        let mut info = InitializeResult::new(capabilities);
        info.server_info = Implementation::new("bellwether", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.into());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::catalog()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&context);
        let arguments = request.arguments.unwrap_or_default();
        Ok(tools::call(self, &caller, &request.name, arguments)
            .await
            .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&context);
        resources::read(self, &caller, &request.uri).map(Into::into)
    }
}

/// The Streamable HTTP endpoint, mounted at `/mcp` behind bearer auth,
/// with the book its [`sessions::limit_sessions`] middleware keeps.
pub(crate) fn http_service(
    state: AppState,
) -> (
    StreamableHttpService<McpServer, LocalSessionManager>,
    Arc<sessions::SessionBook>,
) {
    let mut config = StreamableHttpServerConfig::default();
    let extra_hosts = state.config.server.mcp_allowed_hosts.iter().cloned();
    let hosts: Vec<String> = config
        .allowed_hosts
        .iter()
        .cloned()
        .chain(extra_hosts)
        .collect();
    config = config.with_allowed_hosts(hosts);
    let idle = Duration::from_secs(state.config.server.mcp_session_idle_secs.unwrap_or(300));
    let max = state.config.server.max_mcp_sessions.unwrap_or(256);
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = Some(idle);
    let manager = Arc::new(manager);
    let book = Arc::new(sessions::SessionBook::new(Arc::clone(&manager), max, idle));
    let server = McpServer::new(state, false);
    let service = StreamableHttpService::new(move || Ok(server.clone()), manager, config);
    (service, book)
}

/// Serves one MCP session on stdin/stdout until the client disconnects.
pub async fn serve_stdio(state: AppState) -> std::io::Result<()> {
    let server = McpServer::new(state, true);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}
