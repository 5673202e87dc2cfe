//! Aggregates read from the subject's tracker instead of scanning: same
//! value and same next-change instant as the scan (the property test
//! `incremental` holds them equal), at O(1) per read.

use super::motion::Motion;
use super::{Eval, Out, Trace};
use crate::ir::{Node, NodeKind};
use crate::time::DAY;
use crate::value::Val;

impl<'a, T: Trace> Eval<'a, '_, T> {
    /// The tracked value of an aggregate node, when it has a slot and the
    /// tracker is ready (never while tracing: explanations list events).
    pub(super) fn tracked(&self, node: &'a Node) -> Option<Out<'a>> {
        if T::ON {
            return None;
        }
        let (slot, tracker, plan) = (node.slot?, self.tracker?, self.plan?);
        let (val, next) = tracker.answer(plan, slot)?;
        if let (NodeKind::DaysSince(_), Val::Time(latest)) = (&node.kind, &val) {
            let motion = Motion::elapsed(*latest, DAY);
            return Some(Out {
                val: Val::Num(motion.at(self.now)),
                motion: Some(motion),
                next: None,
            });
        }
        Some(Out::until(val, next))
    }
}
