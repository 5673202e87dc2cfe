//! Errors with positions, rendered like rustc's (`file:line:col`, the line, a
//! caret under the span, a hint) or as JSON.

use std::fmt;

use serde::Serialize;

use crate::ast::Span;

/// An error located in one expression's text (byte span relative to it).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// Stable machine code: `parse`, `type`, `unknown_function`, `arity`,
    /// `unknown_reference`, `scope`, `cycle`, `duplicate`, `limit`, `definition`, `toml`.
    pub code: &'static str,
    /// What is wrong, lowercase.
    pub message: String,
    /// Where, in bytes of the expression text.
    pub span: Span,
    /// How to fix it, when we know.
    pub hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Problem {
            code,
            message: message.into(),
            span,
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A problem resolved to a file position, ready to print or serialise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable machine code (see [`Problem::code`]).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The file (or a pseudo-file such as `<segment hot_intent>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 1-based line of the span's end.
    pub end_line: usize,
    /// 1-based column one past the span's end, in characters.
    pub end_column: usize,
    /// The text of `line`.
    pub source_line: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The definition it belongs to, e.g. `segment hot_intent`.
    pub definition: Option<String>,
}

/// A position: 1-based line and character column.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl Diagnostic {
    /// Resolves `problem`, whose span is already relative to `text`.
    pub(crate) fn resolve(file: &str, text: &str, span: Span, problem: &Problem) -> Self {
        let (line, column) = line_col(text, span.start);
        let (end_line, end_column) = line_col(text, span.end.max(span.start));
        let source_line = text
            .lines()
            .nth(line - 1)
            .unwrap_or("")
            .trim_end_matches('\r');
        Diagnostic {
            code: problem.code.to_owned(),
            message: problem.message.clone(),
            file: file.to_owned(),
            line,
            column,
            end_line,
            end_column,
            source_line: source_line.to_owned(),
            hint: problem.hint.clone(),
            definition: None,
        }
    }

    fn caret_width(&self) -> usize {
        if self.end_line == self.line {
            self.end_column.saturating_sub(self.column).max(1)
        } else {
            let line_len = self.source_line.chars().count();
            (line_len + 1).saturating_sub(self.column).max(1)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.code, self.message)?;
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "{pad}--> {}:{}:{}", self.file, self.line, self.column)?;
        if let Some(definition) = &self.definition {
            writeln!(f, "{pad} = in {definition}")?;
        }
        writeln!(f, "{pad} |")?;
        writeln!(f, "{} | {}", self.line, self.source_line.replace('\t', " "))?;
        let indent = " ".repeat(self.column.saturating_sub(1));
        writeln!(f, "{pad} | {indent}{}", "^".repeat(self.caret_width()))?;
        if let Some(hint) = &self.hint {
            writeln!(f, "{pad} = hint: {hint}")?;
        }
        Ok(())
    }
}

/// All diagnostics of a check or compile, in source order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, thiserror::Error)]
#[error("{} error(s) in definitions", .diagnostics.len())]
pub struct Diagnostics {
    /// The errors.
    pub diagnostics: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Every diagnostic rendered rustc-style, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            out.push_str(&diagnostic.to_string());
            out.push('\n');
        }
        match self.diagnostics.len() {
            0 => out.push_str("ok: no errors\n"),
            1 => out.push_str("error: 1 error found\n"),
            n => out.push_str(&format!("error: {n} errors found\n")),
        }
        out
    }

    /// `{"ok": bool, "errors": [Diagnostic...]}` for machines.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "ok": self.is_empty(), "errors": self.diagnostics })
    }
}

/// The closest of `candidates` to `word`, if close enough to suggest.
pub(crate) fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_caret_under_the_span() {
        let text = "a = 1\ncont(page) >= 2\n";
        let problem = Problem::new(
            "unknown_function",
            "unknown function `cont`",
            Span::new(6, 10),
        )
        .hint("did you mean `count`?");
        let diagnostic = Diagnostic::resolve("defs.toml", text, problem.span, &problem);
        assert_eq!(
            diagnostic.to_string(),
            "error[unknown_function]: unknown function `cont`\n --> defs.toml:2:1\n  |\n2 | cont(page) >= 2\n  | ^^^^\n  = hint: did you mean `count`?\n"
        );
    }

    #[test]
    fn suggests_near_names() {
        assert_eq!(suggest("cont", ["count", "exists"]), Some("count"));
        assert_eq!(suggest("zzz", ["count"]), None);
    }
}
