//! What one evaluation computed for a subject: its scores, segments and
//! tiers, one slot per definition of its kind in the rule set's
//! [`ValueLayout`] (a short vector: cloned, compared and walked without
//! hashing a name), with the instants at which they may change.

use std::collections::BTreeMap;
use std::sync::Arc;

use bellwether_rules::{DefKind, RuleSet, ScoreValue, SubjectKind, ValueLayout};

/// One definition's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Slot {
    /// Not computed (or a tier at no level).
    #[default]
    Unset,
    /// Boxed: a score's form is 56 bytes, and most slots are segments.
    Score(Box<ScoreValue>),
    Segment(bool),
    Tier(Arc<str>),
}

// Every subject holds one per definition of its kind: keep it three words.
const _: () = assert!(std::mem::size_of::<Slot>() == 24);

/// A definition whose value differs between two evaluations: (kind,
/// name, was, is).
pub(crate) type Difference<'a> = (DefKind, &'a Arc<str>, &'a Slot, &'a Slot);

/// Everything computed for one subject at one instant.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// The layout `slots` follow; `None` while nothing is set.
    layout: Option<&'static ValueLayout>,
    kind: SubjectKind,
    slots: Vec<Slot>,
    /// The first instant after the evaluation at which any value may change
    /// by itself (no new event); `None` = never.
    pub next_change: Option<i64>,
    /// Per watched score threshold (the engine's watch list, in order):
    /// whether the score is at or above it.
    pub above: Vec<bool>,
    /// Kept by the engine's own evaluations: when each definition may
    /// change by time alone, so a timer re-evaluates only those it concerns.
    pub(crate) own: Option<OwnNexts>,
}

/// Per definition, the first instant after `at` at which its value may
/// change with no new input (events, traits, contacts, other definitions);
/// stored future events and trait changes are left out (they are inputs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OwnNexts {
    /// The rule set's plan (`next` follows its order).
    pub(crate) plan: u64,
    /// The instant the values hold at.
    pub(crate) at: i64,
    /// The stamp of the timeline evaluated: another stamp means the
    /// timeline was edited behind `at` (retention, a deletion).
    pub(crate) stamp: u64,
    /// By position in the rule set's order; other kinds' positions are none.
    pub(crate) next: Instants,
    /// By position: which definitions this evaluation computed. The engine
    /// counts them for health, then empties it.
    pub(crate) evaluated: Vec<bool>,
    /// By position: the top-level operand that decided a segment's answer
    /// (`None` when every operand was read, or for other definitions).
    pub(crate) decided: Vec<Option<u8>>,
}

/// Per definition, an instant or none, one word each: an `Option<i64>`
/// takes two, and every subject keeps one per definition of the rule set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instants(Vec<i64>);

impl Instants {
    /// Stands for none: no instant is that late (a saturated instant means
    /// never as well).
    const NONE: i64 = i64::MAX;

    /// `len` positions, each none.
    pub(crate) fn none(len: usize) -> Self {
        Instants(vec![Self::NONE; len])
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn set(&mut self, position: usize, instant: Option<i64>) {
        if let Some(slot) = self.0.get_mut(position) {
            *slot = instant.unwrap_or(Self::NONE);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        self.0
            .iter()
            .map(|&instant| (instant != Self::NONE).then_some(instant))
    }
}

impl Values {
    /// A score's value, if computed.
    pub fn score(&self, name: &str) -> Option<ScoreValue> {
        match self.named(DefKind::Score, name)? {
            Slot::Score(score) => Some(**score),
            _ => None,
        }
    }

    /// Whether the subject is in a segment, if computed.
    pub fn in_segment(&self, name: &str) -> Option<bool> {
        match self.named(DefKind::Segment, name)? {
            Slot::Segment(member) => Some(*member),
            _ => None,
        }
    }

    /// A tier's level; `None` when not computed or at no level.
    pub fn tier(&self, name: &str) -> Option<&Arc<str>> {
        match self.named(DefKind::Tier, name)? {
            Slot::Tier(level) => Some(level),
            _ => None,
        }
    }

    /// Every computed score, in the rule set's order.
    pub fn scores(&self) -> impl Iterator<Item = (&Arc<str>, &ScoreValue)> {
        self.set().filter_map(|(_, name, slot)| match slot {
            Slot::Score(score) => Some((name, &**score)),
            _ => None,
        })
    }

    /// Every computed segment, member or not, in the rule set's order.
    pub fn segments(&self) -> impl Iterator<Item = (&Arc<str>, bool)> {
        self.set().filter_map(|(_, name, slot)| match slot {
            Slot::Segment(member) => Some((name, *member)),
            _ => None,
        })
    }

    /// Every tier at a level, in the rule set's order.
    pub fn tiers(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<str>)> {
        self.set().filter_map(|(_, name, slot)| match slot {
            Slot::Tier(level) => Some((name, level)),
            _ => None,
        })
    }

    /// The definitions whose values differ from `before`'s, in the rule
    /// set's order: slot by slot when laid out alike, else by name.
    pub(crate) fn differences<'a>(&'a self, before: &'a Values) -> Vec<Difference<'a>> {
        const UNSET: &Slot = &Slot::Unset;
        if self.same_layout(before) {
            let Some(layout) = self.layout else {
                return Vec::new();
            };
            return self
                .slots
                .iter()
                .zip(&before.slots)
                .enumerate()
                .filter(|(_, (is, was))| is != was)
                .filter_map(|(slot, (is, was))| {
                    let (def, name) = layout.def_at(self.kind, slot)?;
                    Some((def, name, was, is))
                })
                .collect();
        }
        let mut out: Vec<_> = self
            .set()
            .map(|(def, name, is)| (def, name, before.named(def, name).unwrap_or(UNSET), is))
            .filter(|(_, _, was, is)| was != is)
            .collect();
        out.extend(
            before
                .set()
                .filter(|(def, name, _)| self.named(*def, name).is_none_or(|is| *is == Slot::Unset))
                .map(|(def, name, was)| (def, name, was, UNSET)),
        );
        out
    }

    /// The values hold at `at` too (a timer reached none of their
    /// definitions): nothing arrived since the last evaluation that the
    /// next one must look at, and they may next change at `next`.
    pub(super) fn hold_until(&mut self, at: i64, next: Option<i64>) {
        if let Some(own) = self.own.as_mut() {
            own.at = at;
        }
        self.next_change = next;
    }

    pub(super) fn note_change(&mut self, at: Option<i64>) {
        self.next_change = match (self.next_change, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Sets the slot of the definition at `position` of the rule set's
    /// order (one of `kind`'s), returning what it held.
    pub(crate) fn replace(
        &mut self,
        rules: &RuleSet,
        kind: SubjectKind,
        position: usize,
        value: Slot,
    ) -> Slot {
        self.adopt(rules.value_layout(), kind);
        match rules.value_layout().slot_of(kind, position) {
            Some(slot) => std::mem::replace(&mut self.slots[slot], value),
            None => Slot::Unset,
        }
    }

    /// Sets the score at `position` of the rule set's order (one of
    /// `kind`'s), in place when it held one; returns the score it held.
    pub(crate) fn replace_score(
        &mut self,
        rules: &RuleSet,
        kind: SubjectKind,
        position: usize,
        score: ScoreValue,
    ) -> Option<ScoreValue> {
        self.adopt(rules.value_layout(), kind);
        let slot = self
            .slots
            .get_mut(rules.value_layout().slot_of(kind, position)?)?;
        match slot {
            Slot::Score(held) => Some(std::mem::replace(&mut **held, score)),
            other => {
                *other = Slot::Score(Box::new(score));
                None
            }
        }
    }

    /// Sets the value of the definition `def` named `name`; false (and
    /// nothing set) when `rules` has no such definition for `kind`.
    pub(crate) fn set_named(
        &mut self,
        rules: &RuleSet,
        kind: SubjectKind,
        def: DefKind,
        name: &str,
        value: Slot,
    ) -> bool {
        let Some(slot) = rules.value_layout().slot_named(kind, def, name) else {
            return false;
        };
        self.adopt(rules.value_layout(), kind);
        self.slots[slot] = value;
        true
    }

    /// Forgets the value of the definition `def` named `name`.
    pub(crate) fn unset_named(&mut self, def: DefKind, name: &str) {
        let Some(layout) = &self.layout else {
            return;
        };
        if let Some(slot) = layout.slot_named(self.kind, def, name) {
            self.slots[slot] = Slot::Unset;
        }
    }

    /// The value of the definition at `position` of `rules`' order.
    pub(crate) fn at(&self, rules: &RuleSet, position: usize) -> &Slot {
        const UNSET: &Slot = &Slot::Unset;
        let Some(layout) = &self.layout else {
            return UNSET;
        };
        let slot = match std::ptr::eq(*layout, rules.value_layout()) {
            true => layout.slot_of(self.kind, position),
            // Laid out for other definitions: found by name.
            false => rules
                .order()
                .get(position)
                .and_then(|def| layout.slot_named(self.kind, def.kind, &def.name)),
        };
        slot.and_then(|slot| self.slots.get(slot)).unwrap_or(UNSET)
    }

    /// Keeps only the definitions `keep` names, laid out for `rules`
    /// (values carried over from another rule set move to their new slots).
    pub(crate) fn retain_for(
        &mut self,
        rules: &RuleSet,
        keep: impl Fn(DefKind, &Arc<str>) -> bool,
    ) {
        let Some(layout) = self.layout else {
            return;
        };
        for (slot, value) in self.slots.iter_mut().enumerate() {
            if let Some((def, name)) = layout.def_at(self.kind, slot) {
                if !keep(def, name) {
                    *value = Slot::Unset;
                }
            }
        }
        self.adopt(rules.value_layout(), self.kind);
    }

    /// Lays the slots out by `layout` for a subject of `kind`, moving any
    /// value of another layout to its definition's new slot by name.
    fn adopt(&mut self, layout: &'static ValueLayout, kind: SubjectKind) {
        if self
            .layout
            .as_ref()
            .is_some_and(|own| std::ptr::eq(*own, layout) && self.kind == kind)
        {
            return;
        }
        let mut slots = vec![Slot::Unset; layout.slots(kind)];
        for (def, name, value) in self.set() {
            if let Some(slot) = layout.slot_named(kind, def, name) {
                slots[slot] = value.clone();
            }
        }
        self.layout = Some(layout);
        self.kind = kind;
        self.slots = slots;
    }

    fn same_layout(&self, other: &Values) -> bool {
        match (&self.layout, &other.layout) {
            (Some(a), Some(b)) => std::ptr::eq(*a, *b) && self.kind == other.kind,
            (None, None) => true,
            _ => false,
        }
    }

    fn named(&self, def: DefKind, name: &str) -> Option<&Slot> {
        let slot = self.layout?.slot_named(self.kind, def, name)?;
        self.slots.get(slot)
    }

    /// The set slots with their definitions.
    fn set(&self) -> impl Iterator<Item = (DefKind, &Arc<str>, &Slot)> {
        let layout = self.layout;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, value)| **value != Slot::Unset)
            .filter_map(move |(slot, value)| {
                let (def, name) = layout?.def_at(self.kind, slot)?;
                Some((def, name, value))
            })
    }
}

/// Equal when they hold the same values by name (whatever their layout),
/// the same next change, watches and own instants.
impl PartialEq for Values {
    fn eq(&self, other: &Values) -> bool {
        let same_values = match self.same_layout(other) {
            true => self.slots == other.slots,
            false => {
                let by_name = |v: &Values| -> BTreeMap<(DefKind, Arc<str>), Slot> {
                    v.set()
                        .map(|(def, name, value)| ((def, name.clone()), value.clone()))
                        .collect()
                };
                by_name(self) == by_name(other)
            }
        };
        same_values
            && self.next_change == other.next_change
            && self.above == other.above
            && self.own == other.own
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(extra: &str) -> RuleSet {
        let text = format!(
            r#"
[[segment]]
name = "active"
subject = "contact"
when = 'exists("Login")'
[[score]]
name = "intent"
subject = "contact"
rules = [ {{ on = '"Login"', points = 1 }} ]
[[tier]]
name = "stage"
subject = "contact"
levels = [ {{ name = "hot", when = 'score("intent") >= 1' }} ]
{extra}"#
        );
        RuleSet::from_toml("t.toml", &text).expect("valid")
    }

    fn position(rules: &RuleSet, name: &str) -> usize {
        rules
            .order()
            .iter()
            .position(|d| &*d.name == name)
            .expect("defined")
    }

    fn filled(rules: &RuleSet) -> Values {
        let mut values = Values::default();
        let contact = SubjectKind::Contact;
        for (name, slot) in [
            ("active", Slot::Segment(true)),
            ("intent", Slot::Score(Box::new(ScoreValue::fixed(3.0)))),
            ("stage", Slot::Tier("hot".into())),
        ] {
            values.replace(rules, contact, position(rules, name), slot);
        }
        values
    }

    #[test]
    fn values_are_read_by_name_and_walked_in_definition_order() {
        let rules = rules("");
        let values = filled(&rules);
        assert_eq!(values.in_segment("active"), Some(true));
        assert_eq!(values.score("intent").map(|s| s.constant), Some(3.0));
        assert_eq!(values.tier("stage").map(|l| &**l), Some("hot"));
        assert_eq!(values.in_segment("intent"), None, "a score is no segment");
        assert_eq!(values.score("nothing"), None);
        let segments: Vec<_> = values.segments().map(|(n, m)| (n.to_string(), m)).collect();
        assert_eq!(segments, vec![("active".to_owned(), true)]);
        assert_eq!(values.scores().count(), 1);
        assert_eq!(values.tiers().count(), 1);
        assert_eq!(Values::default().segments().count(), 0);
    }

    #[test]
    fn a_score_is_replaced_in_place_and_the_held_one_returned() {
        let rules = rules("");
        let contact = SubjectKind::Contact;
        let intent = position(&rules, "intent");
        let mut values = Values::default();
        assert_eq!(
            values.replace_score(&rules, contact, intent, ScoreValue::fixed(1.0)),
            None
        );
        let held = values.replace_score(&rules, contact, intent, ScoreValue::fixed(2.0));
        assert_eq!(held, Some(ScoreValue::fixed(1.0)));
        assert_eq!(values.score("intent"), Some(ScoreValue::fixed(2.0)));
        assert_eq!(values.scores().count(), 1);
    }

    #[test]
    fn values_carried_to_new_definitions_keep_their_names_and_drop_the_rest() {
        let old = rules("");
        let new = rules(
            r#"
[[segment]]
name = "aaa_first"
subject = "contact"
when = 'exists("Signup")'
"#,
        );
        let mut values = filled(&old);
        let before = values.clone();
        values.retain_for(&new, |kind, name| {
            kind != DefKind::Tier && &**name != "nothing"
        });
        assert_eq!(values.in_segment("active"), Some(true));
        assert_eq!(values.score("intent").map(|s| s.constant), Some(3.0));
        assert_eq!(values.tier("stage"), None, "dropped");
        assert_eq!(values.in_segment("aaa_first"), None, "not computed yet");
        assert_ne!(values, before, "the tier is gone");
        let names = |values: &Values, before: &Values| -> Vec<(DefKind, String)> {
            let differences = values.differences(before);
            differences
                .iter()
                .map(|(kind, name, _, _)| (*kind, name.to_string()))
                .collect()
        };
        assert_eq!(
            names(&values, &before),
            [(DefKind::Tier, "stage".to_owned())]
        );
        let contact = SubjectKind::Contact;
        values.replace(
            &new,
            contact,
            position(&new, "aaa_first"),
            Slot::Segment(false),
        );
        assert_eq!(
            names(&values, &before),
            [
                (DefKind::Segment, "aaa_first".to_owned()),
                (DefKind::Tier, "stage".to_owned())
            ]
        );
        let same_layout = values.clone();
        values.replace(
            &new,
            contact,
            position(&new, "active"),
            Slot::Segment(false),
        );
        assert_eq!(
            names(&values, &same_layout),
            [(DefKind::Segment, "active".to_owned())],
            "slot by slot"
        );
    }
}
