//! The fast path for `where` predicates: one event at a time, no time
//! bookkeeping (a predicate over one event's properties does not change as
//! time passes). Anything unusual falls back to the general evaluator.

use std::cmp::Ordering;

use super::ops::{contains, holds, order, starts_with};
use super::props::{property, raw_property, same_text, RawProp};
use super::{Eval, Trace};
use crate::ir::{CmpOp, Node, NodeKind};
use crate::timeline::Event;
use crate::value::{Val, Value};

impl<'a, T: Trace> Eval<'a, '_, T> {
    pub(super) fn test(&mut self, node: &'a Node, event: &'a Event) -> bool {
        if let Some(answer) = string_test(node, event) {
            return answer;
        }
        match &node.kind {
            NodeKind::And(items) => items.iter().all(|item| self.test(item, event)),
            NodeKind::Or(items) => items.iter().any(|item| self.test(item, event)),
            NodeKind::Not(inner) => !self.test(inner, event),
            NodeKind::Cmp(op, lhs, rhs) => match (simple(lhs, event), simple(rhs, event)) {
                (Some(a), Some(b)) => holds(*op, order(&a, &b)),
                _ => self.general(node, event),
            },
            NodeKind::StartsWith(lhs, rhs) => match (simple(lhs, event), simple(rhs, event)) {
                (Some(a), Some(b)) => starts_with(&a, &b),
                _ => self.general(node, event),
            },
            NodeKind::Contains(lhs, rhs) => match (simple(lhs, event), simple(rhs, event)) {
                (Some(a), Some(b)) => contains(&a, &b),
                _ => self.general(node, event),
            },
            NodeKind::In {
                negated,
                item,
                list,
            } => match (&list.kind, simple(item, event)) {
                (NodeKind::Lit(Value::List(items)), Some(item)) => {
                    item != Val::Missing
                        && items
                            .iter()
                            .any(|v| order(&item, &Val::from_value(v)) == Some(Ordering::Equal))
                            != *negated
                }
                _ => self.general(node, event),
            },
            NodeKind::Matches(text, regex) => match simple(text, event) {
                Some(Val::Str(text)) => regex.is_match(&text),
                Some(_) => false,
                None => self.general(node, event),
            },
            _ => self.general(node, event),
        }
    }

    fn general(&mut self, node: &'a Node, event: &'a Event) -> bool {
        self.eval(node, Some(event)).val.is_true()
    }
}

/// Literals (other than lists) and properties, read without evaluation.
fn simple<'a>(node: &'a Node, event: &'a Event) -> Option<Val<'a>> {
    match &node.kind {
        NodeKind::Lit(Value::List(_)) => None,
        NodeKind::Lit(value) => Some(Val::from_value(value)),
        NodeKind::Prop(path) => Some(property(event, path)),
        _ => None,
    }
}

/// The most common predicates, on strings, without building values:
/// `path = "/pricing"`, `path starts_with "/blog/"`, `feature in ["a", "b"]`.
fn string_test(node: &Node, event: &Event) -> Option<bool> {
    match &node.kind {
        NodeKind::Cmp(op, lhs, rhs) => {
            let (NodeKind::Prop(path), NodeKind::Lit(Value::String(text))) = (&lhs.kind, &rhs.kind)
            else {
                return None;
            };
            let raw = raw_property(event, path);
            match raw.as_str() {
                Some(value) => Some(match op {
                    CmpOp::Eq => same_text(value, text),
                    CmpOp::Ne => !same_text(value, text),
                    _ => holds(*op, Some(value.cmp(text))),
                }),
                None => matches!(raw, RawProp::Missing).then_some(false),
            }
        }
        NodeKind::StartsWith(lhs, rhs) => {
            let (NodeKind::Prop(path), NodeKind::Lit(Value::String(prefix))) =
                (&lhs.kind, &rhs.kind)
            else {
                return None;
            };
            Some(
                raw_property(event, path)
                    .as_str()
                    .is_some_and(|value| value.starts_with(&**prefix)),
            )
        }
        NodeKind::In {
            negated,
            item,
            list,
        } => {
            let (NodeKind::Prop(path), NodeKind::Lit(Value::List(items))) =
                (&item.kind, &list.kind)
            else {
                return None;
            };
            let raw = raw_property(event, path);
            match raw.as_str() {
                Some(value) => Some(
                    items
                        .iter()
                        .any(|v| matches!(v, Value::String(s) if **s == *value))
                        != *negated,
                ),
                None => matches!(raw, RawProp::Missing).then_some(false),
            }
        }
        _ => None,
    }
}
