//! Bellwether definitions compiled to one SQL statement (SPEC §7,
//! "Scale-out SQL"), for DuckDB, PostgreSQL and ClickHouse, with the rows
//! `bellwether eval` writes for the same definitions and events.
//!
//! # Architecture invariant
//!
//! Pure text in, text out: no IO, no clock. The compiler walks the checked
//! trees the evaluator runs (`bellwether_rules::ir`,
//! `bellwether_rules::inspect`), so the language has one meaning. A
//! construct a dialect cannot express exactly is a [`SqlError`] naming it,
//! never approximate SQL.
//!
//! # The shape of the statement
//!
//! ```text
//! WITH
//! messages AS (...)             every row, ts in ms, seq for ties
//! events AS (...)               behavior at or before T: pos, properties read
//! contacts AS (...)             id, account_id of every contact
//! accounts AS (...)             id of every account
//! trait_contact_plan AS (...)   a trait's value at T (one per trait read)
//! instant_1_account_renewal_date  a time-valued trait's instant at T, in ms
//! score_intent__1_points ...    helpers of score intent, then
//! score_intent AS (...)         id, value
//! segment_hot_intent__1_count   helpers of segment hot_intent, then
//! segment_hot_intent AS (...)   id, member
//! tier_lifecycle AS (...)       id, level
//! SELECT kind, id, segment ...  the memberships (or scores, or tiers)
//! ```
//!
//! Definitions come in dependency order; each helper is one aggregate with
//! one row per subject that has a matching event, left-joined to its
//! definition (no row is the aggregate of nothing).
//!
//! # API boundary
//!
//! [`compile`] takes a checked [`RuleSet`] and [`Options`]. Left out: the
//! `bellwether_events` table itself (`bellwether export` writes it; the
//! warehouse view in `docs/warehouse.md` builds it) and running the SQL.

mod aggregate;
mod builder;
mod definitions;
mod dialect;
mod error;
mod expr;
mod instant;
mod ops;
mod sequence;
mod value;

use bellwether_rules::{DefKind, RuleSet};

pub use builder::TieOrder;
pub use dialect::Dialect;
pub use error::SqlError;

use builder::Builder;

/// What the statement returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `kind, id, segment`: every membership.
    Segments,
    /// `kind, id, score, value`: every score of every subject.
    Scores,
    /// `kind, id, tier, level`: every tier level held.
    Tiers,
}

/// How to compile.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The engine.
    pub dialect: Dialect,
    /// The instant T in ms since the epoch; `None`: the engine's clock.
    pub at: Option<i64>,
    /// The rows returned.
    pub output: Output,
    /// How events of one millisecond are ordered.
    pub ties: TieOrder,
}

/// One statement (CTEs and a `SELECT`) over `bellwether_events`.
pub fn compile(rules: &RuleSet, options: &Options) -> Result<String, SqlError> {
    let mut builder = Builder::new(options.dialect, rules, options.at, options.ties);
    builder.definitions()?;
    let select = final_select(&builder, rules, options.output);
    Ok(builder.finish(&select))
}

/// The union of one `SELECT` per definition of the asked kind, sorted.
fn final_select(builder: &Builder<'_>, rules: &RuleSet, output: Output) -> String {
    let d = builder.dialect;
    let (kind, column, value) = match output {
        Output::Segments => (DefKind::Segment, "segment", None),
        Output::Scores => (DefKind::Score, "score", Some("value")),
        Output::Tiers => (DefKind::Tier, "tier", Some("level")),
    };
    let mut parts = Vec::new();
    for def in rules.order().iter().filter(|def| def.kind == kind) {
        let subject = d.string(def.subject.as_str());
        let name = d.string(&def.name);
        let cte = format!("{}_{}", kind.as_str(), def.name);
        parts.push(match output {
            Output::Segments => format!(
                "SELECT {subject} AS kind, id, {name} AS segment FROM {cte} WHERE member"
            ),
            Output::Scores => format!(
                "SELECT {subject} AS kind, id, {name} AS score, value FROM {cte}"
            ),
            Output::Tiers => format!(
                "SELECT {subject} AS kind, id, {name} AS tier, level FROM {cte} WHERE level IS NOT NULL"
            ),
        });
    }
    let text = d.text_type();
    if parts.is_empty() {
        let last = match value {
            Some("value") => format!(", {} AS value", d.to_float("NULL")),
            Some(other) => format!(", CAST(NULL AS {text}) AS {other}"),
            None => String::new(),
        };
        parts.push(format!(
            "SELECT CAST(NULL AS {text}) AS kind, CAST(NULL AS {text}) AS id, CAST(NULL AS {text}) AS {column}{last} FROM accounts WHERE false"
        ));
    }
    format!(
        "SELECT * FROM (\n{}\n) result\nORDER BY kind, id, {column}",
        parts.join("\nUNION ALL\n")
    )
}

#[cfg(test)]
mod tests;
