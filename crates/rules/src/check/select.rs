//! Selectors, windows, property names, sequences.

use std::sync::Arc;

use super::{Checker, Ctx, Ty, Typed};
use crate::ast::{Arg, ArgKind, Expr, ExprKind, Ident, Span, Window};
use crate::diagnostics::Problem;
use crate::ir::{EachFollowed, Node, NodeKind, PropPath, Sel, SelBase, Win};

/// Largest N in `each(last N ...)`.
const MAX_LAST_N: f64 = 1_000.0;

fn selector_problem(span: Span) -> Problem {
    Problem::new("type", "expected an event selector", span)
        .hint("a selector is \"Event Name\", an identifier, page, screen or any, optionally followed by `where <predicate>`")
}

impl Checker<'_> {
    pub(super) fn selector(&mut self, arg: &Arg, ctx: Ctx) -> Option<Sel> {
        let (base, filter) = match &arg.kind {
            ArgKind::Expr(base) => (base, None),
            ArgKind::Filtered { base, filter } => (base, Some(filter)),
            ArgKind::Window(_) => {
                let problem = Problem::new(
                    "type",
                    "expected an event selector, found a window",
                    arg.span,
                )
                .hint("the selector comes first: count(\"Logged In\", last 7d)");
                self.problems.push(problem);
                return None;
            }
            _ => {
                self.problems.push(selector_problem(arg.span));
                return None;
            }
        };
        let base = self.selector_base(base)?;
        let filter = filter.map(|f| Box::new(self.filter(f, ctx)));
        Some(Sel { base, filter })
    }

    fn selector_base(&mut self, base: &Expr) -> Option<SelBase> {
        match &base.kind {
            ExprKind::Str(name) => Some(SelBase::Named(Arc::from(name.as_str()))),
            ExprKind::Path(path) if path.len() == 1 => match path[0].name.as_str() {
                "page" => Some(SelBase::Page),
                "screen" => Some(SelBase::Screen),
                "any" => Some(SelBase::Any),
                "contacts" => {
                    let problem = Problem::new(
                        "type",
                        "`contacts` is only allowed in count(contacts where ...)",
                        base.span,
                    );
                    self.problems.push(problem);
                    None
                }
                "trait" | "account" => {
                    self.problems.push(selector_problem(base.span));
                    None
                }
                name => Some(SelBase::Named(Arc::from(name))),
            },
            ExprKind::Path(_) => {
                let problem = selector_problem(base.span)
                    .hint("quote event names that contain dots or spaces: \"Order.Completed\"");
                self.problems.push(problem);
                None
            }
            _ => {
                self.problems.push(selector_problem(base.span));
                None
            }
        }
    }

    fn filter(&mut self, filter: &Expr, ctx: Ctx) -> Node {
        let typed = self.expr(
            filter,
            Ctx {
                in_where: true,
                ..ctx
            },
        );
        if !typed.ty.fits(Ty::Bool) {
            let message = format!(
                "`where` needs a true/false predicate, found a {}",
                typed.ty.name()
            );
            self.problems.push(
                Problem::new("type", message, filter.span)
                    .hint("write `page where path = \"/pricing\"`"),
            );
        }
        typed.node
    }

    pub(super) fn property(&mut self, arg: &Arg) -> Option<PropPath> {
        let path = match &arg.kind {
            ArgKind::Expr(Expr {
                kind: ExprKind::Path(path),
                ..
            }) => path.clone(),
            ArgKind::Expr(Expr {
                kind: ExprKind::Str(name),
                span,
            }) => vec![Ident {
                name: name.clone(),
                span: *span,
            }],
            _ => {
                let problem = Problem::new("type", "expected an event property name", arg.span)
                    .hint(
                    "write the property bare (`revenue`, `plan.name`) or quoted (\"Plan Name\")",
                );
                self.problems.push(problem);
                return None;
            }
        };
        Some(super::ops::prop_path(&path))
    }

    pub(super) fn optional_window(&mut self, arg: Option<&Arg>, ctx: Ctx) -> Option<Win> {
        let Some(arg) = arg else {
            return Some(Win::All);
        };
        let ArgKind::Window(window) = &arg.kind else {
            let problem = Problem::new("type", "expected a window", arg.span)
                .hint("windows are `last 7d`, `between 60d and 30d ago`, `within 48h of first(\"Signed Up\")`");
            self.problems.push(problem);
            return None;
        };
        match window {
            Window::Last(length) if *length > 0 => Some(Win::Last(*length)),
            Window::Ago { from, to } if from > to => Some(Win::Ago {
                from: *from,
                to: *to,
            }),
            Window::WithinOf { length, anchor } => {
                let anchor = self.selector(anchor, ctx)?;
                Some(Win::WithinOf {
                    length: *length,
                    anchor: Box::new(anchor),
                    first: None,
                })
            }
            Window::Last(_) => {
                self.problems.push(Problem::new(
                    "type",
                    "a window must be longer than zero",
                    arg.span,
                ));
                None
            }
            Window::Ago { .. } => {
                let problem = Problem::new(
                    "type",
                    "the window must start further back than it ends",
                    arg.span,
                )
                .hint("write the older edge first: `between 60d and 30d ago`");
                self.problems.push(problem);
                None
            }
        }
    }

    pub(super) fn sequence(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        let usage = "sequence(\"Signed Up\" then \"Campaign Created\" within 48h)";
        let Some(ArgKind::Sequence { steps, within }) = args.first().map(|a| &a.kind) else {
            let at = args.first().map_or(name.span, |a| a.span);
            let problem = Problem::new("type", "`sequence` needs steps joined by `then`", at)
                .hint(format!("write {usage}"));
            return self.error(problem);
        };
        if args.len() > 2 {
            let problem = Problem::new(
                "arity",
                format!("`sequence` takes 1 or 2 arguments, found {}", args.len()),
                span,
            );
            return self.error(problem.hint(format!("write {usage}")));
        }
        let steps: Vec<Option<Sel>> = steps.iter().map(|s| self.selector(s, ctx)).collect();
        let win = self.optional_window(args.get(1), ctx);
        let (Some(steps), Some(win)) = (steps.into_iter().collect::<Option<Vec<Sel>>>(), win)
        else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        let kind = NodeKind::Sequence {
            steps,
            within: *within,
            win,
        };
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    pub(super) fn each(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        let usage = "each(last 3 \"Email Sent\" followed_by \"Email Opened\" on email_id)";
        let [Arg {
            kind:
                ArgKind::LastN {
                    count,
                    lead,
                    follower,
                    on,
                    within,
                },
            span: arg_span,
        }] = args
        else {
            let at = args.first().map_or(name.span, |a| a.span);
            let problem = Problem::new(
                "type",
                "`each` needs `last N <selector> followed_by <selector>`",
                at,
            );
            return self.error(problem.hint(format!("write {usage}")));
        };
        if !(count.fract() == 0.0 && *count >= 1.0 && *count <= MAX_LAST_N) {
            let message = format!("`last N` needs a whole number from 1 to {MAX_LAST_N}");
            return self.error(Problem::new("type", message, *arg_span));
        }
        let lead = self.selector(lead, ctx);
        let follower = self.selector(follower, ctx);
        let (Some(lead), Some(follower)) = (lead, follower) else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        let on = on.as_ref().map(|p| super::ops::prop_path(p));
        let each = EachFollowed {
            count: *count as usize,
            lead,
            follower,
            on,
            within: *within,
        };
        Typed {
            node: Node::new(NodeKind::EachFollowed(Box::new(each)), span),
            ty: Ty::Bool,
            varying: false,
        }
    }
}
