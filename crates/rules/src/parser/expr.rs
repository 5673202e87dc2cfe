//! Operators by precedence, lowest first: `or`, `and`, `not`, comparison
//! (`= != < <= > >= in not-in between contains starts_with matches`),
//! `+ -`, `* /`, unary `-`, postfix `.field`, primaries.

use super::Parser;
use crate::ast::{BinOp, Expr, ExprKind, Ident, UnOp};
use crate::diagnostics::Problem;
use crate::lexer::Tok;

/// Words that cannot be used as a bare name.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "between",
    "where",
    "contains",
    "starts_with",
    "matches",
    "then",
    "followed_by",
    "within",
    "ago",
    "of",
    "true",
    "false",
];

/// Whether `word` is a keyword of the language.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

impl Parser {
    pub(super) fn expr(&mut self) -> Result<Expr, Problem> {
        self.enter()?;
        let result = self.or_expr();
        self.leave();
        result
    }

    fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        }
    }

    fn or_expr(&mut self) -> Result<Expr, Problem> {
        let mut lhs = self.and_expr()?;
        while self.eat_keyword("or") {
            let rhs = self.and_expr()?;
            lhs = Self::binary(BinOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> Result<Expr, Problem> {
        let mut lhs = self.not_expr()?;
        while self.eat_keyword("and") {
            let rhs = self.not_expr()?;
            lhs = Self::binary(BinOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> Result<Expr, Problem> {
        if !self.is_keyword("not") {
            return self.comparison();
        }
        let start = self.bump().span;
        self.enter()?;
        let operand = self.not_expr();
        self.leave();
        let operand = operand?;
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op: UnOp::Not,
                expr: Box::new(operand),
            },
            span,
        })
    }

    fn comparison_op(&mut self) -> Option<BinOp> {
        let op = match self.peek() {
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Ident(word) => match word.as_str() {
                "in" => BinOp::In,
                "contains" => BinOp::Contains,
                "starts_with" => BinOp::StartsWith,
                "matches" => BinOp::Matches,
                "not" if matches!(self.peek_at(1), Tok::Ident(w) if w == "in") => {
                    self.pos += 1;
                    BinOp::NotIn
                }
                _ => return None,
            },
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn comparison(&mut self) -> Result<Expr, Problem> {
        let lhs = self.additive()?;
        if self.eat_keyword("between") {
            let low = self.additive()?;
            self.expect_keyword("and")?;
            let high = self.additive()?;
            let span = lhs.span.to(high.span);
            let kind = ExprKind::Between {
                expr: Box::new(lhs),
                low: Box::new(low),
                high: Box::new(high),
            };
            return Ok(Expr { kind, span });
        }
        let Some(op) = self.comparison_op() else {
            return Ok(lhs);
        };
        let rhs = self.additive()?;
        if self.comparison_op().is_some() {
            let span = self.tokens[self.pos - 1].span;
            return Err(Problem::new("parse", "comparisons cannot be chained", span)
                .hint("combine them with `and`, or use `x between a and b`"));
        }
        Ok(Self::binary(op, lhs, rhs))
    }

    fn additive(&mut self) -> Result<Expr, Problem> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.multiplicative()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, Problem> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn unary(&mut self) -> Result<Expr, Problem> {
        if !matches!(self.peek(), Tok::Minus) {
            return self.postfix();
        }
        let start = self.bump().span;
        self.enter()?;
        let operand = self.unary();
        self.leave();
        let operand = operand?;
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op: UnOp::Neg,
                expr: Box::new(operand),
            },
            span,
        })
    }

    fn postfix(&mut self) -> Result<Expr, Problem> {
        let mut base = self.primary()?;
        if matches!(self.peek(), Tok::Dot) && matches!(base.kind, ExprKind::Call { .. }) {
            let path = self.dotted_tail()?;
            let span = base.span.to(path.last().map_or(base.span, |i| i.span));
            base = Expr {
                kind: ExprKind::Field {
                    base: Box::new(base),
                    path,
                },
                span,
            };
        }
        Ok(base)
    }

    /// `.a.b.c` after a name or a call.
    fn dotted_tail(&mut self) -> Result<Vec<Ident>, Problem> {
        let mut path = Vec::new();
        while self.eat(&Tok::Dot) {
            path.push(self.ident("a name after `.`")?);
        }
        Ok(path)
    }

    pub(super) fn ident(&mut self, wanted: &str) -> Result<Ident, Problem> {
        match self.peek() {
            Tok::Ident(name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.unexpected(wanted)),
        }
    }

    fn primary(&mut self) -> Result<Expr, Problem> {
        let token = self.bump();
        let kind = match token.tok {
            Tok::Num(n) => ExprKind::Num(n),
            Tok::Dur(ms) => ExprKind::Dur(ms),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::LParen => return self.parenthesized(token.span),
            Tok::LBracket => return self.list(token.span),
            Tok::Ident(name) => {
                return self.name_or_call(Ident {
                    name,
                    span: token.span,
                })
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("a value"));
            }
        };
        Ok(Expr {
            kind,
            span: token.span,
        })
    }

    fn parenthesized(&mut self, open: crate::ast::Span) -> Result<Expr, Problem> {
        let mut inner = self.expr()?;
        if !matches!(self.peek(), Tok::RParen) {
            return Err(self
                .unexpected("`)`")
                .hint(format!("the `(` at byte {} is not closed", open.start)));
        }
        let close = self.bump().span;
        inner.span = open.to(close);
        Ok(inner)
    }

    fn list(&mut self, open: crate::ast::Span) -> Result<Expr, Problem> {
        let mut items = Vec::new();
        while !matches!(self.peek(), Tok::RBracket) {
            items.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let close = self.expect(&Tok::RBracket, "`,` or `]`")?;
        Ok(Expr {
            kind: ExprKind::List(items),
            span: open.to(close),
        })
    }

    fn name_or_call(&mut self, head: Ident) -> Result<Expr, Problem> {
        match head.name.as_str() {
            "true" => {
                return Ok(Expr {
                    kind: ExprKind::Bool(true),
                    span: head.span,
                })
            }
            "false" => {
                return Ok(Expr {
                    kind: ExprKind::Bool(false),
                    span: head.span,
                })
            }
            word if is_reserved(word) => {
                self.pos -= 1;
                return Err(self.unexpected("a value"));
            }
            _ => {}
        }
        if matches!(self.peek(), Tok::LParen) {
            return self.call(head);
        }
        let start = head.span;
        let mut path = vec![head];
        path.extend(self.dotted_tail()?);
        Ok(Expr {
            kind: ExprKind::Path(path),
            span: self.finish(start),
        })
    }

    fn call(&mut self, name: Ident) -> Result<Expr, Problem> {
        self.expect(&Tok::LParen, "`(`")?;
        self.enter()?;
        let args = self.call_args(&name);
        self.leave();
        let args = args?;
        let span = self.finish(name.span);
        Ok(Expr {
            kind: ExprKind::Call { name, args },
            span,
        })
    }
}
