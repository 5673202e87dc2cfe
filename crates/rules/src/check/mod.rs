//! The checker: resolves names, checks types, arity, scope (contact or
//! account) and references, and lowers the syntax tree to `ir`.
//!
//! It reports every problem it can find in one pass: after an error it goes on
//! with a placeholder of type `any`, so one typo does not hide the next.

mod calls;
mod days;
mod ops;
mod predicates;
mod refs;
mod select;

use std::collections::HashMap;

use crate::ast::{Expr, ExprKind, Span};
use crate::diagnostics::Problem;
use crate::ir::{Node, NodeKind};
use crate::subject::SubjectKind;
use crate::value::Value;

/// The static types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Num,
    Str,
    Bool,
    Dur,
    Time,
    List,
    /// Traits and properties: known only at run time.
    Any,
}

impl Ty {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::Num => "number",
            Ty::Str => "string",
            Ty::Bool => "bool",
            Ty::Dur => "duration",
            Ty::Time => "time",
            Ty::List => "list",
            Ty::Any => "any",
        }
    }

    fn fits(self, wanted: Ty) -> bool {
        self == wanted || self == Ty::Any || wanted == Ty::Any
    }
}

/// What the checker knows about the other definitions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    pub(crate) scores: HashMap<String, ScoreInfo>,
    pub(crate) segments: HashMap<String, SubjectKind>,
    pub(crate) tiers: HashMap<String, TierInfo>,
}

#[derive(Clone, Debug)]
pub(crate) struct ScoreInfo {
    pub(crate) subject: SubjectKind,
    pub(crate) half_life: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct TierInfo {
    pub(crate) subject: SubjectKind,
    pub(crate) levels: Vec<String>,
}

/// The kinds of definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefKind {
    /// `[[score]]`
    Score,
    /// `[[segment]]`
    Segment,
    /// `[[tier]]`
    Tier,
}

impl DefKind {
    /// `score`, `segment`, `tier`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefKind::Score => "score",
            DefKind::Segment => "segment",
            DefKind::Tier => "tier",
        }
    }

    /// The kind named by [`DefKind::as_str`]'s text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "score" => Some(DefKind::Score),
            "segment" => Some(DefKind::Segment),
            "tier" => Some(DefKind::Tier),
            _ => None,
        }
    }
}

/// A reference from an expression to a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dep {
    pub(crate) kind: DefKind,
    pub(crate) name: String,
    pub(crate) subject: SubjectKind,
    pub(crate) span: Span,
}

/// Where an expression is being checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub(crate) subject: SubjectKind,
    /// Inside `where`: bare names are event properties; no aggregates.
    pub(crate) in_where: bool,
}

/// A checked expression.
pub(crate) struct Typed {
    pub(crate) node: Node,
    pub(crate) ty: Ty,
    /// Changes continuously with time (days_since, decaying scores).
    pub(crate) varying: bool,
}

pub(crate) struct Checker<'c> {
    pub(crate) catalog: &'c Catalog,
    pub(crate) problems: Vec<Problem>,
    pub(crate) deps: Vec<Dep>,
}

/// A checked expression with what it references.
pub(crate) struct Checked {
    pub(crate) node: Node,
    pub(crate) deps: Vec<Dep>,
}

/// Checks a score rule's `on` selector.
pub(crate) fn check_selector(
    arg: &crate::ast::Arg,
    subject: SubjectKind,
    catalog: &Catalog,
) -> Result<(crate::ir::Sel, Vec<Dep>), Vec<Problem>> {
    let mut checker = Checker {
        catalog,
        problems: Vec::new(),
        deps: Vec::new(),
    };
    let sel = checker.selector(
        arg,
        Ctx {
            subject,
            in_where: false,
        },
    );
    match sel {
        Some(sel) if checker.problems.is_empty() => Ok((sel, checker.deps)),
        _ => Err(checker.problems),
    }
}

/// Checks `expr` for `subject` and requires a boolean.
pub(crate) fn check_condition(
    expr: &Expr,
    subject: SubjectKind,
    catalog: &Catalog,
) -> Result<Checked, Vec<Problem>> {
    check_typed(expr, subject, catalog, Ty::Bool)
}

/// Checks `expr` and requires type `wanted`.
pub(crate) fn check_typed(
    expr: &Expr,
    subject: SubjectKind,
    catalog: &Catalog,
    wanted: Ty,
) -> Result<Checked, Vec<Problem>> {
    let mut checker = Checker {
        catalog,
        problems: Vec::new(),
        deps: Vec::new(),
    };
    let typed = checker.expr(
        expr,
        Ctx {
            subject,
            in_where: false,
        },
    );
    if !typed.ty.fits(wanted) {
        checker.problems.push(
            Problem::new(
                "type",
                format!(
                    "expected a {} expression, found a {}",
                    wanted.name(),
                    typed.ty.name()
                ),
                expr.span,
            )
            .hint(
                "a segment condition is true or false, e.g. `count(\"Logged In\", last 7d) >= 3`",
            ),
        );
    }
    if checker.problems.is_empty() {
        Ok(Checked {
            node: typed.node,
            deps: checker.deps,
        })
    } else {
        Err(checker.problems)
    }
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, problem: Problem) -> Typed {
        let span = problem.span;
        self.problems.push(problem);
        Typed {
            node: Node::new(NodeKind::Lit(Value::Missing), span),
            ty: Ty::Any,
            varying: false,
        }
    }

    pub(crate) fn lit(value: Value, ty: Ty, span: Span) -> Typed {
        Typed {
            node: Node::new(NodeKind::Lit(value), span),
            ty,
            varying: false,
        }
    }

    pub(crate) fn expr(&mut self, expr: &Expr, ctx: Ctx) -> Typed {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Num(n) => Self::lit(Value::Number(*n), Ty::Num, span),
            ExprKind::Str(s) => Self::lit(Value::String(s.as_str().into()), Ty::Str, span),
            ExprKind::Bool(b) => Self::lit(Value::Bool(*b), Ty::Bool, span),
            ExprKind::Dur(ms) => Self::lit(Value::Duration(*ms), Ty::Dur, span),
            ExprKind::List(items) => self.list(items, span, ctx),
            ExprKind::Path(path) => self.path(path, span, ctx),
            ExprKind::Call { name, args } => self.call(name, args, span, ctx),
            ExprKind::Field { base, path } => self.field(base, path, span, ctx),
            ExprKind::Unary { op, expr } => self.unary(*op, expr, span, ctx),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span, ctx),
            ExprKind::Between { expr, low, high } => self.between(expr, low, high, span, ctx),
        }
    }

    fn list(&mut self, items: &[Expr], span: Span, ctx: Ctx) -> Typed {
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let typed = self.expr(item, ctx);
            match typed.node.kind {
                NodeKind::Lit(value) if typed.ty != Ty::List => values.push(value),
                _ => {
                    self.error(
                        Problem::new("type", "list items must be literal values", item.span)
                            .hint("write a list like [\"pro\", \"enterprise\"]"),
                    );
                }
            }
        }
        Self::lit(Value::List(values), Ty::List, span)
    }
}
