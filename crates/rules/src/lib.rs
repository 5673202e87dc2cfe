//! The Bellwether rule language: parse, check, evaluate, explain, and the
//! instant a value next changes. The reference for users is
//! `docs/language.md`; this is the map for contributors.
//!
//! # Architecture invariant
//!
//! Pure: no IO, no clock, no async, no global state. Time is an argument
//! (`i64` milliseconds since the Unix epoch, UTC); the same definitions,
//! events and instant always give the same bits.
//!
//! # Pipeline
//!
//! ```text
//! text ─lexer─► tokens ─parser─► ast::Expr (spans) ─check─► ir::Node (typed, resolved)
//!                                                              │
//!   Definitions (TOML / JSON) ─compile─► RuleSet ◄─────────────┘
//!                                          │ evaluate_* (value + next change)
//!                                          │ explain_*  (tree of sub-values, events)
//! ```
//!
//! # API boundary
//!
//! The engine calls [`RuleSet::from_toml`] / [`RuleSet::compile`], walks
//! [`RuleSet::order`] (dependencies first) and calls
//! [`RuleSet::evaluate_score`], [`RuleSet::evaluate_segment`],
//! [`RuleSet::evaluate_tier`] with a [`SubjectView`] it implements over its
//! in-memory state ([`Timeline`]s read as [`Events`], [`Traits`], the values it computed
//! before). Each returns the value and the first later instant at which it may
//! change without a new event. `bellwether check` is [`check_file`]. Left out
//! on purpose: storage, identity resolution, timers, and SQL compilation live
//! in other crates (the SQL compiler, `bellwether-sql`, reads the checked
//! trees through the read-only [`ir`] and [`inspect`] modules).
//!
//! # Grammar
//!
//! ```text
//! expr       := or
//! or         := and ("or" and)*
//! and        := not ("and" not)*
//! not        := "not" not | comparison
//! comparison := sum [ ("=" | "==" | "!=" | "<" | "<=" | ">" | ">=") sum
//!                   | ["not"] "in" sum | "contains" sum | "starts_with" sum
//!                   | "matches" STRING | "between" sum "and" sum ]
//! sum        := product (("+" | "-") product)*
//! product    := unary (("*" | "/") unary)*
//! unary      := "-" unary | postfix
//! postfix    := primary ["." IDENT ("." IDENT)*]          (after first(...)/last(...))
//! primary    := NUMBER | DURATION | STRING | "true" | "false"
//!             | "[" [expr ("," expr)*] "]" | "(" expr ")"
//!             | IDENT ("." IDENT)*                        (trait.x, account.x, properties)
//!             | IDENT "(" [arg ("," arg)*] ")"            (functions)
//! arg        := window
//!             | "last" NUMBER selector "followed_by" selector ["on" path] ["within" DURATION]
//!             | selector ("then" selector)+ ["within" DURATION]
//!             | selector
//! selector   := expr ["where" expr]        ("Event", ident, page, screen, any, contacts)
//! window     := "last" DURATION
//!             | "between" DURATION "and" DURATION "ago"
//!             | "within" DURATION "of" "first" "(" selector ")"
//! DURATION   := NUMBER ("ms" | "s" | "m" | "h" | "d" | "w")       (no space: 7d, 1.5h)
//! STRING     := "..." | '...'      (escapes \" \\ \n \t);   "#" starts a comment
//! ```
//!
//! Functions (checked for arity and types by `check`): `count`, `exists`,
//! `days_since`, `days_until`, `active_days`, `distinct`, `sum`, `avg`, `min`, `max`,
//! `first`, `last`, `score`, `in_segment`, `tier`, `past`, `sequence`, `each`.
//! Limits: [`MAX_DEPTH`] levels of nesting, [`MAX_SOURCE_BYTES`] bytes,
//! [`MAX_TOKENS`] tokens per expression.

pub mod ast;
pub mod builder;
mod check;
mod compile;
mod defs;
mod diagnostics;
mod eval;
mod events;
mod explain;
mod fresh;
pub mod inspect;
pub mod ir;
mod layout;
mod lexer;
mod parser;
mod reach;
mod ruleset;
mod score;
mod selector;
mod subject;
mod time;
mod timeline;
mod track;
mod traits;
mod triggers;
mod value;

pub use check::DefKind;
pub use defs::{Definitions, LevelDef, ScoreDef, ScoreRuleDef, SegmentDef, TierDef};
pub use diagnostics::{Diagnostic, Diagnostics, Problem};
pub use eval::motion::threshold_crossing;
pub use eval::scan_future_changes;
pub use events::{Events, Merge, MergedOrder, Span};
pub use explain::{EventRef, Explanation};
pub use layout::ValueLayout;
pub use parser::{parse, MAX_DEPTH, MAX_SOURCE_BYTES, MAX_TOKENS};
pub use reach::{DefinitionReach, Reach};
pub use ruleset::{check_file, Condition, DefRef, Evaluated, LevelExplanation, RuleSet};
pub use score::{RuleContribution, ScoreExplanation};
pub use selector::{EventSelector, ValueProperty};
pub use subject::{MemorySubject, ScoreValue, SubjectKind, SubjectView};
pub use time::{
    format_duration, format_instant, format_time, parse_duration, DAY, HOUR, MINUTE, SECOND, WEEK,
};
pub use timeline::{Event, EventKind, EventShape, Run, Timeline};
pub use track::{LateInsert, PropertyKeys, TrackPlan, Tracker};
pub use traits::{TraitSharing, Traits, Unshared};
pub use triggers::{MemberChange, Triggers};
pub use value::Value;

/// Longest definition name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The one rule for score, segment and tier names, wherever they come from
/// (config file, `PUT /api/v1/definitions`, the editor, agents): ASCII
/// letters, digits and underscores, not starting with a digit, at most
/// [`MAX_NAME_CHARS`]. Names appear in URLs, CSV headers, HTML and webhook
/// payloads, so nothing there needs escaping. (Bellwether's own drafts use
/// names starting with `__`.)
pub fn check_name(name: &str) -> Result<(), &'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err("a name cannot be empty"),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            Err("a name starts with a letter or an underscore")
        }
        Some(_) if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err("a name uses only letters, digits and underscores")
        }
        Some(_) if name.len() > MAX_NAME_CHARS => Err("a name has at most 64 characters"),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod name_tests {
    use super::check_name;

    #[test]
    fn names_are_letters_digits_and_underscores_from_a_letter() {
        for good in [
            "hot",
            "hot_intent",
            "Tier2",
            "_x",
            "__backtest_draft",
            &"a".repeat(64),
        ] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a/b",
            "<b>x</b>",
            "2hot",
            "hot intent",
            "hot-intent",
            "café",
            &"a".repeat(65),
            &"a".repeat(70_000),
        ] {
            assert!(check_name(bad).is_err(), "{bad:.20}");
        }
    }
}
