//! Tokens of the rule language, each with its byte span.

use crate::ast::Span;
use crate::diagnostics::Problem;
use crate::time::unit_ms;

/// A token kind. Keywords are identifiers, recognised by the parser in context.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Dur(i64),
    Str(String),
    Ident(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number `{n}`"),
            Tok::Dur(ms) => format!("duration `{}`", crate::time::format_duration(*ms)),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Eof => "end of expression".to_owned(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            _ => "?",
        }
    }
}

/// A token and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, Problem> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.out)
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.src[self.pos..].chars().nth(1)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) -> Result<(), Problem> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if c == '#' {
                self.skip_comment();
            } else if c.is_ascii_digit() {
                self.number(start)?;
            } else if c == '"' || c == '\'' {
                self.string(c, start)?;
            } else if c.is_alphabetic() || c == '_' || c == '$' {
                self.ident(start);
            } else {
                self.symbol(c, start)?;
            }
        }
        self.push(Tok::Eof, self.pos);
        Ok(())
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.src[start..self.pos]
    }

    fn number(&mut self, start: usize) -> Result<(), Problem> {
        self.take_while(|c| c.is_ascii_digit() || c == '_');
        if self.peek() == Some('.') && self.peek2().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit() || c == '_');
        }
        let digits = self.src[start..self.pos].replace('_', "");
        let value: f64 = digits
            .parse()
            .map_err(|_| Problem::new("parse", "malformed number", Span::new(start, self.pos)))?;
        let unit_start = self.pos;
        let unit = self
            .take_while(|c| c.is_alphanumeric() || c == '_')
            .to_owned();
        if unit.is_empty() {
            self.push(Tok::Num(value), start);
            return Ok(());
        }
        let Some(scale) = unit_ms(&unit) else {
            return Err(Problem::new(
                "parse",
                format!("unknown duration unit `{unit}`"),
                Span::new(unit_start, self.pos),
            )
            .hint(
                "durations are written like `30m`, `12h`, `7d`, `2w` (units ms, s, m, h, d, w)",
            ));
        };
        let ms = value * scale as f64;
        if ms.is_nan() || ms >= 9.0e15 {
            return Err(Problem::new(
                "limit",
                "duration too large",
                Span::new(start, self.pos),
            ));
        }
        self.push(Tok::Dur(ms.round() as i64), start);
        Ok(())
    }

    fn string(&mut self, quote: char, start: usize) -> Result<(), Problem> {
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(Problem::new(
                    "parse",
                    "unterminated string",
                    Span::new(start, self.pos),
                )
                .hint(format!("close the string with {quote}")));
            };
            self.pos += c.len_utf8();
            if c == quote {
                break;
            }
            if c != '\\' {
                text.push(c);
                continue;
            }
            let escaped = self.peek().unwrap_or(quote);
            self.pos += escaped.len_utf8().min(self.src.len() - self.pos);
            text.push(match escaped {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
        }
        self.push(Tok::Str(text), start);
        Ok(())
    }

    fn ident(&mut self, start: usize) {
        let name = self
            .take_while(|c| c.is_alphanumeric() || c == '_' || c == '$')
            .to_owned();
        self.push(Tok::Ident(name), start);
    }

    fn symbol(&mut self, c: char, start: usize) -> Result<(), Problem> {
        let next = self.peek2();
        let (tok, len) = match (c, next) {
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('[', _) => (Tok::LBracket, 1),
            (']', _) => (Tok::RBracket, 1),
            (',', _) => (Tok::Comma, 1),
            ('.', _) => (Tok::Dot, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', _) => (Tok::Slash, 1),
            ('=', Some('=')) => (Tok::Eq, 2),
            ('=', _) => (Tok::Eq, 1),
            ('!', Some('=')) => (Tok::Ne, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('<', Some('>')) => (Tok::Ne, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('>', _) => (Tok::Gt, 1),
            _ => return Err(self.bad_symbol(c, start)),
        };
        self.pos += len;
        self.push(tok, start);
        Ok(())
    }

    fn bad_symbol(&self, c: char, start: usize) -> Problem {
        let span = Span::new(start, start + c.len_utf8());
        let problem = Problem::new("parse", format!("unexpected character `{c}`"), span);
        match c {
            '&' => problem.hint("use `and`"),
            '|' => problem.hint("use `or`"),
            '!' => problem.hint("use `not`"),
            '≥' => problem.hint("write `>=`"),
            '≤' => problem.hint("write `<=`"),
            _ => problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src)
            .map(|t| t.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn lexes_numbers_durations_and_strings() {
        assert_eq!(
            kinds(r#"count("A b", last 7d) >= 2.5"#),
            vec![
                Tok::Ident("count".into()),
                Tok::LParen,
                Tok::Str("A b".into()),
                Tok::Comma,
                Tok::Ident("last".into()),
                Tok::Dur(7 * crate::time::DAY),
                Tok::RParen,
                Tok::Ge,
                Tok::Num(2.5),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn reports_bad_units_and_symbols() {
        let err = lex("3 && 4").err().map(|p| p.hint);
        assert_eq!(err, Some(Some("use `and`".to_owned())));
        assert!(lex("7days").is_err());
        assert!(lex("\"open").is_err());
    }
}
