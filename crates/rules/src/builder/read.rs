//! Text → model, or the part of the text the model cannot show.

use super::model::{
    CmpOp, EachLeaf, EventPick, Filter, Literal, Measure, MeasureFn, Node, SelectorKind, WindowPick,
};
use super::print::duration_text;
use crate::ast::{Arg, ArgKind, BinOp, Expr, ExprKind, Ident, Span, UnOp, Window};

/// The part of a condition the builder cannot show (or the text does not
/// parse), with its byte span in the text.
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
#[error("{reason}: `{text}`")]
pub struct Unfit {
    /// Where it is.
    pub span: Span,
    /// The text of that part.
    pub text: String,
    /// Why, for people.
    pub reason: String,
}

/// The model of `src`, or the first part it cannot show.
pub fn read(src: &str) -> Result<Node, Unfit> {
    let expr = crate::parse(src).map_err(|problem| Unfit {
        span: problem.span,
        text: excerpt(src, problem.span),
        reason: format!("the text does not parse ({})", problem.message),
    })?;
    Reader { src }.node(&expr)
}

struct Reader<'s> {
    src: &'s str,
}

type Read<T> = Result<T, Unfit>;

impl Reader<'_> {
    fn unfit(&self, span: Span, reason: &str) -> Unfit {
        Unfit {
            span,
            text: excerpt(self.src, span),
            reason: reason.to_owned(),
        }
    }

    fn node(&self, expr: &Expr) -> Read<Node> {
        match &expr.kind {
            ExprKind::Binary { op: BinOp::And, .. } => Ok(Node::All {
                items: self.flat(expr, BinOp::And)?,
            }),
            ExprKind::Binary { op: BinOp::Or, .. } => Ok(Node::Any {
                items: self.flat(expr, BinOp::Or)?,
            }),
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => Ok(Node::Not {
                item: Box::new(self.node(expr)?),
            }),
            ExprKind::Binary { op, lhs, rhs } => self.comparison(expr, *op, lhs, rhs),
            ExprKind::Call { name, args } => self.bare_call(expr, name, args),
            _ => Err(self.unfit(
                expr.span,
                "the builder shows comparisons, aggregates and references; this part is text only",
            )),
        }
    }

    /// `a and b and c` as one group of three (the parser nests them).
    fn flat(&self, expr: &Expr, op: BinOp) -> Read<Vec<Node>> {
        match &expr.kind {
            ExprKind::Binary {
                op: inner,
                lhs,
                rhs,
            } if *inner == op => {
                let mut items = self.flat(lhs, op)?;
                items.extend(self.flat(rhs, op)?);
                Ok(items)
            }
            _ => Ok(vec![self.node(expr)?]),
        }
    }

    /// A call that is a condition by itself.
    fn bare_call(&self, expr: &Expr, name: &Ident, args: &[Arg]) -> Read<Node> {
        match name.name.as_str() {
            "exists" => Ok(Node::Measure(self.measure(
                expr,
                MeasureFn::Exists,
                args,
            )?)),
            "each" => self.each(expr, args),
            "in_segment" => Ok(Node::InSegment {
                name: self.name_arg(expr, args)?,
            }),
            _ => Err(self.unfit(
                expr.span,
                "compare this with a value, e.g. `>= 1`, for the builder to show it",
            )),
        }
    }

    fn comparison(&self, whole: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr) -> Read<Node> {
        let Some(op) = cmp_op(op) else {
            return Err(self.unfit(whole.span, "the builder shows comparisons, not arithmetic"));
        };
        match &lhs.kind {
            ExprKind::Call { name, .. } if name.name == "tier" => self.tier(whole, op, lhs, rhs),
            ExprKind::Call { name, args } => {
                let value = self.number(rhs)?;
                if name.name == "score" {
                    return Ok(Node::Score {
                        name: self.name_arg(lhs, args)?,
                        op: self.numeric(whole, op)?,
                        value,
                    });
                }
                let function = MeasureFn::from_name(&name.name)
                    .filter(|f| f.compared())
                    .ok_or_else(|| self.unfit(lhs.span, "the builder shows count, days_since, active_days, distinct, sum, avg, min, max and score here"))?;
                let mut measure = self.measure(lhs, function, args)?;
                measure.op = self.numeric(whole, op)?;
                measure.value = value;
                Ok(Node::Measure(measure))
            }
            ExprKind::Path(path) if is_trait(path) => Ok(Node::Trait {
                path: path_text(path),
                op,
                value: self.literal(rhs)?,
            }),
            _ => self.tier(whole, op, lhs, rhs),
        }
    }

    /// `tier("name") = "level"`.
    fn tier(&self, whole: &Expr, op: CmpOp, lhs: &Expr, rhs: &Expr) -> Read<Node> {
        let ExprKind::Call { name, args } = &lhs.kind else {
            return Err(self.unfit(
                lhs.span,
                "the builder compares aggregates, scores, tiers and traits",
            ));
        };
        let (ExprKind::Str(level), "tier", CmpOp::Eq | CmpOp::Ne) =
            (&rhs.kind, name.name.as_str(), op)
        else {
            return Err(self.unfit(
                whole.span,
                "the builder compares a tier with `=` or `!=` and a level",
            ));
        };
        Ok(Node::Tier {
            name: self.name_arg(lhs, args)?,
            op,
            level: level.clone(),
        })
    }

    fn numeric(&self, whole: &Expr, op: CmpOp) -> Read<CmpOp> {
        if op.is_numeric() {
            Ok(op)
        } else {
            Err(self.unfit(
                whole.span,
                "the builder compares numbers with =, !=, <, <=, > or >=",
            ))
        }
    }

    /// `count(<selector>[, <window>])` and the other aggregates.
    fn measure(&self, call: &Expr, function: MeasureFn, args: &[Arg]) -> Read<Measure> {
        let mut rest = args.iter();
        let mut measure = Measure {
            function,
            ..Measure::default()
        };
        if function.reads_event() {
            let arg = rest
                .next()
                .ok_or_else(|| self.unfit(call.span, "name the events to read"))?;
            measure.event = self.selector(arg)?;
        }
        if function.reads_property() {
            let arg = rest
                .next()
                .ok_or_else(|| self.unfit(call.span, "name the property to read"))?;
            measure.property = self.property(arg)?;
        }
        if function.takes_window() {
            if let Some(arg) = rest.next() {
                measure.window = self.window(arg)?;
            }
        }
        if let Some(extra) = rest.next() {
            return Err(self.unfit(extra.span, "the builder does not show this argument"));
        }
        Ok(measure)
    }

    /// `each(last N A followed_by B [on p] [within D])`.
    fn each(&self, call: &Expr, args: &[Arg]) -> Read<Node> {
        let [Arg {
            kind:
                ArgKind::LastN {
                    count,
                    lead,
                    follower,
                    on,
                    within,
                },
            ..
        }] = args
        else {
            return Err(self.unfit(
                call.span,
                "the builder shows `each(last N A followed_by B …)`",
            ));
        };
        let whole = count.fract() == 0.0 && (1.0..=10_000.0).contains(count);
        if !whole {
            return Err(self.unfit(call.span, "the builder shows `each` with a whole count"));
        }
        Ok(Node::Each(EachLeaf {
            count: *count as u32,
            lead: self.selector(lead)?,
            follower: self.selector(follower)?,
            on: on.as_deref().map(path_text).unwrap_or_default(),
            within: within.map(duration_text).unwrap_or_default(),
        }))
    }

    fn selector(&self, arg: &Arg) -> Read<EventPick> {
        let (base, filter) = match &arg.kind {
            ArgKind::Expr(base) => (base, None),
            ArgKind::Filtered { base, filter } => (base, Some(filter)),
            _ => {
                return Err(self.unfit(
                    arg.span,
                    "the builder shows one event with `where` filters here",
                ))
            }
        };
        let (kind, name) = match &base.kind {
            ExprKind::Str(name) => (SelectorKind::Event, name.clone()),
            ExprKind::Path(path) if path.len() == 1 => match path[0].name.as_str() {
                "page" => (SelectorKind::Page, String::new()),
                "screen" => (SelectorKind::Screen, String::new()),
                "any" => (SelectorKind::Any, String::new()),
                "contacts" => {
                    return Err(self.unfit(
                        base.span,
                        "the builder does not show `contacts` (an account's members)",
                    ))
                }
                other => (SelectorKind::Event, other.to_owned()),
            },
            _ => {
                return Err(self.unfit(
                    base.span,
                    "the builder shows an event name, page, screen or any",
                ))
            }
        };
        let mut filters = Vec::new();
        if let Some(filter) = filter {
            self.filters(filter, &mut filters)?;
        }
        Ok(EventPick {
            kind,
            name,
            filters,
        })
    }

    /// `a = 1 and b contains "x"`: filters joined by `and` only.
    fn filters(&self, expr: &Expr, out: &mut Vec<Filter>) -> Read<()> {
        match &expr.kind {
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => {
                self.filters(lhs, out)?;
                self.filters(rhs, out)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (Some(op), ExprKind::Path(path)) = (cmp_op(*op), &lhs.kind) else {
                    return Err(self.unfit(
                        expr.span,
                        "the builder shows `where` filters as `property op value`, joined by `and`",
                    ));
                };
                out.push(Filter {
                    property: path_text(path),
                    op,
                    value: self.literal(rhs)?,
                });
                Ok(())
            }
            _ => Err(self.unfit(
                expr.span,
                "the builder shows `where` filters as `property op value`, joined by `and`",
            )),
        }
    }

    fn window(&self, arg: &Arg) -> Read<WindowPick> {
        match &arg.kind {
            ArgKind::Window(Window::Last(ms)) => Ok(WindowPick::Last {
                length: duration_text(*ms),
            }),
            ArgKind::Window(Window::Ago { from, to }) => Ok(WindowPick::Ago {
                from: duration_text(*from),
                to: duration_text(*to),
            }),
            ArgKind::Window(Window::WithinOf { length, anchor }) => Ok(WindowPick::WithinOf {
                length: duration_text(*length),
                anchor: self.selector(anchor)?,
            }),
            _ => Err(self.unfit(
                arg.span,
                "the builder shows a window (`last D`, `between A and B ago`, `within D of first(…)`) here",
            )),
        }
    }

    fn property(&self, arg: &Arg) -> Read<String> {
        match &arg.kind {
            ArgKind::Expr(Expr {
                kind: ExprKind::Path(path),
                ..
            }) => Ok(path_text(path)),
            _ => Err(self.unfit(arg.span, "the builder shows a property name here")),
        }
    }

    /// `score("intent")`, `in_segment("hot")`, `tier("level")`: one string.
    fn name_arg(&self, call: &Expr, args: &[Arg]) -> Read<String> {
        match args {
            [Arg {
                kind:
                    ArgKind::Expr(Expr {
                        kind: ExprKind::Str(name),
                        ..
                    }),
                ..
            }] => Ok(name.clone()),
            _ => Err(self.unfit(
                call.span,
                "the builder shows a reference by its quoted name",
            )),
        }
    }

    fn number(&self, expr: &Expr) -> Read<f64> {
        match self.literal(expr)? {
            Literal::Num(n) => Ok(n),
            _ => Err(self.unfit(expr.span, "the builder compares with a number here")),
        }
    }

    fn literal(&self, expr: &Expr) -> Read<Literal> {
        match &expr.kind {
            ExprKind::Num(n) => Ok(Literal::Num(*n)),
            ExprKind::Str(s) => Ok(Literal::Str(s.clone())),
            ExprKind::Bool(b) => Ok(Literal::Bool(*b)),
            ExprKind::Unary {
                op: UnOp::Neg,
                expr: inner,
            } => match inner.kind {
                ExprKind::Num(n) => Ok(Literal::Num(-n)),
                _ => Err(self.unfit(expr.span, "the builder shows a plain value here")),
            },
            ExprKind::List(items) => items
                .iter()
                .map(|i| self.literal(i))
                .collect::<Read<_>>()
                .map(Literal::List),
            _ => Err(self.unfit(expr.span, "the builder shows a plain value here")),
        }
    }
}

fn cmp_op(op: BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        BinOp::Contains => CmpOp::Contains,
        BinOp::StartsWith => CmpOp::StartsWith,
        BinOp::Matches => CmpOp::Matches,
        BinOp::In => CmpOp::In,
        BinOp::NotIn => CmpOp::NotIn,
        _ => return None,
    })
}

fn is_trait(path: &[Ident]) -> bool {
    path.len() >= 2 && matches!(path[0].name.as_str(), "trait" | "account")
}

fn path_text(path: &[Ident]) -> String {
    path.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The source text of a span (empty if the span is not on char boundaries).
fn excerpt(src: &str, span: Span) -> String {
    src.get(span.start..span.end.min(src.len()))
        .unwrap_or_default()
        .to_owned()
}
