//! The syntax tree the parser produces: the surface language, with spans.
//!
//! The checker turns it into the resolved, typed form the evaluator runs
//! (`ir`). [`Expr`] prints as a compact s-expression (used by snapshot tests).

use std::fmt;

/// A byte range in the expression text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `3`, `2.5`
    Num(f64),
    /// `"text"`
    Str(String),
    /// `true`, `false`
    Bool(bool),
    /// `7d` (milliseconds)
    Dur(i64),
    /// `[1, 2]`
    List(Vec<Expr>),
    /// `trait.plan`, `path`, `page`
    Path(Vec<Ident>),
    /// `count(page, last 7d)`
    Call {
        /// Function name.
        name: Ident,
        /// Arguments.
        args: Vec<Arg>,
    },
    /// `first("Signed Up").time`
    Field {
        /// The value the field is read from.
        base: Box<Expr>,
        /// The field path.
        path: Vec<Ident>,
    },
    /// `not x`, `-x`
    Unary {
        /// Operator.
        op: UnOp,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `a and b`, `a >= b`, `a + b`, ...
    Binary {
        /// Operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `x between a and b` (inclusive)
    Between {
        /// Tested value.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
    },
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=` / `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `contains`
    Contains,
    /// `starts_with`
    StartsWith,
    /// `matches`
    Matches,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Contains => "contains",
            BinOp::StartsWith => "starts_with",
            BinOp::Matches => "matches",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// A call argument: an expression or one of the argument-only forms.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// What it is.
    pub kind: ArgKind,
    /// Where it is.
    pub span: Span,
}

/// Argument forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgKind {
    /// A plain expression (also a selector without `where`, or a property name).
    Expr(Expr),
    /// `<selector> where <predicate>`
    Filtered {
        /// `"Event"`, `page`, `screen`, `any`, `contacts`, or an identifier.
        base: Expr,
        /// The predicate.
        filter: Expr,
    },
    /// `last 7d`, `between 60d and 30d ago`, `within 48h of first(S)`
    Window(Window),
    /// `A then B [then C] [within D]`
    Sequence {
        /// The steps, in order.
        steps: Vec<Arg>,
        /// Maximum time from the first to the last step.
        within: Option<i64>,
    },
    /// `last N A followed_by B [on prop] [within D]`
    LastN {
        /// How many of the latest `A` events.
        count: f64,
        /// The `A` selector.
        lead: Box<Arg>,
        /// The `B` selector.
        follower: Box<Arg>,
        /// The property that must match between `A` and `B`.
        on: Option<Vec<Ident>>,
        /// Maximum time from `A` to its `B`.
        within: Option<i64>,
    },
}

/// A time window.
#[derive(Clone, Debug, PartialEq)]
pub enum Window {
    /// `last D`: (T−D, T]
    Last(i64),
    /// `between A and B ago`: (T−A, T−B]
    Ago {
        /// Older edge, `A`.
        from: i64,
        /// Newer edge, `B`.
        to: i64,
    },
    /// `within D of first(S)`: [t, t+D], t = time of the first S event.
    WithinOf {
        /// Length.
        length: i64,
        /// The selector of the anchoring first event.
        anchor: Box<Arg>,
    },
}

fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

fn path_text(path: &[Ident]) -> String {
    path.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Num(n) => write!(f, "{n}"),
            ExprKind::Str(s) => write!(f, "{s:?}"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Dur(ms) => f.write_str(&crate::time::format_duration(*ms)),
            ExprKind::List(items) => write!(f, "[{}]", join(items, " ")),
            ExprKind::Path(path) => f.write_str(&path_text(path)),
            ExprKind::Call { name, args } => write!(f, "({} {})", name.name, join(args, " ")),
            ExprKind::Field { base, path } => write!(f, "(. {base} {})", path_text(path)),
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => write!(f, "(not {expr})"),
            ExprKind::Unary {
                op: UnOp::Neg,
                expr,
            } => write!(f, "(- {expr})"),
            ExprKind::Binary { op, lhs, rhs } => write!(f, "({} {lhs} {rhs})", op.symbol()),
            ExprKind::Between { expr, low, high } => write!(f, "(between {expr} {low} {high})"),
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dur = crate::time::format_duration;
        match &self.kind {
            ArgKind::Expr(e) => write!(f, "{e}"),
            ArgKind::Filtered { base, filter } => write!(f, "(where {base} {filter})"),
            ArgKind::Window(Window::Last(d)) => write!(f, "(last {})", dur(*d)),
            ArgKind::Window(Window::Ago { from, to }) => {
                write!(f, "(ago {} {})", dur(*from), dur(*to))
            }
            ArgKind::Window(Window::WithinOf { length, anchor }) => {
                write!(f, "(within {} (first {anchor}))", dur(*length))
            }
            ArgKind::Sequence { steps, within } => {
                write!(f, "(then {}", join(steps, " "))?;
                match within {
                    Some(d) => write!(f, " (within {}))", dur(*d)),
                    None => f.write_str(")"),
                }
            }
            ArgKind::LastN {
                count,
                lead,
                follower,
                on,
                within,
            } => {
                write!(f, "(each-last {count} {lead} {follower}")?;
                if let Some(on) = on {
                    write!(f, " (on {})", path_text(on))?;
                }
                if let Some(d) = within {
                    write!(f, " (within {})", dur(*d))?;
                }
                f.write_str(")")
            }
        }
    }
}
