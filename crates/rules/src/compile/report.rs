//! Turns definition errors into diagnostics with positions: in the TOML file
//! when there is one, else in the field's own text.

use super::DefError;
use crate::ast::Span;
use crate::defs::{srcmap, SpanTable};
use crate::diagnostics::{Diagnostic, Diagnostics};

/// Positions in the TOML file `text` named `file`.
pub(crate) fn resolve_toml(
    file: &str,
    text: &str,
    spans: &SpanTable,
    errors: &[DefError],
) -> Diagnostics {
    let mut diagnostics: Vec<Diagnostic> = errors
        .iter()
        .map(|e| resolve_one(file, text, spans, e))
        .collect();
    diagnostics.sort_by_key(|d| (d.line, d.column));
    Diagnostics { diagnostics }
}

fn resolve_one(file: &str, text: &str, spans: &SpanTable, error: &DefError) -> Diagnostic {
    let field_span = spans.get(&error.field).or_else(|| {
        let parent = error.field.rsplit_once('.').map_or("", |(p, _)| p);
        spans.get(parent)
    });
    let span = match field_span {
        None => Span::new(0, 0),
        Some(range) if !error.inside => Span::new(range.start, range.end),
        Some(range) => match srcmap::offsets(text, range.clone(), &error.text) {
            Some(map) => {
                let at = |offset: usize| map[offset.min(map.len() - 1)];
                Span::new(
                    at(error.problem.span.start),
                    at(error.problem.span.end.max(error.problem.span.start)),
                )
            }
            None => Span::new(range.start, range.end),
        },
    };
    let mut diagnostic = Diagnostic::resolve(file, text, span, &error.problem);
    diagnostic.definition = Some(error.definition.clone());
    diagnostic
}

/// Positions in each field's own text, under a pseudo file name such as
/// `<segment hot_intent>`.
pub(crate) fn resolve_plain(errors: &[DefError]) -> Diagnostics {
    let diagnostics = errors
        .iter()
        .map(|error| {
            let file = format!(
                "<{} {}>",
                error.definition,
                error.field.rsplit('.').next().unwrap_or("")
            );
            let span = if error.inside {
                error.problem.span
            } else {
                Span::new(0, error.text.len())
            };
            let mut diagnostic = Diagnostic::resolve(&file, &error.text, span, &error.problem);
            diagnostic.definition = Some(error.definition.clone());
            diagnostic
        })
        .collect();
    Diagnostics { diagnostics }
}
