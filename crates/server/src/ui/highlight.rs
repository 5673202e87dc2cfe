//! Syntax highlighting of rule-language expressions for display: strings,
//! numbers and durations, keywords, function names and operators get a
//! class each. Display only: the checker is the judge of what is valid.

use maud::{html, Markup};

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "where",
    "in",
    "last",
    "between",
    "contains",
    "followed_by",
    "within",
    "on",
    "true",
    "false",
    "any",
    "contacts",
    "per",
    "day",
];

/// One piece of highlighted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Keyword,
    Function,
    Text,
    Number,
    Operator,
    Name,
    Space,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Keyword => "kw",
            Kind::Function => "fn",
            Kind::Text => "str",
            Kind::Number => "num",
            Kind::Operator => "op",
            Kind::Name => "id",
            Kind::Space => "",
        }
    }
}

/// Splits `source` into classified pieces that concatenate back to it.
pub(crate) fn pieces(source: &str) -> Vec<(Kind, &str)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let kind = if c.is_ascii_whitespace() {
            i = scan(bytes, i, |b| b.is_ascii_whitespace());
            Kind::Space
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            Kind::Text
        } else if c.is_ascii_digit() {
            i = scan(bytes, i, |b| {
                b.is_ascii_alphanumeric() || b == b'.' || b == b'_'
            });
            Kind::Number
        } else if c.is_ascii_alphabetic() || c == b'_' {
            i = scan(bytes, i, |b| {
                b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
            });
            let word = &source[start..i];
            let next = source[i..].trim_start().chars().next();
            if KEYWORDS.contains(&word) {
                Kind::Keyword
            } else if next == Some('(') {
                Kind::Function
            } else {
                Kind::Name
            }
        } else {
            // One character (whole UTF-8 sequence) of punctuation.
            i += source[i..].chars().next().map_or(1, char::len_utf8);
            Kind::Operator
        };
        out.push((kind, &source[start..i]));
    }
    out
}

fn scan(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

/// The expression as highlighted HTML inside `<pre><code>`.
pub(crate) fn expression(source: &str) -> Markup {
    html! {
        pre.code { code {
            @for (kind, text) in pieces(source.trim()) {
                @if kind == Kind::Space {
                    (text)
                } @else {
                    span class=(kind.class()) { (text) }
                }
            }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_classify_and_reassemble() {
        let source =
            r#"count(page where path = "/pricing", last 7d) >= 2 and trait.plan in ['pro']"#;
        let pieces = pieces(source);
        let joined: String = pieces.iter().map(|(_, t)| *t).collect();
        assert_eq!(joined, source);
        let kind_of = |word: &str| pieces.iter().find(|(_, t)| *t == word).map(|(k, _)| *k);
        assert_eq!(kind_of("count"), Some(Kind::Function));
        assert_eq!(kind_of("where"), Some(Kind::Keyword));
        assert_eq!(kind_of("\"/pricing\""), Some(Kind::Text));
        assert_eq!(kind_of("7d"), Some(Kind::Number));
        assert_eq!(kind_of("trait.plan"), Some(Kind::Name));
        assert_eq!(kind_of("'pro'"), Some(Kind::Text));
        assert_eq!(kind_of(">"), Some(Kind::Operator));
    }

    #[test]
    fn markup_escapes_and_tolerates_unclosed_strings() {
        let html = expression(r#"exists("<b>") and "open"#).into_string();
        assert!(
            html.contains(r#"<span class="str">&quot;&lt;b&gt;&quot;</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="str">&quot;open</span>"#));
        assert_eq!(pieces("é≥").len(), 2);
    }
}
