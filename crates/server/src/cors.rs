//! CORS for the browser-facing `/v1/*` routes (SPEC §7, website
//! activation): a page on an origin listed in some source's
//! `allowed_origins` may send events and read `/v1/personalize` straight
//! from the browser.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) carries no
//! write key, so the union of every source's origins decides; the actual
//! request is then authenticated by its write key as usual. An allowed
//! origin is echoed in `Access-Control-Allow-Origin` (with `Vary:
//! Origin`); any other origin gets no allow-origin header, so the browser
//! keeps the response from the page. No cookies are involved: the write
//! key travels as HTTP Basic or in the body, so credentials mode is not
//! allowed.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Methods a page may use on `/v1/*`.
const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
/// Request headers a page may send: the write key and JSON bodies.
const ALLOW_HEADERS: &str = "authorization, content-type";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE_SECS: &str = "600";

/// Answers preflights and labels responses for allowed origins.
pub(crate) async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let allowed = origin
        .to_str()
        .is_ok_and(|text| state.config.origin_allowed(text));
    if is_preflight(request.method(), request.headers()) {
        let mut response = StatusCode::NO_CONTENT.into_response();
        label(response.headers_mut(), allowed.then_some(&origin));
        if allowed {
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECS),
            );
        }
        return response;
    }
    let mut response = next.run(request).await;
    label(response.headers_mut(), allowed.then_some(&origin));
    if allowed {
        // A page backing off after 429 needs to read it.
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    response
}

fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// `Vary: Origin` on every answer to a cross-origin request (the answer
/// depends on it), and the origin echoed when it is allowed.
fn label(headers: &mut HeaderMap, allowed_origin: Option<&HeaderValue>) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = allowed_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
}
