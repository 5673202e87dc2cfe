//! Recursive-descent parser: text in, [`Expr`] with spans out.
//!
//! The grammar is in the crate documentation. Nesting is capped at
//! [`MAX_DEPTH`], the text at [`MAX_SOURCE_BYTES`] and [`MAX_TOKENS`], so no
//! input can exhaust the stack or take long.

mod args;
mod expr;

use crate::ast::{Expr, Span};
use crate::diagnostics::Problem;
use crate::lexer::{lex, Tok, Token};

/// Deepest nesting of parentheses, calls and operators.
pub const MAX_DEPTH: usize = 48;
/// Longest expression text.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024;
/// Most tokens in one expression.
pub const MAX_TOKENS: usize = 4_096;

/// Parses one expression.
pub fn parse(src: &str) -> Result<Expr, Problem> {
    if src.len() > MAX_SOURCE_BYTES {
        let span = Span::new(MAX_SOURCE_BYTES, src.len());
        return Err(Problem::new(
            "limit",
            format!("expression longer than {MAX_SOURCE_BYTES} bytes"),
            span,
        ));
    }
    let tokens = lex(src)?;
    if tokens.len() > MAX_TOKENS {
        let span = tokens[MAX_TOKENS].span;
        return Err(Problem::new(
            "limit",
            format!("expression has more than {MAX_TOKENS} tokens"),
            span,
        )
        .hint("split the rule into several segments and combine them with in_segment()"));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.expr()?;
    parser.expect_eof()?;
    Ok(expr)
}

/// Parses an event selector with an optional `where` (a score rule's `on`).
pub(crate) fn parse_selector(src: &str) -> Result<crate::ast::Arg, Problem> {
    let tokens = lex(&src[..src.len().min(MAX_SOURCE_BYTES)])?;
    if tokens.len() > MAX_TOKENS {
        return Err(Problem::new(
            "limit",
            format!("selector has more than {MAX_TOKENS} tokens"),
            tokens[MAX_TOKENS].span,
        ));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let arg = parser.selector_arg()?;
    parser.expect_eof()?;
    Ok(arg)
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn current(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek(&self) -> &Tok {
        &self.current().tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + ahead).min(last)].tok
    }

    fn span(&self) -> Span {
        self.current().span
    }

    /// The end of the previous token.
    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .map_or(0, |i| self.tokens[i].span.end)
    }

    fn bump(&mut self) -> Token {
        let token = self.current().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(name) if name == word)
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.is_keyword(word);
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let found = self.peek() == tok;
        if found {
            self.pos += 1;
        }
        found
    }

    fn unexpected(&self, wanted: &str) -> Problem {
        let token = self.current();
        Problem::new(
            "parse",
            format!("expected {wanted}, found {}", token.tok.describe()),
            token.span,
        )
    }

    fn expect(&mut self, tok: &Tok, wanted: &str) -> Result<Span, Problem> {
        if self.peek() == tok {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<Span, Problem> {
        if self.is_keyword(word) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&format!("`{word}`")))
        }
    }

    fn expect_duration(&mut self, what: &str) -> Result<i64, Problem> {
        match *self.peek() {
            Tok::Dur(ms) => {
                self.pos += 1;
                Ok(ms)
            }
            Tok::Num(_) => Err(self
                .unexpected(&format!("a duration ({what})"))
                .hint("add a unit: `30m`, `12h`, `7d`, `2w`")),
            _ => Err(self.unexpected(&format!("a duration ({what})"))),
        }
    }

    fn expect_eof(&mut self) -> Result<(), Problem> {
        if matches!(self.peek(), Tok::Eof) {
            return Ok(());
        }
        let problem = self.unexpected("an operator or the end of the expression");
        Err(match self.peek() {
            Tok::Ident(word) if word == "where" => {
                problem.hint("`where` filters an event selector inside a call: count(page where path = \"/pricing\")")
            }
            Tok::RParen => problem.hint("this `)` has no matching `(`"),
            _ => problem,
        })
    }

    fn enter(&mut self) -> Result<(), Problem> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Problem::new(
                "limit",
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                self.span(),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn finish(&self, start: Span) -> Span {
        Span::new(start.start, self.prev_end().max(start.start))
    }
}

#[cfg(test)]
mod tests;

/// Renders a parse result as an s-expression or an error line (for tests).
#[cfg(test)]
pub(crate) fn sexpr(src: &str) -> String {
    match parse(src) {
        Ok(expr) => expr.to_string(),
        Err(problem) => format!(
            "error {}..{}: {}",
            problem.span.start, problem.span.end, problem.message
        ),
    }
}
