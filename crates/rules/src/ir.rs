//! The checked, resolved form of an expression that the evaluator runs.
//! Every node keeps its span so explanations can quote the source.
//!
//! Public (read-only) so that other compilers of the language (the SQL
//! compiler in `bellwether-sql`) walk exactly the tree the evaluator runs;
//! only this crate builds it.

use std::sync::Arc;

use regex::Regex;

use crate::ast::Span;
use crate::value::Value;

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// For an aggregate a rule set keeps incrementally: its slot in the
    /// subject's [`crate::Tracker`] (assigned by [`crate::track::plan`]).
    pub slot: Option<u32>,
}

impl Node {
    /// Visits the operands of an operator (`and`/`or`/`not`, comparisons,
    /// `between`, `in`, `contains`, `starts_with`, `matches`, arithmetic):
    /// what a walk over a condition descends into. Returns false, visiting
    /// nothing, for anything else (aggregates, references, leaves).
    pub(crate) fn for_each_operand(&self, visit: &mut dyn FnMut(&Node)) -> bool {
        match &self.kind {
            NodeKind::Not(inner) | NodeKind::Neg(inner) | NodeKind::Matches(inner, _) => {
                visit(inner)
            }
            NodeKind::And(items) | NodeKind::Or(items) => items.iter().for_each(visit),
            NodeKind::Cmp(_, a, b)
            | NodeKind::Arith(_, a, b)
            | NodeKind::Contains(a, b)
            | NodeKind::StartsWith(a, b) => {
                visit(a);
                visit(b);
            }
            NodeKind::In { item, list, .. } => {
                visit(item);
                visit(list);
            }
            NodeKind::Between(a, b, c) => {
                visit(a);
                visit(b);
                visit(c);
            }
            _ => return false,
        }
        true
    }

    pub(crate) fn new(kind: NodeKind, span: Span) -> Self {
        Node {
            kind,
            span,
            slot: None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Lit(Value),
    Trait {
        scope: TraitScope,
        path: PropPath,
    },
    Past {
        scope: TraitScope,
        path: PropPath,
        ago: i64,
    },
    Prop(PropPath),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    Between(Box<Node>, Box<Node>, Box<Node>),
    In {
        negated: bool,
        item: Box<Node>,
        list: Box<Node>,
    },
    Contains(Box<Node>, Box<Node>),
    StartsWith(Box<Node>, Box<Node>),
    Matches(Box<Node>, Box<Regex>),
    Arith(ArithOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Count(Sel, Win),
    Exists(Sel, Win),
    DaysSince(Sel),
    /// `days_until(trait.x)` / `days_since(trait.x)`: fractional days
    /// between T and the RFC 3339 instant a trait holds (missing when it
    /// holds none).
    TraitDays {
        direction: DaysDirection,
        scope: TraitScope,
        path: PropPath,
    },
    ActiveDays(Win),
    Agg(AggOp, Sel, PropPath, Win),
    Pick {
        first: bool,
        sel: Sel,
        win: Win,
        field: Field,
    },
    Sequence {
        steps: Vec<Sel>,
        within: Option<i64>,
        win: Win,
    },
    EachFollowed(Box<EachFollowed>),
    Score(Arc<str>),
    InSegment(Arc<str>),
    Tier(Arc<str>),
    CountContacts(Box<Node>),
}

/// `last N lead followed_by follower [on prop] [within D]`
#[derive(Clone, Debug)]
pub struct EachFollowed {
    pub count: usize,
    pub lead: Sel,
    pub follower: Sel,
    pub on: Option<PropPath>,
    pub within: Option<i64>,
}

/// Which way a time-valued trait is measured from T.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaysDirection {
    /// `days_until`: (instant − T) in days, negative once it passed.
    Until,
    /// `days_since`: (T − instant) in days, negative while it is ahead.
    Since,
}

impl DaysDirection {
    /// The function's name in the language.
    pub fn function(self) -> &'static str {
        match self {
            DaysDirection::Until => "days_until",
            DaysDirection::Since => "days_since",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraitScope {
    /// `trait.x`: the subject's own traits.
    Own,
    /// `account.x`: the account's traits.
    Account,
}

/// A dotted property path, `plan` or `address.city`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropPath {
    segments: Vec<Arc<str>>,
    /// `name`: the page/screen name for page and screen events.
    pub is_name: bool,
    /// `path`, `url`, `title`, `referrer`, `search`: fall back to `context.page`.
    pub is_page_field: bool,
}

/// Page fields that fall back to `context.page.*`.
const PAGE_FIELDS: &[&str] = &["path", "url", "title", "referrer", "search"];

impl PropPath {
    pub(crate) fn new(segments: Vec<Arc<str>>) -> Self {
        let first = segments.first().map_or("", |s| s);
        let single = segments.len() == 1;
        let is_name = single && first == "name";
        let is_page_field = PAGE_FIELDS.contains(&first);
        PropPath {
            segments,
            is_name,
            is_page_field,
        }
    }

    pub fn first(&self) -> &str {
        self.segments.first().map_or("", |s| s)
    }

    pub fn rest(&self) -> &[Arc<str>] {
        self.segments.get(1..).unwrap_or(&[])
    }

    /// Every key of the path, outermost first.
    pub fn segments(&self) -> &[Arc<str>] {
        &self.segments
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SelBase {
    Named(Arc<str>),
    Page,
    Screen,
    Any,
}

#[derive(Clone, Debug)]
pub struct Sel {
    pub base: SelBase,
    pub filter: Option<Box<Node>>,
}

#[derive(Clone, Debug)]
pub enum Win {
    All,
    Last(i64),
    Ago {
        from: i64,
        to: i64,
    },
    WithinOf {
        length: i64,
        anchor: Box<Sel>,
        /// The tracker slot of `first(anchor).time`, when kept.
        first: Option<u32>,
    },
}

#[derive(Clone, Debug)]
pub enum Field {
    Time,
    Prop(PropPath),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Min,
    Max,
    Distinct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "≠",
            CmpOp::Lt => "<",
            CmpOp::Le => "≤",
            CmpOp::Gt => ">",
            CmpOp::Ge => "≥",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}
