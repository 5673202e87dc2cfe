//! Call arguments, including the argument-only forms: windows
//! (`last 7d`, `between 60d and 30d ago`, `within 48h of first(S)`),
//! filtered selectors (`S where P`), sequences (`A then B within D`) and
//! `last N A followed_by B on prop within D`.

use super::Parser;
use crate::ast::{Arg, ArgKind, ExprKind, Ident, Span, Window};
use crate::diagnostics::Problem;
use crate::lexer::Tok;

impl Parser {
    pub(super) fn call_args(&mut self, name: &Ident) -> Result<Vec<Arg>, Problem> {
        let mut args = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        loop {
            args.push(self.arg()?);
            if self.eat(&Tok::Comma) {
                continue;
            }
            if self.eat(&Tok::RParen) {
                return Ok(args);
            }
            let wanted = format!("`,` or `)` in the arguments of `{}`", name.name);
            return Err(self.unexpected(&wanted));
        }
    }

    fn arg(&mut self) -> Result<Arg, Problem> {
        let start = self.span();
        if self.is_keyword("last") {
            return match self.peek_at(1) {
                Tok::Num(_) => self.last_n(start),
                _ => self.window_arg(start),
            };
        }
        if self.is_keyword("between") || self.is_keyword("within") {
            return self.window_arg(start);
        }
        let first = self.selector_arg()?;
        if !self.is_keyword("then") {
            return Ok(first);
        }
        let mut steps = vec![first];
        while self.eat_keyword("then") {
            steps.push(self.selector_arg()?);
        }
        let within = self.optional_within()?;
        let kind = ArgKind::Sequence { steps, within };
        Ok(Arg {
            kind,
            span: self.finish(start),
        })
    }

    /// `expr [where expr]`
    pub(super) fn selector_arg(&mut self) -> Result<Arg, Problem> {
        let start = self.span();
        let base = self.expr()?;
        if !self.eat_keyword("where") {
            let span = base.span;
            return Ok(Arg {
                kind: ArgKind::Expr(base),
                span,
            });
        }
        let filter = self.expr()?;
        let span = start.to(filter.span);
        Ok(Arg {
            kind: ArgKind::Filtered { base, filter },
            span,
        })
    }

    fn optional_within(&mut self) -> Result<Option<i64>, Problem> {
        if self.eat_keyword("within") {
            Ok(Some(
                self.expect_duration("the maximum delay after `within`")?,
            ))
        } else {
            Ok(None)
        }
    }

    fn window_arg(&mut self, start: Span) -> Result<Arg, Problem> {
        let window = self.window()?;
        Ok(Arg {
            kind: ArgKind::Window(window),
            span: self.finish(start),
        })
    }

    fn window(&mut self) -> Result<Window, Problem> {
        if self.eat_keyword("last") {
            return Ok(Window::Last(
                self.expect_duration("the window length after `last`")?,
            ));
        }
        if self.eat_keyword("between") {
            let from = self.expect_duration("how long ago the window starts")?;
            self.expect_keyword("and")?;
            let to = self.expect_duration("how long ago the window ends")?;
            self.expect_keyword("ago")
                .map_err(|p| p.hint("write `between 60d and 30d ago`"))?;
            return Ok(Window::Ago { from, to });
        }
        self.expect_keyword("within")?;
        let length = self.expect_duration("the window length after `within`")?;
        self.expect_keyword("of")
            .map_err(|p| p.hint("write `within 48h of first(\"Signed Up\")`"))?;
        let first = self.ident("`first`")?;
        if first.name != "first" {
            return Err(
                Problem::new("parse", "expected `first(...)` after `of`", first.span).hint(
                    "windows anchor on the first event: `within 48h of first(\"Signed Up\")`",
                ),
            );
        }
        self.expect(&Tok::LParen, "`(`")?;
        let anchor = self.selector_arg()?;
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Window::WithinOf {
            length,
            anchor: Box::new(anchor),
        })
    }

    /// `last N A followed_by B [on prop] [within D]`
    fn last_n(&mut self, start: Span) -> Result<Arg, Problem> {
        self.expect_keyword("last")?;
        let count = match self.bump().tok {
            Tok::Num(n) => n,
            _ => return Err(self.unexpected("a number")),
        };
        if matches!(self.peek(), Tok::RParen | Tok::Comma | Tok::Eof) {
            let span = self.tokens[self.pos - 1].span;
            return Err(Problem::new("parse", "a window needs a duration", span)
                .hint("add a unit: `last 7d`, `last 12h`"));
        }
        let lead = self.selector_arg()?;
        self.expect_keyword("followed_by").map_err(|p| {
            p.hint("write `last 3 \"Email Sent\" followed_by \"Email Opened\" on email_id`; a window is written `last 7d`")
        })?;
        let follower = self.selector_arg()?;
        let on = if self.eat_keyword("on") {
            Some(self.property_path()?)
        } else {
            None
        };
        let within = self.optional_within()?;
        let kind = ArgKind::LastN {
            count,
            lead: Box::new(lead),
            follower: Box::new(follower),
            on,
            within,
        };
        Ok(Arg {
            kind,
            span: self.finish(start),
        })
    }

    fn property_path(&mut self) -> Result<Vec<Ident>, Problem> {
        let expr = self.expr()?;
        match expr.kind {
            ExprKind::Path(path) => Ok(path),
            ExprKind::Str(name) => Ok(vec![Ident {
                name,
                span: expr.span,
            }]),
            _ => Err(Problem::new(
                "parse",
                "expected a property name after `on`",
                expr.span,
            )),
        }
    }
}
