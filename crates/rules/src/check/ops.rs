//! Names and operators.

use std::sync::Arc;

use super::{Checker, Ctx, Ty, Typed};
use crate::ast::{BinOp, Expr, Ident, Span, UnOp};
use crate::diagnostics::Problem;
use crate::ir::{ArithOp, CmpOp, Node, NodeKind, PropPath, TraitScope};

pub(super) fn prop_path(path: &[Ident]) -> PropPath {
    PropPath::new(path.iter().map(|i| Arc::from(i.name.as_str())).collect())
}

fn boxed(typed: Typed) -> Box<Node> {
    Box::new(typed.node)
}

impl Checker<'_> {
    pub(super) fn path(&mut self, path: &[Ident], span: Span, ctx: Ctx) -> Typed {
        let head = path.first().map_or("", |i| i.name.as_str());
        let scope = match head {
            "trait" => Some(TraitScope::Own),
            "account" => Some(TraitScope::Account),
            _ => None,
        };
        if let Some(scope) = scope {
            if path.len() < 2 {
                return self.error(
                    Problem::new("parse", format!("`{head}` needs a key"), span)
                        .hint(format!("write `{head}.plan`")),
                );
            }
            let kind = NodeKind::Trait {
                scope,
                path: prop_path(&path[1..]),
            };
            return Typed {
                node: Node::new(kind, span),
                ty: Ty::Any,
                varying: false,
            };
        }
        if ctx.in_where {
            let kind = NodeKind::Prop(prop_path(path));
            return Typed {
                node: Node::new(kind, span),
                ty: Ty::Any,
                varying: false,
            };
        }
        self.unknown_name(head, span)
    }

    fn unknown_name(&mut self, head: &str, span: Span) -> Typed {
        let problem = match head {
            "page" | "screen" | "any" | "contacts" => Problem::new(
                "type",
                format!("`{head}` is an event selector, not a value"),
                span,
            )
            .hint(format!("use it in an aggregate: count({head}, last 7d)")),
            _ => Problem::new("unknown_name", format!("unknown name `{head}`"), span).hint(format!(
                "traits are read with `trait.{head}` or `account.{head}`; event properties only inside `where`"
            )),
        };
        self.error(problem)
    }

    pub(super) fn unary(&mut self, op: UnOp, operand: &Expr, span: Span, ctx: Ctx) -> Typed {
        let typed = self.expr(operand, ctx);
        let (wanted, kind) = match op {
            UnOp::Not => (Ty::Bool, NodeKind::Not(Box::new(typed.node))),
            UnOp::Neg => (Ty::Num, NodeKind::Neg(Box::new(typed.node))),
        };
        let ok = typed.ty.fits(wanted) || (op == UnOp::Neg && typed.ty == Ty::Dur);
        if !ok {
            let problem = Problem::new(
                "type",
                format!(
                    "`{}` needs a {}, found a {}",
                    if op == UnOp::Not { "not" } else { "-" },
                    wanted.name(),
                    typed.ty.name()
                ),
                operand.span,
            );
            return self.error(problem);
        }
        let ty = if typed.ty == Ty::Any {
            wanted
        } else {
            typed.ty
        };
        Typed {
            node: Node::new(kind, span),
            ty,
            varying: typed.varying,
        }
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
        ctx: Ctx,
    ) -> Typed {
        if op == BinOp::Matches {
            return self.matches(lhs, rhs, span, ctx);
        }
        let left = self.expr(lhs, ctx);
        let right = self.expr(rhs, ctx);
        match op {
            BinOp::And | BinOp::Or => self.logical(op, left, right, span),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => self.arith(op, left, right, span),
            BinOp::In | BinOp::NotIn => self.membership(op == BinOp::NotIn, left, right, span),
            BinOp::Contains => self.contains(left, right, span),
            BinOp::StartsWith => self.starts_with(left, right, span),
            _ => self.compare(op, left, right, span),
        }
    }

    fn logical(&mut self, op: BinOp, left: Typed, right: Typed, span: Span) -> Typed {
        for side in [&left, &right] {
            if !side.ty.fits(Ty::Bool) {
                let message = format!(
                    "`{}` needs true/false on both sides, found a {}",
                    op.symbol(),
                    side.ty.name()
                );
                self.problems
                    .push(Problem::new("type", message, side.node.span));
            }
        }
        let mut items = Vec::new();
        for side in [left.node, right.node] {
            match (op, side.kind) {
                (BinOp::And, NodeKind::And(inner)) | (BinOp::Or, NodeKind::Or(inner)) => {
                    items.extend(inner)
                }
                (_, kind) => items.push(Node::new(kind, side.span)),
            }
        }
        let kind = if op == BinOp::And {
            NodeKind::And(items)
        } else {
            NodeKind::Or(items)
        };
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }

    fn arith(&mut self, op: BinOp, left: Typed, right: Typed, span: Span) -> Typed {
        use Ty::{Any, Dur, Num, Time};
        let ty = match (op, left.ty, right.ty) {
            (_, Num, Num) => Some(Num),
            (BinOp::Add | BinOp::Sub, Dur, Dur) => Some(Dur),
            (BinOp::Sub, Time, Time) => Some(Dur),
            (BinOp::Add | BinOp::Sub, Time, Dur) | (BinOp::Add, Dur, Time) => Some(Time),
            (BinOp::Mul, Num, Dur) | (BinOp::Mul | BinOp::Div, Dur, Num) => Some(Dur),
            (BinOp::Div, Dur, Dur) => Some(Num),
            (_, Any, Num) | (_, Num, Any) | (_, Any, Any) => Some(Any),
            (_, Any, t @ (Dur | Time)) | (_, t @ (Dur | Time), Any) => {
                Some(if op == BinOp::Div { Any } else { t })
            }
            _ => None,
        };
        let Some(ty) = ty else {
            let message = format!(
                "cannot apply `{}` to a {} and a {}",
                op.symbol(),
                left.ty.name(),
                right.ty.name()
            );
            return self.error(Problem::new("type", message, span));
        };
        let product = matches!(op, BinOp::Mul | BinOp::Div);
        if product && left.varying && right.varying {
            let message = "cannot multiply or divide two values that change with time";
            return self.error(Problem::new("type", message, span).hint(
                "days_since() and decaying scores change continuously; compare them with a constant or add them",
            ));
        }
        if op == BinOp::Div && right.varying {
            let message = "cannot divide by a value that changes with time";
            return self.error(
                Problem::new("type", message, span).hint("multiply the other side instead"),
            );
        }
        let arith = match op {
            BinOp::Add => ArithOp::Add,
            BinOp::Sub => ArithOp::Sub,
            BinOp::Mul => ArithOp::Mul,
            _ => ArithOp::Div,
        };
        let varying = left.varying || right.varying;
        let kind = NodeKind::Arith(arith, boxed(left), boxed(right));
        Typed {
            node: Node::new(kind, span),
            ty,
            varying,
        }
    }

    fn compare(&mut self, op: BinOp, left: Typed, right: Typed, span: Span) -> Typed {
        let ordering = !matches!(op, BinOp::Eq | BinOp::Ne);
        let comparable = left.ty.fits(right.ty) && left.ty != Ty::List && right.ty != Ty::List;
        let orderable = !ordering || (left.ty != Ty::Bool && right.ty != Ty::Bool);
        if !comparable || !orderable {
            let message = format!(
                "cannot compare a {} with a {} using `{}`",
                left.ty.name(),
                right.ty.name(),
                op.symbol()
            );
            let problem = Problem::new("type", message, span);
            let problem = match (left.ty, right.ty) {
                (Ty::Num, Ty::Dur) | (Ty::Dur, Ty::Num) => {
                    problem.hint("days_since() and days_until() are numbers of days: write `days_since(any) >= 21`")
                }
                (_, Ty::List) | (Ty::List, _) => problem.hint("use `in` or `contains` with lists"),
                _ => problem,
            };
            return self.error(problem);
        }
        self.check_tier_level(&left, &right);
        let cmp = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let kind = NodeKind::Cmp(cmp, boxed(left), boxed(right));
        Typed {
            node: Node::new(kind, span),
            ty: Ty::Bool,
            varying: false,
        }
    }
}
