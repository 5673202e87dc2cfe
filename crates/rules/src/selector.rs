//! A checked event selector outside the definitions: what reports call an
//! outcome (`"Deal Won"`, `page where path = "/pricing"`).

use crate::check::check_condition;
use crate::diagnostics::{Diagnostic, Diagnostics, Problem};
use std::sync::Arc;

use crate::ir::{NodeKind, PropPath, Sel};
use crate::ruleset::RuleSet;
use crate::subject::{SubjectKind, SubjectView};

/// What the selector text is wrapped in to be checked as an expression.
const WRAP_OPEN: &str = "exists(";

/// An event selector checked for one kind of subject.
#[derive(Clone, Debug)]
pub struct EventSelector {
    source: String,
    subject: SubjectKind,
    sel: Sel,
}

impl EventSelector {
    /// The selector as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Contact or account (an account's events are its contacts').
    pub fn subject(&self) -> SubjectKind {
        self.subject
    }

    /// The event properties its `where` reads.
    pub fn property_keys(&self) -> crate::PropertyKeys {
        let mut keys = crate::PropertyKeys::default();
        keys.sel(&self.sel);
        keys
    }

    /// The time of the first matching event of `subject` in `(after, until]`.
    pub fn first_between(&self, subject: &dyn SubjectView, after: i64, until: i64) -> Option<i64> {
        crate::eval::first_matching(&self.sel, subject, after.saturating_add(1), until)
    }

    /// How many events of `subject` match in `(after, until]`, and the sum
    /// of their `value` (what a report calls revenue or pipeline: the
    /// `amount` of each `Deal Won`).
    pub fn sum_between(
        &self,
        subject: &dyn SubjectView,
        value: &ValueProperty,
        after: i64,
        until: i64,
    ) -> (u64, f64) {
        crate::eval::sum_matching(
            &self.sel,
            &value.path,
            subject,
            after.saturating_add(1),
            until,
        )
    }
}

/// A numeric event property a report sums (`amount`, `deal.value`):
/// written like a property inside `where`.
#[derive(Clone, Debug)]
pub struct ValueProperty {
    source: String,
    path: PropPath,
}

impl ValueProperty {
    /// Reads a dotted property path; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty: give an event property such as amount".into());
        }
        let segments: Vec<&str> = text.split('.').collect();
        if let Some(bad) = segments.iter().find(|s| !is_property_name(s)) {
            return Err(format!(
                "{text:?} is not a property path: {bad:?} is not a property name \
                 (letters, digits, `_`, `-` and `$`, joined by dots)"
            ));
        }
        Ok(Self {
            source: text.to_owned(),
            path: PropPath::new(segments.into_iter().map(Arc::from).collect()),
        })
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The event property key it reads (the engine must keep it).
    pub fn property_keys(&self) -> crate::PropertyKeys {
        let mut keys = crate::PropertyKeys::default();
        keys.path(&self.path);
        keys
    }
}

fn is_property_name(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

impl RuleSet {
    /// Checks `text` as an event selector for `subject` against these
    /// definitions (a `where` predicate may read traits and scores).
    pub fn selector(&self, subject: SubjectKind, text: &str) -> Result<EventSelector, Diagnostics> {
        let wrapped = format!("{WRAP_OPEN}{text})");
        let shift = |p: &Problem| {
            let mut p = p.clone();
            let start = p.span.start.saturating_sub(WRAP_OPEN.len()).min(text.len());
            let end = p.span.end.saturating_sub(WRAP_OPEN.len()).min(text.len());
            p.span = crate::ast::Span::new(start, end.max(start));
            p
        };
        let fail = |problems: Vec<Problem>| Diagnostics {
            diagnostics: problems
                .iter()
                .map(|p| {
                    let p = shift(p);
                    Diagnostic::resolve("<selector>", text, p.span, &p)
                })
                .collect(),
        };
        let expr = crate::parser::parse(&wrapped).map_err(|p| fail(vec![p]))?;
        let checked = check_condition(&expr, subject, &self.catalog()).map_err(fail)?;
        match checked.node.kind {
            NodeKind::Exists(sel, crate::ir::Win::All) => Ok(EventSelector {
                source: text.to_owned(),
                subject,
                sel,
            }),
            _ => Err(fail(vec![Problem::new(
                "type",
                "expected an event selector",
                crate::ast::Span::new(0, text.len()),
            )
            .hint("an event name such as \"Deal Won\", page, screen or any, optionally with `where <predicate>`")])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Event, Timeline};
    use crate::MemorySubject;

    fn rules() -> RuleSet {
        RuleSet::from_toml("t.toml", "").expect("empty definitions")
    }

    #[test]
    fn finds_the_first_matching_event_after_an_instant() {
        let selector = rules()
            .selector(SubjectKind::Contact, "\"Deal Won\" where amount > 10")
            .expect("valid selector");
        let timeline = Timeline::from_events([
            Event::track(100, 1, "Deal Won", serde_json::json!({"amount": 50})),
            Event::track(200, 2, "Deal Won", serde_json::json!({"amount": 5})),
            Event::track(300, 3, "Deal Won", serde_json::json!({"amount": 20})),
            Event::track(400, 4, "Other", serde_json::json!({})),
        ]);
        let subject = contact(timeline);
        assert_eq!(selector.first_between(&subject, 0, 1_000), Some(100));
        // `(after, until]`: an event at `after` is not after it.
        assert_eq!(selector.first_between(&subject, 100, 1_000), Some(300));
        assert_eq!(selector.first_between(&subject, 100, 299), None);
        assert_eq!(selector.first_between(&subject, 0, 300), Some(100));
    }

    fn contact(timeline: Timeline) -> MemorySubject {
        MemorySubject {
            id: "u".into(),
            kind: SubjectKind::Contact,
            timeline,
            traits: Default::default(),
            account_traits: None,
            scores: Default::default(),
            segments: Default::default(),
            tiers: Default::default(),
            contacts: Vec::new(),
            tracker: None,
        }
    }

    #[test]
    fn sums_a_value_over_the_matching_events_in_a_range() {
        let selector = rules()
            .selector(SubjectKind::Contact, "\"Deal Won\"")
            .expect("valid selector");
        let amount = ValueProperty::parse("amount").expect("a property");
        let nested = ValueProperty::parse("deal.value").expect("a path");
        let subject = contact(Timeline::from_events([
            Event::track(
                100,
                1,
                "Deal Won",
                serde_json::json!({"amount": 50, "deal": {"value": 7}}),
            ),
            Event::track(200, 2, "Deal Won", serde_json::json!({"amount": "12"})),
            Event::track(300, 3, "Deal Won", serde_json::json!({"amount": 20.5})),
            Event::track(400, 4, "Deal Lost", serde_json::json!({"amount": 1000})),
        ]));
        // Every match counts; only numbers add to the sum.
        assert_eq!(selector.sum_between(&subject, &amount, 0, 1_000), (3, 70.5));
        // `(after, until]`.
        assert_eq!(selector.sum_between(&subject, &amount, 100, 300), (2, 20.5));
        assert_eq!(
            selector.sum_between(&subject, &amount, 300, 1_000),
            (0, 0.0)
        );
        assert_eq!(selector.sum_between(&subject, &nested, 0, 1_000), (3, 7.0));
        assert!(amount.property_keys().contains("amount"));
        assert!(nested.property_keys().contains("deal"));
    }

    #[test]
    fn a_value_property_must_be_a_property_path() {
        for bad in ["", "  ", "amount.", "a..b", "amount > 3", "\"amount\""] {
            let error = ValueProperty::parse(bad).expect_err(bad);
            assert!(error.contains("property"), "{bad:?}: {error}");
        }
        assert_eq!(
            ValueProperty::parse(" plan.mrr ").map(|v| v.source().to_owned()),
            Ok("plan.mrr".to_owned())
        );
    }

    #[test]
    fn rejects_what_is_not_a_selector_with_positions_in_the_text() {
        let error = rules()
            .selector(SubjectKind::Contact, "\"Deal Won\", last 7d")
            .expect_err("a window is not part of a selector");
        assert!(!error.diagnostics.is_empty());
        let bad = rules()
            .selector(SubjectKind::Contact, "\"Deal Won\" where (")
            .expect_err("parse error");
        let first = &bad.diagnostics[0];
        assert_eq!(first.line, 1);
        assert!(
            first.column <= "\"Deal Won\" where (".len() + 1,
            "{first:?}"
        );
    }
}
