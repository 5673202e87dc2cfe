//! Predicates: `between`, `in`, `contains`, `starts_with`, `matches`, and
//! the level check of `tier("x") = "level"`.

use super::{Checker, Ctx, Ty, Typed};
use crate::ast::{Expr, ExprKind, Span};
use crate::diagnostics::Problem;
use crate::ir::{Node, NodeKind};

/// Regexes are compiled with this size limit.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

fn boxed(typed: Typed) -> Box<Node> {
    Box::new(typed.node)
}

impl Checker<'_> {
    /// `tier("x") = "hgh"`: the level must exist.
    pub(super) fn check_tier_level(&mut self, left: &Typed, right: &Typed) {
        let (NodeKind::Tier(tier), NodeKind::Lit(crate::value::Value::String(level))) =
            (&left.node.kind, &right.node.kind)
        else {
            return;
        };
        let Some(info) = self.catalog.tiers.get(&**tier) else {
            return;
        };
        if info.levels.iter().any(|l| **l == **level) {
            return;
        }
        let message = format!("tier `{tier}` has no level \"{level}\"");
        let problem = Problem::new("unknown_reference", message, right.node.span);
        let problem =
            match crate::diagnostics::suggest(level, info.levels.iter().map(String::as_str)) {
                Some(near) => problem.hint(format!("did you mean \"{near}\"?")),
                None => problem.hint(format!("its levels are: {}", info.levels.join(", "))),
            };
        self.problems.push(problem);
    }

    pub(super) fn between(
        &mut self,
        expr: &Expr,
        low: &Expr,
        high: &Expr,
        span: Span,
        ctx: Ctx,
    ) -> Typed {
        let value = self.expr(expr, ctx);
        let low = self.expr(low, ctx);
        let high = self.expr(high, ctx);
        for bound in [&low, &high] {
            if !value.ty.fits(bound.ty) || bound.ty == Ty::Bool || bound.ty == Ty::List {
                let message = format!(
                    "cannot compare a {} with a {} in `between`",
                    value.ty.name(),
                    bound.ty.name()
                );
                return self.error(Problem::new("type", message, bound.node.span));
            }
        }
        let kind = NodeKind::Between(boxed(value), boxed(low), boxed(high));
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    pub(super) fn membership(
        &mut self,
        negated: bool,
        item: Typed,
        list: Typed,
        span: Span,
    ) -> Typed {
        if !list.ty.fits(Ty::List) {
            let message = format!(
                "the right side of `in` must be a list, found a {}",
                list.ty.name()
            );
            return self.error(
                Problem::new("type", message, list.node.span)
                    .hint("write `trait.plan in [\"pro\", \"enterprise\"]`"),
            );
        }
        let kind = NodeKind::In {
            negated,
            item: boxed(item),
            list: boxed(list),
        };
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    pub(super) fn contains(&mut self, haystack: Typed, needle: Typed, span: Span) -> Typed {
        if !matches!(haystack.ty, Ty::List | Ty::Str | Ty::Any) {
            let message = format!(
                "`contains` needs a list or a string on the left, found a {}",
                haystack.ty.name()
            );
            return self.error(Problem::new("type", message, haystack.node.span));
        }
        let kind = NodeKind::Contains(boxed(haystack), boxed(needle));
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    pub(super) fn starts_with(&mut self, text: Typed, prefix: Typed, span: Span) -> Typed {
        for side in [&text, &prefix] {
            if !side.ty.fits(Ty::Str) {
                let message = format!("`starts_with` needs strings, found a {}", side.ty.name());
                return self.error(Problem::new("type", message, side.node.span));
            }
        }
        let kind = NodeKind::StartsWith(boxed(text), boxed(prefix));
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    pub(super) fn matches(&mut self, lhs: &Expr, rhs: &Expr, span: Span, ctx: Ctx) -> Typed {
        let text = self.expr(lhs, ctx);
        if !text.ty.fits(Ty::Str) {
            let message = format!(
                "`matches` needs a string on the left, found a {}",
                text.ty.name()
            );
            return self.error(Problem::new("type", message, lhs.span));
        }
        let ExprKind::Str(pattern) = &rhs.kind else {
            return self.error(
                Problem::new(
                    "type",
                    "`matches` needs a regular expression string literal",
                    rhs.span,
                )
                .hint("write `trait.email matches \"@acme\\\\.com$\"`"),
            );
        };
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build();
        match regex {
            Ok(regex) => {
                let kind = NodeKind::Matches(boxed(text), Box::new(regex));
                Typed {
                    node: Node::new(kind, span),
                    ty: Ty::Bool,
                    varying: false,
                }
            }
            Err(err) => {
                let first_line = err
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                self.error(Problem::new(
                    "type",
                    format!("invalid regular expression: {first_line}"),
                    rhs.span,
                ))
            }
        }
    }
}
