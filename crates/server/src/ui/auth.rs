//! Who may see the pages (SPEC section 5): on a loopback address the
//! read-only pages open without sign-in, like a local dev tool; on any other
//! address every page needs a token sign-in. Changing state (the editor's
//! save) always needs an admin token.
//!
//! Signing in checks the token against `[[token]]` exactly as the REST API
//! does and keeps it in an `HttpOnly`, `SameSite=Strict` cookie; each page
//! then calls the REST handlers with it as a bearer token, so scopes hold by
//! construction. Anonymous loopback visitors read with a process-local
//! read-only token. Anonymous access also needs a loopback `Host` header, so
//! a page on another site cannot read the UI through DNS rebinding.

use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use bellwether_core::config::{Config, Scope, TokenConfig};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, Nav};
use super::UiState;

/// The cookie holding the signed-in token (base64url of the secret).
pub(crate) const COOKIE: &str = "bellwether_token";
/// Name of the UI's own tokens; never accepted from a browser.
pub(super) const INTERNAL_TOKEN: &str = "ui-internal";

/// The credentials a page reads with.
#[derive(Clone)]
pub(crate) struct Viewer {
    /// `Authorization: Bearer …` for the REST handlers.
    pub(crate) headers: HeaderMap,
    /// The signed-in token's name; `None` for an anonymous loopback visitor.
    pub(crate) signed_in: Option<String>,
    /// Whether the signed-in token may change definitions.
    pub(crate) admin: bool,
}

impl FromRequestParts<UiState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ui: &UiState) -> Result<Self, Response> {
        if let Some(token) = cookie_token(&ui.app.config, &parts.headers) {
            if token.allows(Scope::Read) {
                return Ok(Viewer {
                    headers: bearer(token.secret.expose()),
                    signed_in: Some(token.name.clone()),
                    admin: token.allows(Scope::Admin),
                });
            }
        }
        if ui.loopback && loopback_host(&parts.headers) {
            return Ok(Viewer {
                headers: ui.reader.clone(),
                signed_in: None,
                admin: false,
            });
        }
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        Err(sign_in_redirect(&next))
    }
}

fn sign_in_redirect(next: &str) -> Response {
    let query = serde_urlencoded_pair("next", next);
    Redirect::to(&format!("/signin?{query}")).into_response()
}

fn serde_urlencoded_pair(key: &str, value: &str) -> String {
    let mut out = format!("{key}=");
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// `Authorization: Bearer SECRET`.
pub(crate) fn bearer(secret: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {secret}")) {
        headers.insert(header::AUTHORIZATION, value);
    }
    headers
}

/// The configured token named by the request's cookie, if any.
fn cookie_token<'c>(config: &'c Config, headers: &HeaderMap) -> Option<&'c TokenConfig> {
    let secret = cookie_secret(headers)?;
    config
        .token_for_secret(&secret)
        .filter(|t| t.name != INTERNAL_TOKEN)
}

/// The secret in the sign-in cookie.
pub(crate) fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value)
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`, with any port.
pub(crate) fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Set-Cookie` for a signed-in token; `secure` when the UI is reached
/// over HTTPS (`[server] behind_https_proxy`).
pub(crate) fn sign_in_cookie(secret: &str, secure: bool) -> String {
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// Where to go after signing in: a path on this server, never another
/// site. Only printable ASCII is kept: browsers drop tabs and newlines from
/// URLs, so `/\t/evil.example` would become `//evil.example`, another
/// host; a backslash counts as a slash for them too.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// `303 See Other` to a path already made safe; never panics on the value.
pub(crate) fn redirect_to(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextParams {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    next: Option<String>,
}

/// `GET /signin`: the token form.
pub(crate) async fn sign_in_page(Query(params): Query<NextParams>) -> Markup {
    sign_in_form(&safe_next(params.next.as_deref()), None)
}

fn sign_in_form(next: &str, error: Option<&str>) -> Markup {
    let body = html! {
        section.signin.card {
            h1 { "Sign in to Bellwether" }
            p.muted { "Use an API token from the server's " code { "[[token]]" } " configuration. Read scope opens the pages; admin scope also saves segments." }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action="/signin" {
                input type="hidden" name="next" value=(next);
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    layout::page("Sign in", Nav::None, None, body)
}

/// `POST /signin`: checks the token, sets the cookie, goes back.
pub(crate) async fn sign_in(State(ui): State<UiState>, Form(form): Form<SignInForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    let token = ui
        .app
        .config
        .token_for_secret(form.token.trim())
        .filter(|t| t.name != INTERNAL_TOKEN && t.allows(Scope::Read));
    match token {
        Some(token) => {
            let cookie = sign_in_cookie(
                token.secret.expose(),
                ui.app.config.server.behind_https_proxy,
            );
            let mut response = redirect_to(&next);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        None => (
            StatusCode::UNAUTHORIZED,
            sign_in_form(&next, Some("That token is not known to this server.")),
        )
            .into_response(),
    }
}

/// `POST /signout`: forgets the cookie.
pub(crate) async fn sign_out(State(ui): State<UiState>) -> Response {
    let mut response = redirect_to("/");
    let secure = if ui.app.config.server.behind_https_proxy {
        "; Secure"
    } else {
        ""
    };
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The token a state-changing form brings (its own field, else the cookie),
/// if it is an admin token.
pub(crate) fn admin_secret(
    ui: &UiState,
    headers: &HeaderMap,
    typed: Option<&str>,
) -> Option<String> {
    let typed = typed.map(str::trim).filter(|t| !t.is_empty());
    let secret = typed
        .map(str::to_owned)
        .or_else(|| cookie_secret(headers))?;
    ui.app
        .config
        .token_for_secret(&secret)
        .filter(|t| t.name != INTERNAL_TOKEN && t.allows(Scope::Admin))
        .map(|_| secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_loopback_host_names_count_as_local() {
        for host in [
            "localhost:8787",
            "127.0.0.1:9",
            "[::1]:8787",
            "app.localhost",
            "LOCALHOST",
        ] {
            assert!(loopback_host(&with(header::HOST, host)), "{host}");
        }
        for host in [
            "evil.example:8787",
            "10.0.0.1",
            "localhost.evil.example",
            "[::2]:1",
        ] {
            assert!(!loopback_host(&with(header::HOST, host)), "{host}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn the_cookie_round_trips_any_secret() {
        let cookie = sign_in_cookie("tok; with=odd chars", false);
        assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict"));
        assert!(sign_in_cookie("t", true).ends_with("; SameSite=Strict; Secure"));
        let pair = cookie.split(';').next().unwrap();
        let headers = with(header::COOKIE, &format!("other=1; {pair}"));
        assert_eq!(
            cookie_secret(&headers).as_deref(),
            Some("tok; with=odd chars")
        );
        assert_eq!(
            cookie_secret(&with(header::COOKIE, "bellwether_token=%%%")),
            None
        );
    }

    #[test]
    fn sign_in_only_returns_to_local_paths() {
        assert_eq!(safe_next(Some("/segments/hot?x=1")), "/segments/hot?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "/\t/evil.example",
            "/\n",
            "/ /evil.example",
            "/\r\nSet-Cookie: x=1",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            serde_urlencoded_pair("next", "/a b?c=d"),
            "next=/a%20b%3Fc%3Dd"
        );
    }
}
