//! Explanation trees (as the explain API returns them) rendered for people:
//! every sub-expression with ✓/✗, its one-line summary, the events that
//! counted and when the value may change by itself.

use maud::{html, Markup};
use serde_json::Value;

use super::{format, layout};

/// Events listed under a node (the API keeps up to 20).
const EVENTS_SHOWN: usize = 5;

/// One explanation tree.
pub(crate) fn tree(explanation: &Value, now: i64) -> Markup {
    html! {
        ul.explain { (node(explanation, now)) }
    }
}

fn node(explanation: &Value, now: i64) -> Markup {
    let (mark, tone, word) = match explanation["holds"].as_bool() {
        Some(true) => ("✓", "yes", "holds"),
        Some(false) => ("✗", "no", "does not hold"),
        None => ("•", "value", "value"),
    };
    let summary = explanation["summary"].as_str().unwrap_or_default();
    let events = explanation["events"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let total = explanation["events_total"].as_u64().unwrap_or(0);
    let contacts = explanation["contacts"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    html! {
        li class=(tone) {
            span.mark aria-label=(word) { (mark) }
            " "
            code { (summary) }
            @if let Some(at) = explanation["next_change"].as_i64() {
                span.muted { " · may change " (layout::when(at, now)) }
            }
            @if !events.is_empty() {
                div.events {
                    (format::plural(total as i64, "event")) ": "
                    @for (i, event) in events.iter().take(EVENTS_SHOWN).enumerate() {
                        @if i > 0 { ", " }
                        (event_text(event, now))
                    }
                    @if total as usize > EVENTS_SHOWN.min(events.len()) {
                        span.muted { " and " (total as usize - EVENTS_SHOWN.min(events.len())) " more" }
                    }
                }
            }
            @if !contacts.is_empty() {
                div.events {
                    "contacts: "
                    @for (i, id) in contacts.iter().filter_map(Value::as_str).enumerate() {
                        @if i > 0 { ", " }
                        (layout::subject_link("contact", id))
                    }
                }
            }
            @if let Some(children) = explanation["children"].as_array().filter(|c| !c.is_empty()) {
                ul { @for child in children { (node(child, now)) } }
            }
        }
    }
}

fn event_text(event: &Value, now: i64) -> Markup {
    let name = event["name"].as_str().unwrap_or_default();
    let kind = event["kind"].as_str().unwrap_or("track");
    html! {
        span.event {
            @if kind != "track" { span.muted { (kind) " " } }
            (name) " "
            @if let Some(at) = event["time"].as_i64() {
                span.muted { (layout::when(at, now)) }
            }
        }
    }
}

/// A tier's explanation (`{"levels": [{"level", "explanation"}]}`): each
/// level in order (the first that holds is the subject's level; a level
/// whose condition is a bare literal such as `true` has no tree).
pub(crate) fn tier(levels: &Value, current: Option<&str>, now: i64) -> Markup {
    let levels = levels["levels"].as_array().map_or(&[][..], Vec::as_slice);
    let listed = levels.iter().any(|l| l["level"].as_str() == current);
    html! {
        ol.levels {
            @for level in levels {
                @let name = level["level"].as_str().unwrap_or_default();
                li {
                    strong { (name) }
                    @if Some(name) == current { " " (layout::pill("current level", "good")) }
                    (tree(&level["explanation"], now))
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

    #[test]
    fn trees_mark_what_holds_and_list_the_events() {
        let explanation = json!({
            "summary": "a and b", "holds": true, "events": [], "events_total": 0, "contacts": [],
            "next_change": null,
            "children": [
                {"summary": "count(\"Demo Requested\") = 2 ≥ 1", "holds": true, "events_total": 2,
                 "events": [{"time": 0, "seq": 1, "kind": "track", "name": "Demo Requested"},
                            {"time": 1, "seq": 2, "kind": "page", "name": "/pricing"}],
                 "contacts": [], "children": []},
                {"summary": "score(\"intent\") = 4 ≥ 5", "holds": false, "events": [], "events_total": 0,
                 "contacts": ["ann"], "children": []}
            ]
        });
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
        let levels = json!({"levels": [
            {"level": "high", "explanation": {"summary": "x", "holds": false}},
            {"level": "low", "explanation": {"summary": "true", "holds": true}},
        ]});
        let html = tier(&levels, Some("low"), 0).into_string();
        let current = html.find("current level").expect("marked");
        assert!(html.find("low").expect("low") < current);
        assert!(html.find("high").expect("high") < html.find("low").unwrap());
        let literal =
            json!({"levels": [{"level": "high", "explanation": {"summary": "x", "holds": false}}]});
        let html = tier(&literal, Some("low"), 0).into_string();
        assert!(
            html.contains("<strong>low</strong> <span class=\"pill good\">current level</span>"),
            "{html}"
        );
    }
}
