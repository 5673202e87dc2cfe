//! Maps a byte offset inside a TOML string value to a byte offset in the file.
//!
//! Literal strings ('…', '''…''') map one to one from the first content byte;
//! basic strings ("…", """…""") are decoded again here, escape by escape.

use std::ops::Range;

/// For each byte of the decoded `value`, its offset in `file` (plus one entry
/// for the end). `None` when the span does not hold a string we can map.
pub(crate) fn offsets(file: &str, span: Range<usize>, value: &str) -> Option<Vec<usize>> {
    let raw = file.get(span.clone())?;
    let (quote, multi) = if raw.starts_with("'''") {
        ("'''", true)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else if raw.starts_with('"') {
        ("\"", false)
    } else {
        return None;
    };
    let mut start = span.start + quote.len();
    if multi {
        if file[start..].starts_with("\r\n") {
            start += 2;
        } else if file[start..].starts_with('\n') {
            start += 1;
        }
    }
    let end = span.end.checked_sub(quote.len())?;
    let content = file.get(start..end)?;
    let map = if quote.starts_with('\'') {
        (0..=content.len()).map(|i| start + i).collect()
    } else {
        decode_basic(content, start, value)?
    };
    (map.len() == value.len() + 1).then_some(map)
}

fn decode_basic(content: &str, base: usize, value: &str) -> Option<Vec<usize>> {
    let mut map = Vec::with_capacity(value.len() + 1);
    let mut decoded = String::with_capacity(value.len());
    let mut chars = content.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            decoded.push(c);
            map.extend(std::iter::repeat_n(base + at, c.len_utf8()));
            continue;
        }
        let (_, escape) = chars.next()?;
        let produced = match escape {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'e' => Some('\u{1b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            'u' | 'U' => {
                let digits = if escape == 'u' { 4 } else { 8 };
                let hex: String = (0..digits)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                Some(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?)
            }
            _ => {
                while chars.peek().is_some_and(|(_, w)| w.is_whitespace()) {
                    chars.next();
                }
                None
            }
        };
        if let Some(produced) = produced {
            decoded.push(produced);
            map.extend(std::iter::repeat_n(base + at, produced.len_utf8()));
        }
    }
    map.push(base + content.len());
    (decoded == value).then_some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_literal_and_basic_strings() {
        let file = "when = '''\n  count(x) >= 2'''\nb = \"a\\\"bc\"";
        let start = file.find("'''").unwrap_or(0);
        let end = file.find("\nb").unwrap_or(0);
        let map = offsets(file, start..end, "  count(x) >= 2").unwrap_or_default();
        assert_eq!(&file[map[2]..map[2] + 5], "count");
        let start = file.find('"').unwrap_or(0);
        let map = offsets(file, start..file.len(), "a\"bc").unwrap_or_default();
        assert_eq!(&file[map[2]..map[2] + 1], "b");
    }
}
