//! The editor's live preview: the checker's errors with carets, or a dry
//! run of the definitions change (how many would match now, a sample of
//! members, who would enter and exit compared with the saved version).

use crate::api::Query;
use axum::extract::State;
use axum::Json;
use bellwether_rules::Diagnostic;
use maud::{html, Markup};

use super::backtest::{self, BacktestLine};
use super::draft::EditorForm;
use crate::api::definitions::{self, DefinitionsOutcome, PutParams};
use crate::error::ApiError;
use crate::ui::{format, layout, UiState};

/// Ids shown per list.
const SHOWN: usize = 10;

/// What the preview found.
pub(crate) enum Preview {
    /// Nothing to check yet.
    Empty,
    /// The form itself is incomplete (no name, bad subject, …).
    Form(String),
    /// The checker's diagnostics for the condition or the whole draft.
    Invalid(Vec<Diagnostic>),
    /// The dry run of the draft.
    Ready {
        outcome: DefinitionsOutcome,
        name: String,
        subject: &'static str,
        /// Editing a saved segment (so enter/exit compare with it).
        existing: bool,
        /// The last 90 days replayed ([`add_backtest`]); `None` when saving.
        backtest: Option<Result<BacktestLine, ApiError>>,
    },
}

/// Adds the backtest line to a ready preview (it replays the condition,
/// so the save path, which does not show it, skips it).
pub(crate) async fn add_backtest(ui: &UiState, form: &EditorForm, preview: &mut Preview) {
    if let Preview::Ready { backtest: line, .. } = preview {
        if let Ok(subject) = form.subject_kind() {
            *line = Some(backtest::run(ui, form.when.trim(), subject).await);
        }
    }
}

/// Checks the condition, then dry-runs the draft (nothing changes).
pub(crate) async fn run(ui: &UiState, form: &EditorForm) -> Result<Preview, ApiError> {
    if form.when.trim().is_empty() {
        return Ok(Preview::Empty);
    }
    let subject = match form.subject_kind() {
        Ok(subject) => subject,
        Err(error) => return Ok(Preview::Form(error.to_string())),
    };
    let draft = {
        let engine = ui.app.engine.view_async().await;
        if let Err(diagnostics) = engine.rules().condition(subject, form.when.trim()) {
            return Ok(Preview::Invalid(diagnostics.diagnostics));
        }
        form.apply_to(engine.rules().definitions())
    };
    let draft = match draft {
        Ok(draft) => draft,
        Err(error) => return Ok(Preview::Form(error.to_string())),
    };
    let text = toml::to_string(&draft)
        .map_err(|e| ApiError::Internal(format!("cannot encode the draft: {e}")))?;
    let result = definitions::put_definitions(
        State(ui.app.clone()),
        ui.previewer.clone(),
        Query(PutParams {
            dry_run: true,
            allow_empty: false,
        }),
        axum::body::Body::from(text),
    )
    .await;
    match result {
        Ok(Json(outcome)) => Ok(Preview::Ready {
            outcome,
            name: form.name.trim().to_owned(),
            subject: subject.as_str(),
            existing: !form.original.trim().is_empty(),
            backtest: None,
        }),
        Err(ApiError::InvalidDefinitions { diagnostics }) => Ok(Preview::Invalid(diagnostics)),
        Err(other) => Err(other),
    }
}

/// The preview panel's content.
pub(crate) fn render(preview: &Preview) -> Markup {
    match preview {
        Preview::Empty => html! { p.muted { "Write a condition to see who matches." } },
        Preview::Form(message) => html! { p.error role="alert" { (message) } },
        Preview::Invalid(diagnostics) => errors(diagnostics),
        Preview::Ready {
            outcome,
            name,
            subject,
            existing,
            backtest,
        } => ready(outcome, name, subject, *existing, backtest.as_ref()),
    }
}

/// Each diagnostic with the offending line and a caret under the span.
pub(crate) fn errors(diagnostics: &[Diagnostic]) -> Markup {
    html! {
        div.diagnostics role="alert" {
            p.error { strong { (format::plural(diagnostics.len() as i64, "error")) } " in the definition" }
            @for d in diagnostics {
                div.diag {
                    p { strong { (d.message) } span.muted { " line " (d.line) ", column " (d.column) } }
                    pre.caret { (d.source_line) "\n" (caret(d)) }
                    @if let Some(hint) = &d.hint { p.hint { "Hint: " (hint) } }
                }
            }
        }
    }
}

/// Spaces up to the column, then `^` under the span (at least one).
pub(crate) fn caret(d: &Diagnostic) -> String {
    let width = if d.end_line == d.line {
        d.end_column.saturating_sub(d.column).max(1)
    } else {
        (d.source_line.chars().count() + 1)
            .saturating_sub(d.column)
            .max(1)
    };
    format!(
        "{}{}",
        " ".repeat(d.column.saturating_sub(1)),
        "^".repeat(width)
    )
}

fn ready(
    outcome: &DefinitionsOutcome,
    name: &str,
    subject: &str,
    existing: bool,
    backtest: Option<&Result<BacktestLine, ApiError>>,
) -> Markup {
    let Some(diff) = outcome.segments.get(name) else {
        return html! { p.muted { "Nothing to preview." } };
    };
    let others: Vec<(&String, &definitions::SegmentDiff)> = outcome
        .segments
        .iter()
        .filter(|(other, d)| *other != name && (d.enter_count > 0 || d.exit_count > 0))
        .collect();
    html! {
        div.preview-result #preview-result {
            p.big {
                strong #preview-count { (format::grouped(diff.size_after as u64)) }
                " " (subject) "s would match now"
            }
            @if let Some(line) = backtest { (backtest::render(line)) }
            @if existing {
                p { span.up { "+" (format::grouped(diff.enter_count as u64)) " would enter" } ", "
                    span.down { "−" (format::grouped(diff.exit_count as u64)) " would exit" }
                    span.muted { " compared with the saved version" } }
            } @else {
                p.muted { "A new segment: all of them would enter when you save." }
            }
            (id_list("Sample of members", subject, &diff.members_sample))
            @if existing {
                (id_list("Would enter", subject, &diff.enter))
                (id_list("Would exit", subject, &diff.exit))
            }
            @if !others.is_empty() {
                h4 { "Other segments that would change" }
                ul.plain {
                    @for (other, d) in others {
                        li { (other) ": " span.up { "+" (d.enter_count) } " / " span.down { "−" (d.exit_count) } }
                    }
                }
            }
        }
    }
}

fn id_list(title: &str, subject: &str, ids: &[String]) -> Markup {
    if ids.is_empty() {
        return html! {};
    }
    html! {
        h4 { (title) }
        ul.ids {
            @for id in ids.iter().take(SHOWN) { li { (layout::subject_link(subject, id)) } }
            @if ids.len() > SHOWN { li.muted { "and more" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(column: usize, end_column: usize) -> Diagnostic {
        Diagnostic {
            code: "parse".into(),
            message: "expected an expression".into(),
            file: "<condition>".into(),
            line: 1,
            column,
            end_line: 1,
            end_column,
            source_line: "count(\"x\") >=".into(),
            hint: Some("finish the comparison".into()),
            definition: None,
        }
    }

    #[test]
    fn carets_sit_under_the_span() {
        assert_eq!(caret(&diagnostic(12, 14)), "           ^^");
        assert_eq!(caret(&diagnostic(1, 1)), "^");
        let html = errors(&[diagnostic(12, 14)]).into_string();
        assert!(html.contains("line 1, column 12"), "{html}");
        assert!(html.contains("Hint: finish the comparison"));
        assert!(html.contains("1 error"));
    }
}
