//! Browser protections on every UI route.
//!
//! - **CSRF**: a state-changing request (any method but GET, HEAD, OPTIONS)
//!   must come from this origin: `Sec-Fetch-Site` must be `same-origin` (or
//!   `none`, typed by the user), else `Origin` must name this `Host`.
//!   `SameSite=Strict` alone does not cover another port of the same host
//!   (same *site*), which is where a local tool's neighbours live. Requests
//!   with neither header do not come from a browser page and pass (CSRF
//!   needs a browser to carry the cookie).
//! - **Framing and content**: `Content-Security-Policy` (scripts, styles,
//!   forms and connections only from this origin, `frame-ancestors
//!   'none'`), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`
//!   and `Referrer-Policy: same-origin` on every UI response.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::PageError;
use crate::error::ApiError;

/// Inline `style` attributes are allowed (bar widths in the charts); inline
/// scripts are not.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub(super) async fn protect(request: Request, next: Next) -> Response {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let mut response = if safe_method || same_origin(request.headers()) {
        next.run(request).await
    } else {
        PageError(ApiError::Forbidden(
            "this form was sent from another site or port; open the page on this server and send it from there".into(),
        ))
        .into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether a request comes from a page of this origin (or not from a page).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(header::ORIGIN) else {
        return true;
    };
    let Some(host) = text(header::HOST) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host.is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn only_this_origin_may_change_state() {
        let host = ("host", "127.0.0.1:8787");
        for allowed in [
            headers(&[host, ("sec-fetch-site", "same-origin")]),
            headers(&[host, ("sec-fetch-site", "none")]),
            headers(&[host, ("origin", "http://127.0.0.1:8787")]),
            headers(&[host]),
        ] {
            assert!(same_origin(&allowed), "{allowed:?}");
        }
        for refused in [
            headers(&[host, ("sec-fetch-site", "same-site")]),
            headers(&[
                host,
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:8787"),
            ]),
            headers(&[host, ("origin", "http://127.0.0.1:9999")]),
            headers(&[host, ("origin", "null")]),
            headers(&[("origin", "http://127.0.0.1:8787")]),
        ] {
            assert!(!same_origin(&refused), "{refused:?}");
        }
    }
}
