//! The web UI at `/`: server-rendered HTML (maud) with inline SVG charts
//! and a little vanilla JavaScript (the live feed, the editor's preview
//! and its visual builder).
//! Pages: dashboard `/`, `/segments/{name}`, `/contacts/{user_id}`,
//! `/accounts/{group_id}`, `/editor`, `/ingestion`, and the directories
//! `/contacts` and `/accounts` (search, filters, pages).
//!
//! Invariant: pages read through the REST handlers (`crate::api`), or the
//! typed queries behind them (which check the scope themselves), with the
//! viewer's credentials ([`auth::Viewer`]), or through the engine handle
//! for what only people browse (ranked members, tier level counts, tier
//! explanations); they never query the store another way, except for
//! reading the newest stored events (the ingestion page, the editor's
//! property suggestions) and running a report's typed function on a view
//! (the editor's backtest line, `bellwether_core::reports::backtest`, the
//! function behind `GET /api/v1/reports/backtest`). Errors are
//! [`ApiError`]s, rendered as HTML with the status `error.rs` gives them.

mod account;
mod assets;
mod auth;
mod chart;
mod contact;
mod conversion;
mod dashboard;
mod deliveries;
mod directory;
mod editor;
mod explain;
mod format;
mod guard;
mod highlight;
mod ingestion;
mod layout;
mod segment;
mod stream;
mod subject;

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bellwether_core::config::{Scope, Secret, TokenConfig};
use maud::html;

use crate::error::ApiError;
use crate::AppState;

/// What every UI handler gets.
#[derive(Clone)]
pub(crate) struct UiState {
    /// The server's state, with the UI's own tokens added to its config.
    pub(crate) app: AppState,
    /// Read-only credentials for anonymous visitors on a loopback address.
    pub(crate) reader: HeaderMap,
    /// Admin credentials used only for dry runs (the editor's preview),
    /// which change nothing.
    pub(crate) previewer: HeaderMap,
    /// The server listens on a loopback address.
    pub(crate) loopback: bool,
    /// The editor builder's suggestions, reused for a while.
    pub(crate) catalog: editor::CatalogCache,
}

/// The UI's routes, ready to merge into the server's router.
pub(crate) fn routes<S>(state: AppState, loopback: bool) -> Router<S> {
    let mut config = (*state.config).clone();
    let reader_secret = random_secret();
    let previewer_secret = random_secret();
    for (secret, scope) in [
        (&reader_secret, Scope::Read),
        (&previewer_secret, Scope::Admin),
    ] {
        config.token.push(TokenConfig {
            name: auth::INTERNAL_TOKEN.into(),
            secret: Secret::new(secret.clone()),
            scopes: vec![scope],
        });
    }
    let mut app = state;
    app.config = Arc::new(config);
    let ui = UiState {
        app,
        reader: auth::bearer(&reader_secret),
        previewer: auth::bearer(&previewer_secret),
        loopback,
        catalog: Default::default(),
    };
    Router::new()
        .route("/", get(dashboard::page))
        .route("/segments/{name}", get(segment::page))
        .route("/segments/{name}/members.csv", get(segment::members_csv))
        .route("/contacts", get(directory::contacts))
        .route("/accounts", get(directory::accounts))
        .route("/contacts/{user_id}", get(contact::page))
        .route("/accounts/{group_id}", get(account::page))
        .route("/editor", get(editor::page).post(editor::save))
        .route("/editor/preview", post(editor::preview))
        .route("/editor/backtest", post(editor::backtest_line))
        .route("/editor/builder", post(editor::builder_round_trip))
        .route("/ingestion", get(ingestion::page))
        .route("/ui/stream", get(stream::changes))
        .route("/signin", get(auth::sign_in_page).post(auth::sign_in))
        .route("/signout", post(auth::sign_out))
        .route(assets::CSS_PATH, get(assets::css))
        .route(assets::JS_PATH, get(assets::js))
        .route(assets::BUILDER_JS_PATH, get(assets::builder_js))
        .layer(axum::middleware::from_fn(guard::protect))
        .with_state(ui)
}

/// 128 random bits as hex, for the UI's process-local tokens.
fn random_secret() -> String {
    use rand::Rng;
    let bits: u128 = rand::thread_rng().gen();
    format!("ui-{bits:032x}")
}

/// A page that could not be built: the API's error, as an HTML page.
#[derive(Debug)]
pub(crate) struct PageError(pub(crate) ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "page failed");
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            section.card.error-page {
                h1 { (title) }
                p { (self.0.to_string()) }
                p { a href="/" { "Back to the dashboard" } }
            }
        };
        let page = layout::page(title, layout::Nav::Detail, None, body);
        (status, page).into_response()
    }
}

/// What every page handler returns.
pub(crate) type Page = Result<maud::Markup, PageError>;
