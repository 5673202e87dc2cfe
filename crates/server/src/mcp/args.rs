//! Reading tool arguments: every mistake becomes a tool error that names
//! the argument, never a panic.

use rmcp::model::JsonObject;
use serde_json::Value;

use crate::error::ApiError;

/// A tool's failure, shown to the model as a tool error (never a crash).
pub(super) struct ToolError {
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) details: Option<Value>,
}

impl From<ApiError> for ToolError {
    fn from(error: ApiError) -> Self {
        let details = match &error {
            ApiError::InvalidDefinitions { diagnostics } => {
                Some(crate::error::diagnostics_json(diagnostics))
            }
            _ => None,
        };
        ToolError {
            code: error.code(),
            message: error.to_string(),
            details,
        }
    }
}

pub(super) fn invalid(message: impl Into<String>) -> ToolError {
    ToolError {
        code: "invalid_arguments",
        message: message.into(),
        details: None,
    }
}

pub(super) fn string_arg<'a>(args: &'a JsonObject, key: &str) -> Result<&'a str, ToolError> {
    match args.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(_) => Err(invalid(format!("`{key}` must be a non-empty string"))),
        None => Err(invalid(format!("`{key}` is required"))),
    }
}

pub(super) fn optional_string<'a>(
    args: &'a JsonObject,
    key: &str,
) -> Result<Option<&'a str>, ToolError> {
    args.get(key).map(|_| string_arg(args, key)).transpose()
}

pub(super) fn optional_number(args: &JsonObject, key: &str) -> Result<Option<f64>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(format!("`{key}` must be a number"))),
    }
}

pub(super) fn count_arg(
    args: &JsonObject,
    key: &str,
    default: usize,
    max: usize,
) -> Result<usize, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => match value.as_u64() {
            Some(n) if n as usize <= max => Ok(n as usize),
            _ => Err(invalid(format!(
                "`{key}` must be an integer from 0 to {max}"
            ))),
        },
    }
}
