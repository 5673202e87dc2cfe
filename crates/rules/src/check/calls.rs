//! Function calls: aggregates, references, `past`, sequences.

use super::{Checker, Ctx, Ty, Typed};
use crate::ast::{Arg, ArgKind, Expr, ExprKind, Ident, Span};
use crate::diagnostics::{suggest, Problem};
use crate::ir::{AggOp, Field, Node, NodeKind};
use crate::subject::SubjectKind;

/// Every function, with how it is called.
pub(crate) const FUNCTIONS: &[(&str, &str)] = &[
    (
        "count",
        "count(<selector> [, <window>]) or count(contacts where <expression>)",
    ),
    ("exists", "exists(<selector> [, <window>])"),
    (
        "days_since",
        "days_since(<selector>) or days_since(trait.<key>)",
    ),
    (
        "days_until",
        "days_until(trait.<key>) or days_until(account.<key>)",
    ),
    ("active_days", "active_days([<window>])"),
    ("distinct", "distinct(<selector>, <property> [, <window>])"),
    ("sum", "sum(<selector>, <property> [, <window>])"),
    ("avg", "avg(<selector>, <property> [, <window>])"),
    ("min", "min(<selector>, <property> [, <window>])"),
    ("max", "max(<selector>, <property> [, <window>])"),
    (
        "first",
        "first(<selector> [, <window>]).time or .<property>",
    ),
    ("last", "last(<selector> [, <window>]).time or .<property>"),
    ("score", "score(\"<name>\")"),
    ("in_segment", "in_segment(\"<name>\")"),
    ("tier", "tier(\"<name>\")"),
    ("past", "past(trait.<key>, <duration>)"),
    (
        "sequence",
        "sequence(<selector> then <selector> [then ...] [within <duration>] [, <window>])",
    ),
    (
        "each",
        "each(last <N> <selector> followed_by <selector> [on <property>] [within <duration>])",
    ),
];

fn usage(name: &str) -> &'static str {
    FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, u)| u)
}

pub(super) fn node(kind: NodeKind, span: Span, ty: Ty) -> Typed {
    Typed {
        node: Node::new(kind, span),
        ty,
        varying: false,
    }
}

impl Checker<'_> {
    pub(super) fn arity(
        &mut self,
        name: &Ident,
        args: &[Arg],
        range: (usize, usize),
        span: Span,
    ) -> bool {
        if (range.0..=range.1).contains(&args.len()) {
            return true;
        }
        let wanted = match range {
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} arguments"),
        };
        let message = format!("`{}` takes {wanted}, found {}", name.name, args.len());
        self.problems.push(
            Problem::new("arity", message, span).hint(format!("usage: {}", usage(&name.name))),
        );
        false
    }

    pub(super) fn call(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        let function = name.name.as_str();
        if !FUNCTIONS.iter().any(|(n, _)| *n == function) {
            let problem = Problem::new(
                "unknown_function",
                format!("unknown function `{function}`"),
                name.span,
            );
            let problem = match suggest(function, FUNCTIONS.iter().map(|(n, _)| *n)) {
                Some(near) => problem.hint(format!("did you mean `{near}`? usage: {}", usage(near))),
                None => problem.hint("functions: count, exists, days_since, days_until, active_days, distinct, sum, avg, min, max, first, last, score, in_segment, tier, past, sequence, each"),
            };
            return self.error(problem);
        }
        let reference = matches!(function, "in_segment" | "tier");
        if ctx.in_where && !reference {
            let message = format!("`{function}` cannot be used inside `where`");
            return self.error(
                Problem::new("scope", message, name.span)
                    .hint("`where` tests one event's properties"),
            );
        }
        match function {
            "count" | "exists" => self.count_or_exists(name, args, span, ctx),
            "days_since" | "days_until" => self.days(name, args, span, ctx),
            "active_days" => self.active_days(name, args, span, ctx),
            "distinct" | "sum" | "avg" | "min" | "max" => {
                self.property_aggregate(name, args, span, ctx)
            }
            "first" | "last" => self.error(
                Problem::new(
                    "type",
                    format!("`{function}(...)` is an event, not a value"),
                    span,
                )
                .hint(format!(
                    "read its time or a property: {function}(\"Signed Up\").time"
                )),
            ),
            "score" | "in_segment" | "tier" => self.reference(name, args, span, ctx),
            "past" => self.past(name, args, span),
            "sequence" => self.sequence(name, args, span, ctx),
            _ => self.each(name, args, span, ctx),
        }
    }

    fn count_or_exists(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        if !self.arity(name, args, (1, 2), span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        if let Some(typed) = self.contacts_arg(name, &args[0], span, ctx) {
            return typed;
        }
        let sel = self.selector(&args[0], ctx);
        let win = self.optional_window(args.get(1), ctx);
        let (Some(sel), Some(win)) = (sel, win) else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        if name.name == "count" {
            node(NodeKind::Count(sel, win), span, Ty::Num)
        } else {
            node(NodeKind::Exists(sel, win), span, Ty::Bool)
        }
    }

    /// `count(contacts where <contact expression>)`.
    fn contacts_arg(&mut self, name: &Ident, arg: &Arg, span: Span, ctx: Ctx) -> Option<Typed> {
        let (base, filter) = match &arg.kind {
            ArgKind::Expr(base) => (base, None),
            ArgKind::Filtered { base, filter } => (base, Some(filter)),
            _ => return None,
        };
        if !matches!(&base.kind, ExprKind::Path(p) if p.len() == 1 && p[0].name == "contacts") {
            return None;
        }
        if ctx.subject == SubjectKind::Contact {
            let problem = Problem::new("scope", "`contacts` can only be used in an account rule", base.span)
                .hint("this rule has subject = \"contact\"; set subject = \"account\" to count an account's contacts");
            return Some(self.error(problem));
        }
        if name.name != "count" {
            let problem = Problem::new(
                "type",
                format!("`{}` does not take `contacts`", name.name),
                base.span,
            )
            .hint("write count(contacts where <expression>) >= 1");
            return Some(self.error(problem));
        }
        let inner = match filter {
            Some(filter) => self.condition(
                filter,
                Ctx {
                    subject: SubjectKind::Contact,
                    in_where: false,
                },
            ),
            None => Self::lit(crate::value::Value::Bool(true), Ty::Bool, base.span),
        };
        Some(node(
            NodeKind::CountContacts(Box::new(inner.node)),
            span,
            Ty::Num,
        ))
    }

    /// Checks a boolean expression.
    pub(super) fn condition(&mut self, expr: &Expr, ctx: Ctx) -> Typed {
        let typed = self.expr(expr, ctx);
        if !typed.ty.fits(Ty::Bool) {
            let message = format!("expected true/false, found a {}", typed.ty.name());
            self.problems.push(Problem::new("type", message, expr.span));
        }
        typed
    }

    fn active_days(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        if !self.arity(name, args, (0, 1), span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        match self.optional_window(args.first(), ctx) {
            Some(win) => node(NodeKind::ActiveDays(win), span, Ty::Num),
            None => Self::lit(crate::value::Value::Missing, Ty::Any, span),
        }
    }

    fn property_aggregate(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        if !self.arity(name, args, (2, 3), span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        let sel = self.selector(&args[0], ctx);
        let prop = self.property(&args[1]);
        let win = self.optional_window(args.get(2), ctx);
        let (Some(sel), Some(prop), Some(win)) = (sel, prop, win) else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        let op = match name.name.as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            _ => AggOp::Distinct,
        };
        node(NodeKind::Agg(op, sel, prop, win), span, Ty::Num)
    }

    /// `first(S).time`, `last(S).plan`.
    pub(super) fn field(&mut self, base: &Expr, path: &[Ident], span: Span, ctx: Ctx) -> Typed {
        let ExprKind::Call { name, args } = &base.kind else {
            return self.error(Problem::new(
                "type",
                "only first(...) and last(...) have fields",
                span,
            ));
        };
        if name.name != "first" && name.name != "last" {
            let message = format!("`{}(...)` has no fields", name.name);
            return self.error(
                Problem::new("type", message, span)
                    .hint("only first(...) and last(...) have `.time` and properties"),
            );
        }
        if ctx.in_where {
            let message = format!("`{}` cannot be used inside `where`", name.name);
            return self.error(Problem::new("scope", message, name.span));
        }
        if !self.arity(name, args, (1, 2), base.span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        let sel = self.selector(&args[0], ctx);
        let win = self.optional_window(args.get(1), ctx);
        let (Some(sel), Some(win)) = (sel, win) else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        let (field, ty) = match path {
            [only] if only.name == "time" => (Field::Time, Ty::Time),
            _ => (Field::Prop(super::ops::prop_path(path)), Ty::Any),
        };
        let kind = NodeKind::Pick {
            first: name.name == "first",
            sel,
            win,
            field,
        };
        node(kind, span, ty)
    }
}
