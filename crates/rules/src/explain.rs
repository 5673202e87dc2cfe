//! Explanations: the value of every sub-expression and the events behind it,
//! as a tree an API serialises and a UI or terminal renders, e.g.
//! `✓ count(page where path = "/pricing", last 7d) = 3 ≥ 2`.

use serde::Serialize;

use crate::ast::Span;
use crate::eval::{Detail, Out, Trace};
use crate::ir::{Node, NodeKind};
use crate::time::format_time;
use crate::timeline::{Event, EventKind};
use crate::value::Value;

/// Events listed per node (the total is always given).
const MAX_EVENTS: usize = 20;

/// One event behind a value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRef {
    /// When.
    pub time: i64,
    /// The store's sequence number.
    pub seq: u64,
    /// track, page, screen.
    pub kind: EventKind,
    /// Event or page name.
    pub name: String,
}

/// The value of one sub-expression and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The sub-expression as written.
    pub expression: String,
    /// Its byte span in the definition's text.
    pub span: Span,
    /// Its value.
    pub value: Value,
    /// For conditions: whether it holds.
    pub holds: Option<bool>,
    /// One line for people, e.g. `count(...) = 3 ≥ 2`.
    pub summary: String,
    /// Events that contributed (at most 20).
    pub events: Vec<EventRef>,
    /// How many events contributed.
    pub events_total: usize,
    /// For `count(contacts where ...)`: the matching contacts.
    pub contacts: Vec<String>,
    /// When the value may change next without new events.
    pub next_change: Option<i64>,
    /// Sub-expressions (literals left out).
    pub children: Vec<Explanation>,
}

impl Explanation {
    /// An indented tree, one node per line, ✓/✗ on conditions.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        out
    }

    fn render_into(&self, out: &mut String, depth: usize) {
        let mark = match self.holds {
            Some(true) => "✓ ",
            Some(false) => "✗ ",
            None => "• ",
        };
        out.push_str(&"  ".repeat(depth));
        out.push_str(mark);
        out.push_str(&self.summary);
        out.push('\n');
        if !self.events.is_empty() {
            let shown: Vec<String> = self.events.iter().take(3).map(describe_event).collect();
            let more = self.events_total.saturating_sub(shown.len());
            let tail = if more > 0 {
                format!(", +{more} more")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{}  events: {}{tail}\n",
                "  ".repeat(depth),
                shown.join(", ")
            ));
        }
        if !self.contacts.is_empty() {
            out.push_str(&format!(
                "{}  contacts: {}\n",
                "  ".repeat(depth),
                self.contacts.join(", ")
            ));
        }
        for child in &self.children {
            child.render_into(out, depth + 1);
        }
    }
}

fn describe_event(event: &EventRef) -> String {
    let kind = match event.kind {
        EventKind::Track => "",
        EventKind::Page => "page ",
        EventKind::Screen => "screen ",
    };
    format!("{} {kind}{:?}", format_time(event.time), event.name)
}

/// Builds the tree while the evaluator runs.
pub(crate) struct Tracer<'s> {
    source: &'s str,
    stack: Vec<Vec<Explanation>>,
}

impl<'s> Tracer<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Tracer {
            source,
            stack: vec![Vec::new()],
        }
    }

    pub(crate) fn finish(mut self) -> Option<Explanation> {
        self.stack.pop().and_then(|mut roots| roots.pop())
    }

    fn text(&self, span: Span) -> String {
        self.source
            .get(span.start..span.end)
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn summary(&self, node: &Node, value: &Value, children: &[Explanation]) -> String {
        let text = self.text(node.span);
        let NodeKind::Cmp(op, lhs, rhs) = &node.kind else {
            return match value {
                Value::Bool(_) => text,
                _ => format!("{text} = {value}"),
            };
        };
        let side = |operand: &Node| {
            let source = self.text(operand.span);
            match children.iter().find(|c| c.span == operand.span) {
                Some(child) if !matches!(operand.kind, NodeKind::Lit(_)) => {
                    format!("{source} = {}", child.value)
                }
                _ => source,
            }
        };
        let right = match children.iter().find(|c| c.span == rhs.span) {
            Some(child) if !matches!(rhs.kind, NodeKind::Lit(_)) => {
                format!("{} ({})", self.text(rhs.span), child.value)
            }
            _ => self.text(rhs.span),
        };
        format!("{} {} {right}", side(lhs), op.symbol())
    }
}

impl Trace for Tracer<'_> {
    const ON: bool = true;

    fn open(&mut self) {
        self.stack.push(Vec::new());
    }

    fn close(&mut self, node: &Node, out: &Out<'_>, detail: Detail<'_>) {
        let children = self.stack.pop().unwrap_or_default();
        if matches!(node.kind, NodeKind::Lit(_)) {
            return;
        }
        let value = out.val.to_value();
        let holds = match value {
            Value::Bool(b) => Some(b),
            _ => None,
        };
        let mut summary = self.summary(node, &value, &children);
        if let Some(instant) = detail.instant {
            // `days_until(account.renewal_date) = 42.5 (2027-03-01T00:00:00Z)`
            summary.push_str(&format!(" ({})", format_time(instant)));
        } else if matches!(node.kind, NodeKind::TraitDays { .. }) {
            summary.push_str(" (the trait holds no RFC 3339 date-time)");
        }
        let events_total = detail.events.len();
        let events = detail
            .events
            .iter()
            .take(MAX_EVENTS)
            .map(|e| event_ref(e))
            .collect();
        let explanation = Explanation {
            expression: self.text(node.span),
            span: node.span,
            value,
            holds,
            summary,
            events,
            events_total,
            contacts: detail.contacts,
            next_change: out.next,
            children,
        };
        if let Some(parent) = self.stack.last_mut() {
            parent.push(explanation);
        }
    }
}

fn event_ref(event: &Event) -> EventRef {
    EventRef {
        time: event.time,
        seq: event.seq,
        kind: event.kind(),
        name: event.name().to_string(),
    }
}
