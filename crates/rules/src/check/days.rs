//! `days_since(...)` and `days_until(...)`: the one place where an argument
//! may be an event selector or a time-valued trait. The language already
//! tells them apart everywhere else: `trait.<key>` and `account.<key>` are
//! traits, every other name is an event. A dotted name that is neither is
//! ambiguous and refused with both spellings in the hint.

use super::calls::node;
use super::{Checker, Ctx, Ty, Typed};
use crate::ast::{Arg, ArgKind, Expr, ExprKind, Ident, Span};
use crate::diagnostics::Problem;
use crate::ir::{DaysDirection, NodeKind};
use crate::value::Value;

/// What the argument of `days_since` / `days_until` names.
enum DaysArg<'e> {
    /// `trait.x`, `account.x` (or `trait`/`account` alone, an error).
    Trait(&'e [Ident]),
    /// `trait.x where ...`: a trait has no `where`.
    FilteredTrait(Span),
    /// `a.b`: neither a trait nor a (bare) event name.
    DottedName(&'e [Ident]),
    /// Anything else: an event selector, or not even that.
    Selector,
}

fn is_trait_head(path: &[Ident]) -> bool {
    matches!(
        path.first().map(|i| i.name.as_str()),
        Some("trait" | "account")
    )
}

fn classify(arg: &Arg) -> DaysArg<'_> {
    match &arg.kind {
        ArgKind::Expr(Expr {
            kind: ExprKind::Path(path),
            ..
        }) if is_trait_head(path) => DaysArg::Trait(path),
        ArgKind::Filtered {
            base:
                Expr {
                    kind: ExprKind::Path(path),
                    ..
                },
            ..
        } if is_trait_head(path) => DaysArg::FilteredTrait(arg.span),
        ArgKind::Expr(Expr {
            kind: ExprKind::Path(path),
            ..
        }) if path.len() > 1 => DaysArg::DottedName(path),
        _ => DaysArg::Selector,
    }
}

fn dotted(path: &[Ident]) -> String {
    path.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

impl Checker<'_> {
    /// `days_since(<selector>)`, `days_since(trait.x)`, `days_until(trait.x)`.
    pub(super) fn days(&mut self, name: &Ident, args: &[Arg], span: Span, ctx: Ctx) -> Typed {
        if !self.arity(name, args, (1, 1), span) {
            return Self::lit(Value::Missing, Ty::Any, span);
        }
        let direction = match name.name.as_str() {
            "days_until" => DaysDirection::Until,
            _ => DaysDirection::Since,
        };
        let function = direction.function();
        let arg = &args[0];
        match classify(arg) {
            DaysArg::Trait(path) => self.trait_days(direction, path, arg.span, span, ctx),
            DaysArg::FilteredTrait(at) => self.error(
                Problem::new(
                    "type",
                    format!("a trait in `{function}` takes no `where`"),
                    at,
                )
                .hint(format!(
                    "`where` filters events; write {function}(trait.renewal_date)"
                )),
            ),
            DaysArg::DottedName(path) => {
                let text = dotted(path);
                let message = format!("`{text}` is neither a trait nor an event name");
                let hint = match direction {
                    DaysDirection::Since => format!(
                        "for a trait write days_since(trait.{text}) or days_since(account.{text}); for an event named so, quote it: days_since(\"{text}\")"
                    ),
                    DaysDirection::Until => format!(
                        "write days_until(trait.{text}) or days_until(account.{text})"
                    ),
                };
                self.error(Problem::new("type", message, arg.span).hint(hint))
            }
            DaysArg::Selector if direction == DaysDirection::Since => {
                match self.selector(arg, ctx) {
                    Some(sel) => Typed {
                        varying: true,
                        ..node(NodeKind::DaysSince(sel), span, Ty::Num)
                    },
                    None => Self::lit(Value::Missing, Ty::Any, span),
                }
            }
            DaysArg::Selector => self.until_needs_trait(arg),
        }
    }

    fn trait_days(
        &mut self,
        direction: DaysDirection,
        path: &[Ident],
        arg_span: Span,
        span: Span,
        ctx: Ctx,
    ) -> Typed {
        let function = direction.function();
        if path.len() < 2 {
            let head = &path[0].name;
            let message = format!("`{head}` needs a key");
            return self.error(
                Problem::new("parse", message, arg_span)
                    .hint(format!("write {function}({head}.renewal_date)")),
            );
        }
        let typed = self.path(path, arg_span, ctx);
        let NodeKind::Trait { scope, path } = typed.node.kind else {
            return Self::lit(Value::Missing, Ty::Any, span);
        };
        let kind = NodeKind::TraitDays {
            direction,
            scope,
            path,
        };
        Typed {
            varying: true,
            ..node(kind, span, Ty::Num)
        }
    }

    /// `days_until("Event")`: only a trait can lie in the future.
    fn until_needs_trait(&mut self, arg: &Arg) -> Typed {
        let problem = Problem::new(
            "type",
            "`days_until` reads a time-valued trait, not events",
            arg.span,
        );
        let hint = match &arg.kind {
            ArgKind::Expr(Expr {
                kind: ExprKind::Path(path),
                ..
            }) if path.len() == 1 => {
                let key = &path[0].name;
                format!(
                    "`{key}` alone is an event name; for the trait write days_until(trait.{key}) or days_until(account.{key})"
                )
            }
            _ => "write days_until(account.renewal_date): the trait holds an RFC 3339 instant such as \"2027-03-01T00:00:00Z\"".to_owned(),
        };
        self.error(problem.hint(hint))
    }
}
