//! References to other definitions (`score`, `in_segment`, `tier`) and
//! trait history (`past`).

use std::sync::Arc;

use super::calls::node;
use super::{Checker, Ctx, DefKind, Dep, Ty, Typed};
use crate::ast::{Arg, ArgKind, Expr, ExprKind, Ident, Span};
use crate::diagnostics::{suggest, Problem};
use crate::ir::NodeKind;
use crate::subject::SubjectKind;

impl Checker<'_> {
    pub(super) fn reference(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        if !self.arity(name, args, (1, 1), span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        let target = match &args[0].kind {
            ArgKind::Expr(Expr {
                kind: ExprKind::Str(target),
                ..
            }) => target.clone(),
            _ => {
                let problem = Problem::new(
                    "type",
                    format!("`{}` takes a quoted name", name.name),
                    args[0].span,
                )
                .hint(format!("write {}(\"name\")", name.name));
                return self.error(problem);
            }
        };
        let kind = match name.name.as_str() {
            "score" => DefKind::Score,
            "in_segment" => DefKind::Segment,
            _ => DefKind::Tier,
        };
        let Some((subject, varying)) = self.resolve(kind, &target, args[0].span, ctx) else {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        };
        self.deps.push(Dep {
            kind,
            name: target.clone(),
            subject,
            span: args[0].span,
        });
        let target: Arc<str> = Arc::from(target.as_str());
        let (kind, ty) = match kind {
            DefKind::Score => (NodeKind::Score(target), Ty::Num),
            DefKind::Segment => (NodeKind::InSegment(target), Ty::Bool),
            DefKind::Tier => (NodeKind::Tier(target), Ty::Str),
        };
        Typed {
            varying,
            ..node(kind, span, ty)
        }
    }

    /// The subject of a referenced definition, and whether it varies with time.
    fn resolve(
        &mut self,
        kind: DefKind,
        target: &str,
        span: Span,
        ctx: Ctx,
    ) -> Option<(SubjectKind, bool)> {
        let catalog = self.catalog;
        let found = match kind {
            DefKind::Score => catalog
                .scores
                .get(target)
                .map(|s| (s.subject, s.half_life.is_some())),
            DefKind::Segment => catalog.segments.get(target).map(|s| (*s, false)),
            DefKind::Tier => catalog.tiers.get(target).map(|t| (t.subject, false)),
        };
        let Some((subject, varying)) = found else {
            self.unknown_reference(kind, target, span);
            return None;
        };
        if subject != ctx.subject {
            let message = format!(
                "{} \"{target}\" is about {}s, but this rule is about {}s",
                kind.as_str(),
                subject.as_str(),
                ctx.subject.as_str()
            );
            let problem = Problem::new("scope", message, span);
            let problem = if subject == SubjectKind::Contact {
                problem.hint(format!(
                    "count the account's contacts: count(contacts where {}(\"{target}\") ...) >= 1",
                    if kind == DefKind::Segment {
                        "in_segment"
                    } else {
                        kind.as_str()
                    }
                ))
            } else {
                problem
            };
            self.problems.push(problem);
            return None;
        }
        Some((subject, varying))
    }

    pub(super) fn past(&mut self, name: &Ident, args: &[Arg], span: Span) -> Typed {
        if !self.arity(name, args, (2, 2), span) {
            return Self::lit(crate::value::Value::Missing, Ty::Any, span);
        }
        let trait_node = match &args[0].kind {
            ArgKind::Expr(expr) => self.expr(
                expr,
                Ctx {
                    subject: SubjectKind::Contact,
                    in_where: false,
                },
            ),
            _ => self.error(Problem::new("type", "expected a trait", args[0].span)),
        };
        let ago = match &args[1].kind {
            ArgKind::Expr(Expr {
                kind: ExprKind::Dur(ms),
                ..
            }) if *ms > 0 => Some(*ms),
            _ => None,
        };
        let (NodeKind::Trait { scope, path }, Some(ago)) = (trait_node.node.kind, ago) else {
            let problem =
                Problem::new("type", "`past` takes a trait and a positive duration", span)
                    .hint("write `past(trait.seats, 60d)`: the value trait.seats had 60 days ago");
            return self.error(problem);
        };
        node(NodeKind::Past { scope, path, ago }, span, Ty::Any)
    }

    fn unknown_reference(&mut self, kind: DefKind, target: &str, span: Span) {
        let catalog = self.catalog;
        let names: Vec<&str> = match kind {
            DefKind::Score => catalog.scores.keys().map(String::as_str).collect(),
            DefKind::Segment => catalog.segments.keys().map(String::as_str).collect(),
            DefKind::Tier => catalog.tiers.keys().map(String::as_str).collect(),
        };
        let message = format!("no {} named \"{target}\"", kind.as_str());
        let problem = Problem::new("unknown_reference", message, span);
        let problem = match suggest(target, names) {
            Some(near) => problem.hint(format!("did you mean \"{near}\"?")),
            None => problem.hint(format!(
                "define it with [[{}]] name = \"{target}\"",
                kind.as_str()
            )),
        };
        self.problems.push(problem);
    }
}
