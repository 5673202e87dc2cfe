//! Reading request bodies with hard caps: compressed and decompressed size are
//! both bounded, so neither a huge upload nor a gzip bomb costs memory.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use flate2::read::GzDecoder;

use crate::error::ApiError;

/// Reads at most `limit` bytes of body, decompressing gzip when announced.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    check_content_type(headers)?;
    let raw = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    match content_encoding(headers)?.as_deref() {
        None | Some("identity") => Ok(raw),
        Some("gzip") | Some("x-gzip") => gunzip_limited(&raw, limit),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "content-encoding {other:?} is not supported; use gzip or none"
        ))),
    }
}

pub(crate) fn gunzip_limited(compressed: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    let mut decompressed = Vec::new();
    GzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut decompressed)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid gzip: {e}")))?;
    if decompressed.len() > limit {
        return Err(ApiError::PayloadTooLarge(format!(
            "decompressed body exceeds the {} limit",
            human_bytes(limit)
        )));
    }
    Ok(Bytes::from(decompressed))
}

/// JSON, text/plain (browser beacons), form-urlencoded (the RudderStack Node
/// SDK labels its gzipped JSON so) or nothing. Types that cannot carry a JSON
/// document (XML, multipart, HTML, binaries) are a client bug: 415.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = text.split(';').next().unwrap_or("").trim();
    match essence {
        "application/json" | "text/plain" | "application/x-www-form-urlencoded" | "" => Ok(()),
        _ if essence.ends_with("+json") => Ok(()),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "content-type {other:?} is not accepted; send application/json"
        ))),
    }
}

fn content_encoding(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get(header::CONTENT_ENCODING)
        .map(|value| {
            value
                .to_str()
                .map(|s| s.trim().to_ascii_lowercase())
                .map_err(|_| ApiError::BadRequest("content-encoding header is not ASCII".into()))
        })
        .transpose()
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("body exceeds the {} limit", human_bytes(limit)))
}

pub(crate) fn human_bytes(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Parses JSON after checking UTF-8, so the error says which one failed.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))
}
