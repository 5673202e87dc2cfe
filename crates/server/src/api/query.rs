//! `Query<T>`: axum's query-string extractor with errors in the API's JSON
//! shape (`invalid_field`, naming the parameter) instead of `text/plain`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The parsed query string of an API request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| query_error(&rejection.body_text()))
    }
}

/// axum says `Failed to deserialize query string: limit: invalid digit
/// found in string`; the parameter becomes the error's `field`.
fn query_error(text: &str) -> ApiError {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    match detail.split_once(": ") {
        Some((field, reason)) if !field.is_empty() && !field.contains(' ') && field != "." => {
            ApiError::InvalidField {
                field: field.to_owned(),
                reason: reason.to_owned(),
            }
        }
        _ => ApiError::BadRequest(format!("invalid query string: {detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<usize>,
        #[serde(default)]
        dry_run: bool,
    }

    fn parse(query: &str) -> Result<Params, ApiError> {
        let request = axum::http::Request::get(format!("/x?{query}"))
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(Query::<Params>::from_request_parts(&mut parts, &()))
            .map(|Query(p)| p)
    }

    #[test]
    fn bad_parameters_are_named() {
        for (query, field) in [
            ("limit=abc", "limit"),
            ("dry_run=maybe", "dry_run"),
            ("limit=-1", "limit"),
        ] {
            match parse(query) {
                Err(ApiError::InvalidField { field: got, .. }) => assert_eq!(got, field, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
        assert!(parse("limit=5&dry_run=true").is_ok());
    }
}
