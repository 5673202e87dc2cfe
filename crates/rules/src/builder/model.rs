//! The builder's model, as JSON the editor's script renders. Fields a leaf
//! does not use keep their default (`""`, `[]`, `0`); a model read from
//! text always has them so, which is what makes `read(print(m)) == m`.

use serde::{Deserialize, Serialize};

/// One node of a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// Every item holds (`a and b and …`).
    All {
        /// The items, at least two when read from text.
        items: Vec<Node>,
    },
    /// At least one item holds (`a or b or …`).
    Any {
        /// The items, at least two when read from text.
        items: Vec<Node>,
    },
    /// The item does not hold.
    Not {
        /// The negated node.
        item: Box<Node>,
    },
    /// `count(<event> where …, <window>) >= 2` and the other aggregates.
    Measure(Measure),
    /// `each(last N <lead> followed_by <follower> on <property> within D)`.
    Each(EachLeaf),
    /// `score("name") >= 50`.
    Score {
        /// The score's name.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The number compared with.
        value: f64,
    },
    /// `in_segment("name")`.
    InSegment {
        /// The segment's name.
        name: String,
    },
    /// `tier("name") = "level"`.
    Tier {
        /// The tier's name.
        name: String,
        /// `=` or `!=`.
        op: CmpOp,
        /// The level's name.
        level: String,
    },
    /// `trait.plan = "pro"`, `account.employees >= 50`.
    Trait {
        /// `trait.<key>` or `account.<key>`.
        path: String,
        /// The comparison.
        op: CmpOp,
        /// The value compared with.
        value: Literal,
    },
}

/// An aggregate over events, compared with a number (`exists` is not
/// compared).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Measure {
    /// Which aggregate.
    pub function: MeasureFn,
    /// The events it reads (unused by `active_days`).
    pub event: EventPick,
    /// The property `distinct`, `sum`, `avg`, `min` and `max` read.
    pub property: String,
    /// Which events count by time (unused by `days_since`).
    pub window: WindowPick,
    /// The comparison (unused by `exists`).
    pub op: CmpOp,
    /// The number compared with (unused by `exists`).
    pub value: f64,
}

/// The aggregates the builder offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureFn {
    /// How many events.
    #[default]
    Count,
    /// At least one event (a condition by itself).
    Exists,
    /// Days since the latest event.
    DaysSince,
    /// Distinct UTC days with any event.
    ActiveDays,
    /// Distinct values of a property.
    Distinct,
    /// Sum of a property.
    Sum,
    /// Mean of a property.
    Avg,
    /// Least value of a property.
    Min,
    /// Greatest value of a property.
    Max,
}

impl MeasureFn {
    /// The function's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            MeasureFn::Count => "count",
            MeasureFn::Exists => "exists",
            MeasureFn::DaysSince => "days_since",
            MeasureFn::ActiveDays => "active_days",
            MeasureFn::Distinct => "distinct",
            MeasureFn::Sum => "sum",
            MeasureFn::Avg => "avg",
            MeasureFn::Min => "min",
            MeasureFn::Max => "max",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "count" => MeasureFn::Count,
            "exists" => MeasureFn::Exists,
            "days_since" => MeasureFn::DaysSince,
            "active_days" => MeasureFn::ActiveDays,
            "distinct" => MeasureFn::Distinct,
            "sum" => MeasureFn::Sum,
            "avg" => MeasureFn::Avg,
            "min" => MeasureFn::Min,
            "max" => MeasureFn::Max,
            _ => return None,
        })
    }

    /// Reads an event selector.
    pub(super) fn reads_event(self) -> bool {
        self != MeasureFn::ActiveDays
    }

    /// Reads a property of the events.
    pub(super) fn reads_property(self) -> bool {
        matches!(
            self,
            MeasureFn::Distinct | MeasureFn::Sum | MeasureFn::Avg | MeasureFn::Min | MeasureFn::Max
        )
    }

    /// Takes a window.
    pub(super) fn takes_window(self) -> bool {
        self != MeasureFn::DaysSince
    }

    /// Is compared with a number.
    pub(super) fn compared(self) -> bool {
        self != MeasureFn::Exists
    }
}

/// `each(last N <lead> followed_by <follower> [on <property>] [within D])`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EachLeaf {
    /// How many of the latest lead events.
    pub count: u32,
    /// The lead events (`"Email Sent"`).
    pub lead: EventPick,
    /// What must follow each (`"Email Opened"`).
    pub follower: EventPick,
    /// The property both must share (`email_id`); empty: none.
    pub on: String,
    /// Longest delay from lead to follower (`3d`); empty: any.
    pub within: String,
}

/// Which events: a named event, page views, screens or any, with `where`
/// filters joined by `and`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventPick {
    /// Which kind of selector.
    pub kind: SelectorKind,
    /// The event's name (for [`SelectorKind::Event`]).
    pub name: String,
    /// The `where` filters, all of which hold.
    #[serde(rename = "where")]
    pub filters: Vec<Filter>,
}

/// The selector forms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectorKind {
    /// A named (track) event.
    #[default]
    Event,
    /// Page views.
    Page,
    /// Screen views.
    Screen,
    /// Any behavior event.
    Any,
}

/// `<property> <op> <value>` inside a `where`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// A property name or dotted path.
    pub property: String,
    /// The comparison.
    pub op: CmpOp,
    /// The value compared with.
    pub value: Literal,
}

/// The window of an aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowPick {
    /// All retained history.
    #[default]
    All,
    /// `last 7d`.
    Last {
        /// A duration (`7d`, `12h`).
        length: String,
    },
    /// `between 60d and 30d ago`.
    Ago {
        /// The older edge.
        from: String,
        /// The newer edge.
        to: String,
    },
    /// `within 48h of first("Signed Up")`.
    WithinOf {
        /// A duration (`48h`, `7d`).
        length: String,
        /// The events whose first one starts the window.
        anchor: EventPick,
    },
}

/// Comparison operators, as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `=`
    #[default]
    #[serde(rename = "=")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `contains`
    #[serde(rename = "contains")]
    Contains,
    /// `starts_with`
    #[serde(rename = "starts_with")]
    StartsWith,
    /// `matches`
    #[serde(rename = "matches")]
    Matches,
    /// `in`
    #[serde(rename = "in")]
    In,
    /// `not in`
    #[serde(rename = "not in")]
    NotIn,
}

impl CmpOp {
    /// Compares numbers (`=` … `>=`), as aggregates and scores are.
    pub(super) fn is_numeric(self) -> bool {
        matches!(
            self,
            CmpOp::Eq | CmpOp::Ne | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge
        )
    }
}

/// A literal value: text, a number, true/false or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// `true`, `false`
    Bool(bool),
    /// `3`, `2.5`
    Num(f64),
    /// `"text"`
    Str(String),
    /// `["a", "b"]` (for `in`)
    List(Vec<Literal>),
}

impl Default for Literal {
    fn default() -> Self {
        Literal::Str(String::new())
    }
}
