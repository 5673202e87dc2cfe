//! Explanation trees (as the explain API returns them) rendered for people:
//! every sub-expression with ✓/✗, its one-line summary, the events that
//! counted and when the value may change by itself.

use bellwether_rules::EventKind;
use maud::{html, Markup};

use super::{format, layout};
use crate::api::explanation::{ExplainedEventView, ExplanationView, TierExplanationView};

/// Events listed under a node (the API keeps up to 20).
const EVENTS_SHOWN: usize = 5;

/// One explanation tree.
pub(crate) fn tree(explanation: &ExplanationView, now: i64) -> Markup {
    html! {
        ul.explain { (node(explanation, now)) }
    }
}

fn node(explanation: &ExplanationView, now: i64) -> Markup {
    let (mark, tone, word) = match explanation.holds {
        Some(true) => ("✓", "yes", "holds"),
        Some(false) => ("✗", "no", "does not hold"),
        None => ("•", "value", "value"),
    };
    let events = &explanation.events;
    let total = explanation.events_total;
    // Listed here, of those the API kept.
    let shown = EVENTS_SHOWN.min(events.len());
    html! {
        li class=(tone) {
            span.mark aria-label=(word) { (mark) }
            " "
            code { (explanation.summary) }
            @if let Some(at) = explanation.next_change {
                span.muted { " · may change " (layout::when(at, now)) }
            }
            @if !events.is_empty() {
                div.events {
                    (format::plural(total as i64, "event")) ": "
                    @for (i, event) in events.iter().take(EVENTS_SHOWN).enumerate() {
                        @if i > 0 { ", " }
                        (event_text(event, now))
                    }
                    @if total > shown {
                        span.muted { " and " (total - shown) " more" }
                    }
                }
            }
            @if !explanation.contacts.is_empty() {
                div.events {
                    "contacts: "
                    @for (i, id) in explanation.contacts.iter().enumerate() {
                        @if i > 0 { ", " }
                        (layout::subject_link("contact", id))
                    }
                }
            }
            @if !explanation.children.is_empty() {
                ul { @for child in &explanation.children { (node(child, now)) } }
            }
        }
    }
}

fn event_text(event: &ExplainedEventView, now: i64) -> Markup {
    html! {
        span.event {
            @match event.kind {
                EventKind::Track => {},
                EventKind::Page => span.muted { "page " },
                EventKind::Screen => span.muted { "screen " },
            }
            (event.name) " "
            span.muted { (layout::when(event.time, now)) }
        }
    }
}

/// A tier's explanation: each level in order (the first that holds is the
/// subject's level; a level whose condition is a bare literal such as
/// `true` has no tree).
pub(crate) fn tier(levels: &TierExplanationView, current: Option<&str>, now: i64) -> Markup {
    let levels = &levels.levels;
    let listed = levels.iter().any(|l| Some(l.level.as_str()) == current);
    html! {
        ol.levels {
            @for level in levels {
                li {
                    strong { (level.level) }
                    @if Some(level.level.as_str()) == current { " " (layout::pill("current level", "good")) }
                    (tree(&level.explanation, now))
                }
            }
            @if let (false, Some(current)) = (listed, current) {
                li { strong { (current) } " " (layout::pill("current level", "good")) span.muted { " (its condition always holds)" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::explanation::LevelExplanationView;

    /// A node as the API serves it, from the fields a test cares about.
    fn node(fields: serde_json::Value) -> ExplanationView {
        let mut tree = json!({
            "expression": "x", "span": {"start": 0, "end": 1}, "value": null, "holds": null,
            "summary": "x", "events": [], "events_total": 0, "contacts": [],
            "next_change": null, "children": [],
        });
        if let (Some(tree), Some(fields)) = (tree.as_object_mut(), fields.as_object()) {
            tree.extend(fields.clone());
        }
        serde_json::from_value(tree).expect("an explanation")
    }

    #[test]
    fn trees_mark_what_holds_and_list_the_events() {
        let mut explanation = node(json!({"summary": "a and b", "holds": true}));
        explanation.children = vec![
            node(
                json!({"summary": "count(\"Demo Requested\") = 2 ≥ 1", "holds": true, "events_total": 2,
                 "events": [{"time": 0, "seq": 1, "kind": "track", "name": "Demo Requested"},
                            {"time": 1, "seq": 2, "kind": "page", "name": "/pricing"}]}),
            ),
            node(
                json!({"summary": "score(\"intent\") = 4 ≥ 5", "holds": false, "contacts": ["ann"]}),
            ),
        ];
        let html = tree(&explanation, 0).into_string();
        assert!(
            html.contains(r#"<li class="yes"><span class="mark" aria-label="holds">✓</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<li class="no">"#));
        assert!(html.contains("2 events: "));
        assert!(html.contains(r#"<span class="muted">page </span>/pricing"#));
        assert!(html.contains(r#"<a href="/contacts/ann">ann</a>"#));
    }

    #[test]
    fn the_current_level_is_marked_even_without_a_tree() {
        let level = |name: &str, holds: bool| LevelExplanationView {
            level: name.to_owned(),
            explanation: node(json!({"holds": holds})),
        };
        let levels = TierExplanationView {
            levels: vec![level("high", false), level("low", true)],
        };
        let html = tier(&levels, Some("low"), 0).into_string();
        let current = html.find("current level").expect("marked");
        assert!(html.find("low").expect("low") < current);
        assert!(html.find("high").expect("high") < html.find("low").unwrap());
        let literal = TierExplanationView {
            levels: vec![level("high", false)],
        };
        let html = tier(&literal, Some("low"), 0).into_string();
        assert!(
            html.contains("<strong>low</strong> <span class=\"pill good\">current level</span>"),
            "{html}"
        );
    }
}
