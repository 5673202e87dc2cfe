//! Windows and the scan of the events a selector matches in a window.
//!
//! As of `now`: `last D` = (now−D, now]; `between A and B ago` = (now−A, now−B];
//! `within D of first(S)` = [t, t+D] with t the first S event; no window = all
//! events up to now. Times are whole milliseconds, so ranges are inclusive
//! integer intervals here.

use super::{earliest, Eval, Trace};
use crate::events::Span;
use crate::ir::{Sel, SelBase, Win};
use crate::timeline::{Event, EventKind};
use crate::value::Val;

/// Whether an event is of the kind and name a selector's base names.
pub(crate) fn base_matches(base: &SelBase, event: &Event) -> bool {
    match base {
        SelBase::Any => true,
        SelBase::Page => event.kind() == EventKind::Page,
        SelBase::Screen => event.kind() == EventKind::Screen,
        SelBase::Named(name) => {
            event.kind() == EventKind::Track && super::props::same_text(event.name(), name)
        }
    }
}

/// An inclusive range of instants; empty when `from > to`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Range {
    pub(super) from: i64,
    pub(super) to: i64,
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    /// The events of the timeline in `range`, oldest first.
    pub(super) fn span(&self, range: Range) -> Span<'a> {
        let subject = self.subject;
        subject.events().range(range.from, range.to)
    }

    pub(crate) fn matches(&mut self, sel: &'a Sel, event: &'a Event) -> bool {
        if !base_matches(&sel.base, event) {
            return false;
        }
        match &sel.filter {
            None => true,
            Some(filter) => self.test(filter, event),
        }
    }

    pub(super) fn range(&mut self, win: &'a Win) -> Range {
        let now = self.now;
        match win {
            Win::All => Range {
                from: i64::MIN,
                to: now,
            },
            Win::Last(length) => Range {
                from: now.saturating_sub(*length).saturating_add(1),
                to: now,
            },
            Win::Ago { from, to } => Range {
                from: now.saturating_sub(*from).saturating_add(1),
                to: now.saturating_sub(*to),
            },
            Win::WithinOf {
                length,
                anchor,
                first,
            } => {
                let kept = first.and_then(|slot| {
                    let answer = self.tracker?.answer(self.plan?, slot)?;
                    Some(match answer.0 {
                        Val::Time(time) => Some(time),
                        _ => None,
                    })
                });
                let first = kept.unwrap_or_else(|| {
                    let everything = Range {
                        from: i64::MIN,
                        to: now,
                    };
                    self.first_match(anchor, everything).map(|e| e.time)
                });
                match first {
                    Some(first) => Range {
                        from: first,
                        to: first.saturating_add(*length).min(now),
                    },
                    None => Range { from: 1, to: 0 },
                }
            }
        }
    }

    pub(super) fn first_match(&mut self, sel: &'a Sel, range: Range) -> Option<&'a Event> {
        self.span(range).find(|e| self.matches(sel, e))
    }

    pub(super) fn last_match(&mut self, sel: &'a Sel, range: Range) -> Option<&'a Event> {
        self.span(range).rev().find(|e| self.matches(sel, e))
    }

    /// Visits the matching events in the window, oldest first, until `visit`
    /// returns false. Returns the first instant at which the set of matching
    /// events in the window changes (an event leaves, or one enters a
    /// `between ... ago` window).
    pub(crate) fn scan(
        &mut self,
        sel: &'a Sel,
        win: &'a Win,
        mut visit: impl FnMut(&'a Event) -> bool,
    ) -> Option<i64> {
        let range = self.range(win);
        let mut first = None;
        for event in self.span(range) {
            if !self.matches(sel, event) {
                continue;
            }
            first = first.or(Some(event.time));
            if !visit(event) {
                break;
            }
        }
        self.window_next(sel, win, first)
    }

    /// When the matching set changes, given the oldest match in the window.
    pub(super) fn window_next(
        &mut self,
        sel: &'a Sel,
        win: &'a Win,
        oldest: Option<i64>,
    ) -> Option<i64> {
        match win {
            Win::All | Win::WithinOf { .. } => None,
            Win::Last(length) => oldest.map(|t| t.saturating_add(*length)),
            Win::Ago { from, to } => {
                let leaves = oldest.map(|t| t.saturating_add(*from));
                let waiting = Range {
                    from: self.now.saturating_sub(*to).saturating_add(1),
                    to: self.now,
                };
                let enters = self
                    .first_match(sel, waiting)
                    .map(|e| e.time.saturating_add(*to));
                earliest(leaves, enters)
            }
        }
    }
}
