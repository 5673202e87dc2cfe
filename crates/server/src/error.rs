//! Every error the HTTP edge returns, mapped to a status in one place.
//!
//! Body shape: `{"success": false, "message", "code", "type", "link", "field"?}`
//! (`success` keeps Segment SDKs' logs readable).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bellwether_rules::Diagnostic;
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the write path is saturated, retry after {retry_after_secs}s")]
    Overloaded { retry_after_secs: u64 },
    /// Too many lookups for one (write key, client address) pair.
    #[error(
        "too many requests from this address with this write key, retry after {retry_after_secs}s"
    )]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A rule-language expression in a parameter (a report's outcome or
    /// draft condition) that does not check.
    #[error("{field}: {message}")]
    InvalidExpression {
        field: String,
        message: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// Definitions that do not compile, with every diagnostic.
    #[error("{} error(s) in the definitions", diagnostics.len())]
    InvalidDefinitions { diagnostics: Vec<Diagnostic> },
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub code: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Diagnostics (line, column, message, hint) for invalid definitions
    /// or an invalid expression: a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_)
            | Self::InvalidField { .. }
            | Self::InvalidExpression { .. }
            | Self::InvalidDefinitions { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Overloaded { .. } | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::InvalidField { .. } => "invalid_field",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Overloaded { .. } => "overloaded",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
            Self::InvalidDefinitions { .. } => "invalid_definitions",
            Self::InvalidExpression { .. } => "invalid_expression",
        }
    }

    /// The diagnostics of definitions or an expression that do not check.
    pub fn diagnostics(&self) -> Option<&[Diagnostic]> {
        match self {
            Self::InvalidDefinitions { diagnostics }
            | Self::InvalidExpression { diagnostics, .. } => Some(diagnostics),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self.status().as_u16() {
            401 | 403 => "auth",
            500..=599 => "system",
            _ => "invalid_request",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let code = self.code();
        let body = ErrorBody {
            success: false,
            message: self.to_string(),
            code,
            kind: self.kind(),
            link: format!("https://bellwether.dev/docs/api#error-{code}"),
            field: match &self {
                Self::InvalidField { field, .. } | Self::InvalidExpression { field, .. } => {
                    Some(field.clone())
                }
                _ => None,
            },
            errors: self.diagnostics().map(diagnostics_json),
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::Overloaded { retry_after_secs } | Self::RateLimited { retry_after_secs } = self
        {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bellwether\""),
            );
        }
        response
    }
}

impl From<bellwether_core::StoreError> for ApiError {
    fn from(error: bellwether_core::StoreError) -> Self {
        Self::Unavailable(format!("storage unavailable: {error}"))
    }
}

impl From<bellwether_core::reports::ReportError> for ApiError {
    fn from(error: bellwether_core::reports::ReportError) -> Self {
        use bellwether_core::reports::ReportError as E;
        match error {
            E::UnknownSegment(_) | E::UnknownScore(_) => Self::NotFound(error.to_string()),
            E::NoHoldout(_) => Self::BadRequest(error.to_string()),
            E::InvalidParameter { field, reason } => Self::InvalidField {
                field: field.to_owned(),
                reason,
            },
            E::InvalidExpression { field, diagnostics } => Self::InvalidExpression {
                field: field.to_owned(),
                message: diagnostics
                    .diagnostics
                    .first()
                    .map_or_else(|| "invalid expression".to_owned(), |d| d.message.clone()),
                diagnostics: diagnostics.diagnostics,
            },
            E::PropertiesNotKept(_) => Self::Unavailable(error.to_string()),
            E::Store(store) => store.into(),
        }
    }
}

impl From<bellwether_core::ingest::PrivacyError> for ApiError {
    fn from(error: bellwether_core::ingest::PrivacyError) -> Self {
        use bellwether_core::ingest::PrivacyError as E;
        match error {
            E::UnknownContact(_) | E::NotSuppressed(_) => Self::NotFound(error.to_string()),
            E::Store(_) | E::WriterGone => Self::Unavailable(error.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(format!("background task failed: {error}"))
    }
}

impl From<crate::enrichment::ReloadError> for ApiError {
    fn from(error: crate::enrichment::ReloadError) -> Self {
        use crate::enrichment::ReloadError as E;
        match error {
            // The file is the customer's input: a bad row is their request's fault.
            E::Table(_) => Self::BadRequest(error.to_string()),
            E::NotConfigured => Self::NotFound(error.to_string()),
            E::Commit(_) => Self::Unavailable(error.to_string()),
        }
    }
}

/// Diagnostics as the error body lists them (`errors`).
pub(crate) fn diagnostics_json(diagnostics: &[Diagnostic]) -> serde_json::Value {
    serde_json::to_value(diagnostics).unwrap_or_default()
}
