//! Where each definition's value sits among a subject's computed values:
//! one dense slot per definition of the subject's kind, so the engine keeps,
//! clones and compares a subject's values as a short vector instead of
//! maps by name (millions of times in a first start).

use std::sync::{Arc, Mutex, PoisonError};

use crate::{DefKind, DefRef, SubjectKind};

/// Name → position in the rule set's order, for one kind of definition.
type ByName = rustc_hash::FxHashMap<Arc<str>, usize>;

/// The slots of a rule set's definitions, made once per distinct order of
/// definitions for the life of the process ([`ValueLayout::interned`]) and
/// shared by every subject's values.
#[derive(Debug)]
pub struct ValueLayout {
    /// The rule set's order.
    defs: Vec<(DefKind, Arc<str>, SubjectKind)>,
    /// Per position in the order: the slot within its subject kind.
    slot: Vec<usize>,
    /// Per subject kind (contact, account): the order positions by slot.
    positions: [Vec<usize>; 2],
    /// Per kind of definition (score, segment, tier).
    by_name: [ByName; 3],
}

fn subject_index(kind: SubjectKind) -> usize {
    match kind {
        SubjectKind::Contact => 0,
        SubjectKind::Account => 1,
    }
}

fn kind_index(kind: DefKind) -> usize {
    match kind {
        DefKind::Score => 0,
        DefKind::Segment => 1,
        DefKind::Tier => 2,
    }
}

impl ValueLayout {
    /// The layout of `order`, one per distinct order for the life of the
    /// process (a few hundred bytes each; a new one only when definitions
    /// are added, dropped or reordered). Values refer to it by a plain
    /// reference: copying a subject's values, which the parallel walkers
    /// of a first start do millions of times, touches no counter they
    /// share, and one comparison of addresses tells values laid out alike.
    pub(crate) fn interned(order: &[DefRef]) -> &'static ValueLayout {
        static LAYOUTS: Mutex<Vec<&'static ValueLayout>> = Mutex::new(Vec::new());
        let layout = ValueLayout::new(order);
        let mut layouts = LAYOUTS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(same) = layouts.iter().find(|known| known.defs == layout.defs) {
            return same;
        }
        let made: &'static ValueLayout = Box::leak(Box::new(layout));
        layouts.push(made);
        made
    }

    fn new(order: &[DefRef]) -> ValueLayout {
        let mut layout = ValueLayout {
            defs: Vec::with_capacity(order.len()),
            slot: Vec::with_capacity(order.len()),
            positions: [Vec::new(), Vec::new()],
            by_name: Default::default(),
        };
        for (at, def) in order.iter().enumerate() {
            let of_subject = &mut layout.positions[subject_index(def.subject)];
            layout.slot.push(of_subject.len());
            of_subject.push(at);
            layout.by_name[kind_index(def.kind)].insert(def.name.clone(), at);
            layout.defs.push((def.kind, def.name.clone(), def.subject));
        }
        layout
    }

    /// How many slots a subject of `kind` has.
    pub fn slots(&self, kind: SubjectKind) -> usize {
        self.positions[subject_index(kind)].len()
    }

    /// The slot of a subject of `kind` holding the definition at `position`
    /// of the rule set's order; `None` for another kind's definition.
    pub fn slot_of(&self, kind: SubjectKind, position: usize) -> Option<usize> {
        let (_, _, subject) = self.defs.get(position)?;
        (*subject == kind).then(|| self.slot[position])
    }

    /// The slot of a subject of `kind` holding a definition named `name`.
    pub fn slot_named(&self, kind: SubjectKind, def: DefKind, name: &str) -> Option<usize> {
        let position = *self.by_name[kind_index(def)].get(name)?;
        self.slot_of(kind, position)
    }

    /// The definition a slot of a subject of `kind` holds: (kind, name).
    pub fn def_at(&self, kind: SubjectKind, slot: usize) -> Option<(DefKind, &Arc<str>)> {
        let position = *self.positions[subject_index(kind)].get(slot)?;
        let (def, name, _) = &self.defs[position];
        Some((*def, name))
    }
}

#[cfg(test)]
mod tests {
    use crate::{DefKind, RuleSet, SubjectKind};

    const DEFINITIONS: &str = r#"
[[segment]]
name = "active"
subject = "contact"
when = 'exists("Login")'
[[segment]]
name = "busy"
subject = "account"
when = 'count(contacts where in_segment("active")) >= 2'
[[score]]
name = "intent"
subject = "contact"
rules = [ { on = '"Login"', points = 1 } ]
"#;

    #[test]
    fn each_subject_kind_numbers_its_own_definitions_densely() {
        let rules = RuleSet::from_toml("t.toml", DEFINITIONS).expect("valid");
        let layout = rules.value_layout();
        assert_eq!(layout.slots(SubjectKind::Contact), 2);
        assert_eq!(layout.slots(SubjectKind::Account), 1);
        let active = layout.slot_named(SubjectKind::Contact, DefKind::Segment, "active");
        let intent = layout.slot_named(SubjectKind::Contact, DefKind::Score, "intent");
        let busy = layout.slot_named(SubjectKind::Account, DefKind::Segment, "busy");
        assert_eq!(busy, Some(0));
        let mut contact_slots = vec![active.expect("active"), intent.expect("intent")];
        contact_slots.sort_unstable();
        assert_eq!(contact_slots, vec![0, 1]);
        // Another kind's definition, or another kind of definition, has no slot.
        assert_eq!(
            layout.slot_named(SubjectKind::Account, DefKind::Segment, "active"),
            None
        );
        assert_eq!(
            layout.slot_named(SubjectKind::Contact, DefKind::Score, "active"),
            None
        );
        let (kind, name) = layout
            .def_at(SubjectKind::Account, 0)
            .expect("the account's slot");
        assert_eq!((kind, &**name), (DefKind::Segment, "busy"));
        assert_eq!(layout.def_at(SubjectKind::Account, 1), None);
        let again = RuleSet::from_toml("t.toml", DEFINITIONS).expect("valid");
        assert!(
            std::ptr::eq(again.value_layout(), layout),
            "one layout per order"
        );
    }
}
