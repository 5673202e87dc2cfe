//! Explanation trees as the API serves them: the rules crate's
//! `Explanation` (built there as a typed tree) arrives from the engine's
//! view as JSON; it is read back here once into the same shape, typed, so
//! REST, the UI and MCP share one type and OpenAPI documents it.

use bellwether_rules::EventKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// The value of one sub-expression and why; `children` explain its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct ExplanationView {
    /// The sub-expression as written.
    pub(crate) expression: String,
    /// Its byte span in the definition's text.
    pub(crate) span: SpanView,
    /// Its value: a number, string, boolean, list, or `null` when missing;
    /// durations and instants as text.
    pub(crate) value: serde_json::Value,
    /// For conditions: whether it holds; `null` for values.
    pub(crate) holds: Option<bool>,
    /// One line for people, e.g. `count(...) = 3 ≥ 2`.
    pub(crate) summary: String,
    /// Events that contributed (at most 20).
    pub(crate) events: Vec<ExplainedEventView>,
    /// How many events contributed.
    pub(crate) events_total: usize,
    /// For `count(contacts where ...)`: the matching contacts' user ids.
    pub(crate) contacts: Vec<String>,
    /// When the value may change next without new events (milliseconds
    /// since the epoch).
    pub(crate) next_change: Option<i64>,
    /// Sub-expressions (literals left out).
    #[schema(no_recursion)]
    pub(crate) children: Vec<ExplanationView>,
}

/// A byte range in a definition's text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct SpanView {
    /// First byte.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
}

/// One event behind a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct ExplainedEventView {
    /// Milliseconds since the epoch.
    pub(crate) time: i64,
    /// The store's sequence number.
    pub(crate) seq: u64,
    /// `track`, `page` or `screen`.
    #[schema(value_type = String)]
    pub(crate) kind: EventKind,
    /// Event or page name.
    pub(crate) name: String,
}

/// A tier's explanation: every level's condition in order (the first that
/// holds is the subject's level; a level whose condition is a bare literal
/// such as `true` has no tree and is not listed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct TierExplanationView {
    pub(crate) levels: Vec<LevelExplanationView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct LevelExplanationView {
    pub(crate) level: String,
    pub(crate) explanation: ExplanationView,
}

impl ExplanationView {
    /// The tree the engine's view serialized (a segment's explanation).
    pub(crate) fn from_engine(tree: serde_json::Value) -> Result<Self, ApiError> {
        from_engine(tree, "explanation")
    }
}

impl TierExplanationView {
    /// The levels the engine's view serialized (a tier's explanation).
    pub(crate) fn from_engine(tree: serde_json::Value) -> Result<Self, ApiError> {
        from_engine(tree, "tier explanation")
    }
}

/// The engine and this crate share the rules crate's shape: a mismatch is
/// a bug here, not bad input.
fn from_engine<T: serde::de::DeserializeOwned>(
    tree: serde_json::Value,
    what: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(tree)
        .map_err(|e| ApiError::Internal(format!("the engine's {what} has another shape: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bellwether_rules::ast::Span;
    use bellwether_rules::{EventRef, Explanation, LevelExplanation, Value};

    use super::*;

    /// Every field set, every kind of value: what the engine's view
    /// serializes (`serde_json::to_value` of the rules crate's tree).
    fn explanation() -> Explanation {
        let leaf = |expression: &str, value: Value, holds: Option<bool>| Explanation {
            expression: expression.into(),
            span: Span { start: 4, end: 20 },
            value,
            holds,
            summary: format!("{expression} = …"),
            events: vec![EventRef {
                time: 1_767_225_600_250,
                seq: 7,
                kind: EventKind::Page,
                name: "/pricing".into(),
            }],
            events_total: 31,
            contacts: vec!["ann".into()],
            next_change: Some(1_767_312_000_000),
            children: Vec::new(),
        };
        Explanation {
            children: vec![
                leaf("count(page)", Value::Number(3.0), None),
                leaf("trait.plan", Value::Missing, None),
                leaf(
                    "trait.tags",
                    Value::List(vec![Value::String(Arc::from("a")), Value::Bool(true)]),
                    None,
                ),
                leaf(
                    "days_since(first_seen)",
                    Value::Duration(86_400_000),
                    Some(false),
                ),
                leaf("last_seen", Value::Time(1_767_225_600_000), None),
                leaf("score(\"fit\")", Value::Number(f64::INFINITY), Some(true)),
            ],
            events: Vec::new(),
            events_total: 0,
            contacts: Vec::new(),
            next_change: None,
            ..leaf("a and b", Value::Bool(true), Some(true))
        }
    }

    #[test]
    fn a_segment_explanation_keeps_the_engines_wire_format() {
        let engine = serde_json::to_value(explanation()).expect("serializes");
        let view = ExplanationView::from_engine(engine.clone()).expect("same shape");
        assert_eq!(
            serde_json::to_string(&view).expect("serializes"),
            serde_json::to_string(&engine).expect("serializes"),
        );
    }

    #[test]
    fn a_tier_explanation_keeps_the_engines_wire_format() {
        let levels = vec![LevelExplanation {
            level: "hot".into(),
            explanation: explanation(),
        }];
        // As the engine's view builds it.
        let engine = serde_json::json!({ "levels": levels });
        let view = TierExplanationView::from_engine(engine.clone()).expect("same shape");
        assert_eq!(
            serde_json::to_string(&view).expect("serializes"),
            serde_json::to_string(&engine).expect("serializes"),
        );
    }

    #[test]
    fn another_shape_is_an_internal_error() {
        let error = ExplanationView::from_engine(serde_json::json!({"summary": "x"}))
            .expect_err("fields missing");
        assert!(matches!(error, ApiError::Internal(_)), "{error:?}");
    }
}
