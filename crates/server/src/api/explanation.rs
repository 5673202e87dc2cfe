//! Explanation trees as the API serves them: the rules crate's typed
//! `Explanation`, from the engine's view, in a shape OpenAPI documents, so
//! REST, the UI and MCP share one type.

use bellwether_rules::{EventKind, Explanation, LevelExplanation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

impl From<&Explanation> for ExplanationView {
    fn from(tree: &Explanation) -> Self {
        Self {
            expression: tree.expression.clone(),
            span: SpanView {
                start: tree.span.start,
                end: tree.span.end,
            },
            // The one polymorphic field: the rules crate's own JSON form
            // (durations and instants as text, a missing value as null).
            value: serde_json::to_value(&tree.value).unwrap_or(serde_json::Value::Null),
            holds: tree.holds,
            summary: tree.summary.clone(),
            events: tree
                .events
                .iter()
                .map(|event| ExplainedEventView {
                    time: event.time,
                    seq: event.seq,
                    kind: event.kind,
                    name: event.name.clone(),
                })
                .collect(),
            events_total: tree.events_total,
            contacts: tree.contacts.clone(),
            next_change: tree.next_change,
            children: tree.children.iter().map(Self::from).collect(),
        }
    }
}

impl From<&[LevelExplanation]> for TierExplanationView {
    fn from(levels: &[LevelExplanation]) -> Self {
        Self {
            levels: levels
                .iter()
                .map(|level| LevelExplanationView {
                    level: level.level.clone(),
                    explanation: ExplanationView::from(&level.explanation),
                })
                .collect(),
        }
    }
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
        let tree = explanation();
        let view = ExplanationView::from(&tree);
        assert_eq!(
            serde_json::to_string(&view).expect("serializes"),
            serde_json::to_string(&tree).expect("serializes"),
        );
    }

    #[test]
    fn a_tier_explanation_keeps_the_engines_wire_format() {
        let levels = vec![LevelExplanation {
            level: "hot".into(),
            explanation: explanation(),
        }];
        let view = TierExplanationView::from(levels.as_slice());
        assert_eq!(
            serde_json::to_string(&view).expect("serializes"),
            serde_json::to_string(&serde_json::json!({ "levels": levels })).expect("serializes"),
        );
    }
}
