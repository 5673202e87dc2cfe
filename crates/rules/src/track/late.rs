//! Late events taken in place. An event inserted behind a tracker's cursor
//! (history imported behind live traffic, an offline queue flushed) used to
//! make the tracker start over from the first event: one pass over the
//! whole history per late batch. Most of the state does not depend on the
//! order of its events (counts, sums, distinct sets, windows kept sorted,
//! uncapped points), so a late event is added where it belongs; a capped
//! score rule recounts only the cap periods the late events fall in. What
//! cannot be taken in exactly (a tie deciding a `first`/`last`, a cap over
//! all history) still starts over.

use std::collections::{BTreeMap, HashSet};

use super::plan::{KindPlan, Measure, Span};
use super::{item, nobody, TrackPlan, Tracker};
use crate::eval::{Eval, NoTrace};
use crate::events::Events;
use crate::subject::SubjectKind;
use crate::time::{utc_day, DAY};
use crate::timeline::Event;

/// An event inserted into a timeline other than by appending, with the
/// timeline's stamp before and after the insertion.
#[derive(Clone, Debug)]
pub struct LateInsert {
    pub event: Event,
    pub before: u64,
    pub after: u64,
}

impl Tracker {
    /// Follows `events` through the insertions `edits` (in the order they
    /// were made, nothing else edited in between) without starting over.
    /// Returns false when it cannot: it then starts over at its next
    /// advance, exactly as before.
    pub fn absorb(
        &mut self,
        plan: &TrackPlan,
        kind: SubjectKind,
        events: Events<'_>,
        edits: &[LateInsert],
    ) -> bool {
        let follows = self.plan == plan.id
            && self.kind == kind
            && edits.first().is_some_and(|e| e.before == self.stamp)
            && edits.windows(2).all(|w| w[1].before == w[0].after)
            && edits.last().is_some_and(|e| e.after == events.stamp());
        if !follows {
            return false;
        }
        // Events after the cursor are fed by the next advance.
        let mut late: Vec<&Event> = match self.cursor {
            Some(cursor) => edits
                .iter()
                .map(|e| &e.event)
                .filter(|e| e.key() <= cursor)
                .collect(),
            None => Vec::new(),
        };
        late.sort_by_key(|e| e.key());
        late.dedup_by_key(|e| e.key());
        if !late.is_empty() && !self.take_in(plan.kind(kind), events, &late) {
            return false;
        }
        self.stamp = events.stamp();
        true
    }

    /// Adds `late` (sorted, all at or before the cursor); false, with
    /// nothing changed, when some part cannot take them in exactly.
    fn take_in(&mut self, wanted: &KindPlan, events: Events<'_>, late: &[&Event]) -> bool {
        let Some(cursor) = self.cursor else {
            return false;
        };
        let mut trace = NoTrace;
        let mut eval = Eval {
            subject: nobody(),
            now: self.at,
            trace: &mut trace,
            plan: None,
            tracker: None,
        };
        let slot_matches: Vec<Vec<bool>> = wanted
            .slots
            .iter()
            .map(|spec| late.iter().map(|e| eval.matches(&spec.sel, e)).collect())
            .collect();
        let slots_can = self.slots.iter().zip(&wanted.slots).zip(&slot_matches).all(
            |((state, spec), matched)| {
                late.iter()
                    .zip(matched)
                    .all(|(e, m)| !m || state.can_absorb(spec, e.time))
            },
        );
        let caps_can = wanted.scores.iter().flat_map(|s| &s.rules).all(|rule| {
            rule.as_ref()
                .and_then(|r| r.cap.as_ref())
                .is_none_or(|cap| cap.period.is_some())
        });
        if !slots_can || !caps_can {
            return false;
        }
        let late_keys: HashSet<(i64, u64)> = late.iter().map(|e| e.key()).collect();
        let at = self.at;
        for ((state, spec), matched) in self.slots.iter_mut().zip(&wanted.slots).zip(&slot_matches)
        {
            for (event, _) in late.iter().zip(matched).filter(|(_, m)| **m) {
                let day_seen = spec.span == Span::All
                    && matches!(spec.measure, Measure::ActiveDays)
                    && events
                        .range(
                            utc_day(event.time) * DAY,
                            utc_day(event.time) * DAY + DAY - 1,
                        )
                        .any(|other| {
                            let key = other.key();
                            // Counted so far: up to the cursor, neither this
                            // event nor a late one not taken in yet.
                            key <= cursor
                                && key != event.key()
                                && !(key > event.key() && late_keys.contains(&key))
                                && eval.matches(&spec.sel, other)
                        });
                state.absorb(spec, item(spec, event), at, day_seen);
            }
        }
        for (rule_points, (spec, rule)) in self.points.iter_mut().zip(wanted.event_rules()) {
            let matching = late.iter().filter(|e| eval.matches(&rule.sel, e));
            let Some(cap) = &rule.cap else {
                for event in matching {
                    rule_points.add(rule, event.time, spec.half_life);
                }
                continue;
            };
            // Each cap period a late event falls in is recounted alone.
            let periods: BTreeMap<i64, ()> = matching.map(|e| (cap.bucket(e.time), ())).collect();
            for bucket in periods.into_keys() {
                let Some((start, end)) = cap.span(bucket) else {
                    continue;
                };
                let mut before = Vec::new();
                let mut after = Vec::new();
                for event in events.range(start, end) {
                    if event.key() > cursor || !eval.matches(&rule.sel, event) {
                        continue;
                    }
                    after.push(event.time);
                    if !late_keys.contains(&event.key()) {
                        before.push(event.time);
                    }
                }
                rule_points.recount(rule, bucket, &before, &after, spec.half_life);
            }
        }
        true
    }
}
