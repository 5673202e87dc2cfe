//! Sequences: `sequence(A then B within D)` and
//! `each(last N A followed_by B on prop within D)`.

use super::props::property;
use super::window::Range;
use super::{earliest, Detail, Eval, Out, Trace};
use crate::ir::{EachFollowed, Sel, Win};
use crate::timeline::Event;
use crate::value::Val;

/// A matching event; its (time, seq) key orders events that share a
/// millisecond.
#[derive(Clone, Copy)]
struct Hit<'e> {
    event: &'e Event,
}

impl Hit<'_> {
    fn position(&self) -> (i64, u64) {
        self.event.key()
    }
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    fn hits(&mut self, sel: &'a Sel, range: Range) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        for event in self.span(range) {
            if self.matches(sel, event) {
                hits.push(Hit { event });
            }
        }
        hits
    }

    /// True when some A is followed (later in the timeline) by a B, then a C...,
    /// all in the window, with at most `within` from the first to the last.
    pub(super) fn sequence(
        &mut self,
        steps: &'a [Sel],
        within: Option<i64>,
        win: &'a Win,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let range = self.range(win);
        let lists: Vec<Vec<Hit<'a>>> = steps.iter().map(|s| self.hits(s, range)).collect();
        let mut next = None;
        for (sel, list) in steps.iter().zip(&lists) {
            let oldest = list.first().map(|h| h.event.time);
            next = earliest(next, self.window_next(sel, win, oldest));
        }
        let found = lists
            .first()
            .into_iter()
            .flatten()
            .find_map(|start| chain(start, &lists[1..], within));
        if let (true, Some(chain)) = (T::ON, &found) {
            detail.events.extend(chain.iter().map(|h| h.event));
        }
        Out::until(Val::Bool(found.is_some()), next)
    }

    /// True when there are at least N `lead` events and each of the latest N
    /// is followed by a `follower` event (with the same `on` property, within
    /// `within`). Nothing here depends on time passing.
    pub(super) fn each_followed(
        &mut self,
        each: &'a EachFollowed,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let leads = self.latest_hits(&each.lead, each.count);
        if leads.len() < each.count {
            if T::ON {
                detail.events.extend(leads.iter().map(|h| h.event));
            }
            return Out::still(Val::Bool(false));
        }
        let mut ok = true;
        for lead in leads.iter().rev() {
            let answer = self.follower_of(lead, each);
            if T::ON {
                detail.events.push(lead.event);
                detail.events.extend(answer.map(|h| h.event));
            }
            ok &= answer.is_some();
            if !ok && !T::ON {
                break;
            }
        }
        Out::still(Val::Bool(ok))
    }

    /// The latest `count` matches at or before now, newest first.
    fn latest_hits(&mut self, sel: &'a Sel, count: usize) -> Vec<Hit<'a>> {
        let mut hits = Vec::with_capacity(count);
        let everything = Range {
            from: i64::MIN,
            to: self.now,
        };
        for event in self.span(everything).rev() {
            if hits.len() == count {
                break;
            }
            if self.matches(sel, event) {
                hits.push(Hit { event });
            }
        }
        hits
    }

    /// The first follower after `lead` (same `on` value, within `within`).
    fn follower_of(&mut self, lead: &Hit<'a>, each: &'a EachFollowed) -> Option<Hit<'a>> {
        let key = each.on.as_ref().map(|path| property(lead.event, path));
        if key == Some(Val::Missing) {
            return None;
        }
        let subject = self.subject;
        for event in subject.events().after(lead.position(), self.now) {
            if each
                .within
                .is_some_and(|limit| event.time - lead.event.time > limit)
            {
                return None;
            }
            let same_key = match (&key, &each.on) {
                (Some(key), Some(path)) => property(event, path) == *key,
                _ => true,
            };
            if same_key && self.matches(&each.follower, event) {
                return Some(Hit { event });
            }
        }
        None
    }
}

/// Greedy earliest continuation of a sequence starting at `start`.
fn chain<'e>(start: &Hit<'e>, rest: &[Vec<Hit<'e>>], within: Option<i64>) -> Option<Vec<Hit<'e>>> {
    let mut current = *start;
    let mut chain = vec![current];
    for list in rest {
        let at = list.partition_point(|h| h.position() <= current.position());
        current = *list.get(at)?;
        chain.push(current);
    }
    let span = current.event.time - start.event.time;
    within.is_none_or(|limit| span <= limit).then_some(chain)
}
