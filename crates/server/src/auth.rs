//! Credentials: write keys for ingestion (HTTP Basic username or `writeKey`
//! in the body) and bearer tokens with scopes for the query API.

use axum::http::{header, HeaderMap};
use base64::Engine;
use bellwether_core::config::{Config, Scope, SourceConfig, TokenConfig};

use crate::error::ApiError;

/// The write key from `Authorization: Basic base64(key:)`, if present.
pub(crate) fn basic_write_key(headers: &HeaderMap) -> Option<String> {
    let encoded = credentials(headers, "basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    (!user.is_empty()).then(|| user.to_owned())
}

/// Resolves the source of an ingestion request.
pub(crate) fn source_for<'c>(
    config: &'c Config,
    header_key: Option<&str>,
    body_key: Option<&str>,
) -> Result<&'c SourceConfig, ApiError> {
    let key = header_key.or(body_key).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing write key: send it as the HTTP Basic username or as writeKey in the body"
                .into(),
        )
    })?;
    config
        .source_for_write_key(key)
        .ok_or_else(|| ApiError::Unauthorized("unknown write key".into()))
}

/// Checks `Authorization: Bearer …` against the configured tokens.
pub(crate) fn require_token<'c>(
    config: &'c Config,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<&'c TokenConfig, ApiError> {
    let secret = bearer(headers).ok_or_else(|| {
        ApiError::Unauthorized("missing bearer token: send Authorization: Bearer <token>".into())
    })?;
    let token = config
        .token_for_secret(secret)
        .ok_or_else(|| ApiError::Unauthorized("unknown bearer token".into()))?;
    if !token.allows(needed) {
        return Err(ApiError::Forbidden(format!(
            "token {:?} lacks the {needed:?} scope",
            token.name
        )));
    }
    Ok(token)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    credentials(headers, "bearer")
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// What follows the `Authorization` scheme, when it is `scheme`: schemes
/// are case-insensitive (RFC 9110 section 11.1), so `BEARER x` counts.
fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_start();
    let (given, rest) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim_start())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn basic_username_is_the_write_key() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("wk_123:");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(basic_write_key(&headers).as_deref(), Some("wk_123"));
    }

    #[test]
    fn schemes_are_case_insensitive() {
        for value in ["Bearer tok", "bearer tok", "BEARER tok", "BeArEr  tok"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            assert_eq!(bearer(&headers), Some("tok"), "{value}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearertok"));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn empty_basic_username_is_absent() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(":");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(basic_write_key(&headers), None);
    }
}
