//! What the evaluator reads about a subject: its timeline, traits, the values
//! of the definitions it depends on, and (for an account) its contacts.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::events::Events;
use crate::timeline::Timeline;
use crate::track::Tracker;
use crate::traits::Traits;

/// Contacts (people) or accounts (companies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// A person.
    #[default]
    Contact,
    /// A company; its events are all its contacts' events.
    Account,
}

impl SubjectKind {
    /// `contact` or `account`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Contact => "contact",
            SubjectKind::Account => "account",
        }
    }

    /// The kind named by [`SubjectKind::as_str`]'s text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "contact" => Some(SubjectKind::Contact),
            "account" => Some(SubjectKind::Account),
            _ => None,
        }
    }
}

/// A score in closed form, exact until `next_change`:
/// `value(t) = constant + decaying · 2^(−(t − anchor) / half_life)`.
///
/// The score evaluator produces it; the engine hands it back when another
/// rule references the score, so a threshold on a decaying score has an exact
/// crossing instant. `anchor` depends only on the events, never on the
/// evaluation instant, so a value re-evaluated later is bit-identical.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreValue {
    /// The part that does not decay (state and fit points, undecayed scores).
    pub constant: f64,
    /// The decaying part, measured at `anchor`.
    pub decaying: f64,
    /// The instant `decaying` is measured at.
    pub anchor: i64,
    /// The half-life in ms; `None` means no decay.
    pub half_life: Option<i64>,
    /// The form holds for instants before this one (a `while` rule may flip,
    /// a window edge passes, a later stored event counts); `None` = forever.
    pub next_change: Option<i64>,
}

impl ScoreValue {
    /// A score that never changes.
    pub fn fixed(value: f64) -> Self {
        ScoreValue {
            constant: value,
            decaying: 0.0,
            anchor: 0,
            half_life: None,
            next_change: None,
        }
    }

    /// The value at `time` (valid for `time < next_change`).
    pub fn at(&self, time: i64) -> f64 {
        match self.half_life {
            Some(half_life) => {
                self.constant + self.decaying * decay_factor(time - self.anchor, half_life)
            }
            None => self.constant + self.decaying,
        }
    }

    /// Whether both describe the same value at every instant (`next_change`
    /// aside). The anchor moves with any new event, scored or not, so the
    /// decaying parts are compared at a common anchor, to a relative 1e-9:
    /// far below any real change of points.
    pub fn same_form(&self, other: &ScoreValue) -> bool {
        if self.constant != other.constant {
            return false;
        }
        if self.decaying == 0.0 && other.decaying == 0.0 {
            return true;
        }
        let (early, late) = if self.anchor <= other.anchor {
            (self, other)
        } else {
            (other, self)
        };
        let early_at_late = match (early.half_life, late.half_life) {
            (Some(a), Some(b)) if a == b => {
                early.decaying * decay_factor(late.anchor - early.anchor, a)
            }
            (None, None) => early.decaying,
            _ => return false,
        };
        let scale = early_at_late.abs().max(late.decaying.abs());
        (early_at_late - late.decaying).abs() <= 1e-9 * scale
    }
}

impl ScoreValue {
    /// The first instant after `now` at which `value >= threshold` stops or
    /// starts holding (for "score crossed 60" notifications); capped by
    /// `next_change`, after which the score must be evaluated again.
    pub fn next_crossing(&self, threshold: f64, now: i64) -> Option<i64> {
        use crate::eval::motion::{first_flip, Motion};
        let motion = Motion::of_score(self)?;
        first_flip(
            crate::ir::CmpOp::Ge,
            &motion,
            &Motion::still(threshold),
            now,
            self.next_change,
        )
    }
}

/// `2^(−elapsed / half_life)`; the one formula every decayed value uses.
pub(crate) fn decay_factor(elapsed: i64, half_life: i64) -> f64 {
    (-(elapsed as f64) / half_life as f64).exp2()
}

/// Read access to one subject, supplied by the engine.
///
/// References (`score`, `in_segment`, `tier`) answer with the values the
/// engine computed earlier in dependency order. A segment or tier reference is
/// taken as constant: when it changes, the engine re-evaluates the dependents.
pub trait SubjectView {
    /// Contact or account.
    fn kind(&self) -> SubjectKind;
    /// An id for explanations (user id, group id).
    fn id(&self) -> &str {
        ""
    }
    /// Behavior events; for an account, all its contacts' events.
    fn events(&self) -> Events<'_>;
    /// The subject's own traits.
    fn traits(&self) -> &Traits;
    /// For a contact, its account's traits (`account.x`); for an account, `None`.
    fn account_traits(&self) -> Option<&Traits>;
    /// A score of this subject, as of the evaluation instant.
    fn score(&self, name: &str) -> Option<ScoreValue>;
    /// Whether this subject is in a segment.
    fn in_segment(&self, name: &str) -> Option<bool>;
    /// The level of a tier.
    fn tier(&self, name: &str) -> Option<Arc<str>>;
    /// The first stored event or trait change after `now`, when the view
    /// remembers it (every definition of one evaluation asks; see
    /// [`crate::scan_future_changes`]); `None`: not remembered.
    fn cached_future_changes(&self, now: i64) -> Option<Option<i64>> {
        let _ = now;
        None
    }
    /// Incremental state kept by the engine; read when it is at the
    /// evaluation instant for the rule set being evaluated.
    fn tracker(&self) -> Option<&Tracker> {
        None
    }
    /// For an account: visits each member contact.
    fn for_each_contact(&self, visit: &mut dyn FnMut(&dyn SubjectView)) {
        let _ = visit;
    }
}

/// A self-contained subject, for tests, tools and simple callers.
#[derive(Clone, Debug, Default)]
pub struct MemorySubject {
    /// Id.
    pub id: String,
    /// Contact or account.
    pub kind: SubjectKind,
    /// Events.
    pub timeline: Timeline,
    /// Own traits.
    pub traits: Traits,
    /// A contact's account traits.
    pub account_traits: Option<Traits>,
    /// Score values by name.
    pub scores: HashMap<String, ScoreValue>,
    /// Segment memberships by name.
    pub segments: HashMap<String, bool>,
    /// Tier levels by name.
    pub tiers: HashMap<String, Arc<str>>,
    /// An account's contacts.
    pub contacts: Vec<MemorySubject>,
    /// Incremental state, when the caller keeps it.
    pub tracker: Option<Tracker>,
}

impl SubjectView for MemorySubject {
    fn kind(&self) -> SubjectKind {
        self.kind
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn events(&self) -> Events<'_> {
        Events::from(&self.timeline)
    }
    fn traits(&self) -> &Traits {
        &self.traits
    }
    fn account_traits(&self) -> Option<&Traits> {
        self.account_traits.as_ref()
    }
    fn score(&self, name: &str) -> Option<ScoreValue> {
        self.scores.get(name).copied()
    }
    fn in_segment(&self, name: &str) -> Option<bool> {
        self.segments.get(name).copied()
    }
    fn tier(&self, name: &str) -> Option<Arc<str>> {
        self.tiers.get(name).cloned()
    }
    fn tracker(&self) -> Option<&Tracker> {
        self.tracker.as_ref()
    }
    fn for_each_contact(&self, visit: &mut dyn FnMut(&dyn SubjectView)) {
        for contact in &self.contacts {
            visit(contact);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn decaying(decaying: f64, anchor: i64) -> ScoreValue {
        ScoreValue {
            constant: 5.0,
            decaying,
            anchor,
            half_life: Some(7 * DAY),
            next_change: None,
        }
    }

    #[test]
    fn same_form_compares_values_not_anchors() {
        // 40 points anchored a week later are the same score as 80 before.
        assert!(decaying(80.0, 0).same_form(&decaying(40.0, 7 * DAY)));
        assert!(decaying(40.0, 7 * DAY).same_form(&decaying(80.0, 0)));
        assert!(!decaying(80.0, 0).same_form(&decaying(41.0, 7 * DAY)));
        let mut other_constant = decaying(80.0, 0);
        other_constant.constant = 6.0;
        assert!(!decaying(80.0, 0).same_form(&other_constant));
        let mut no_decay = decaying(80.0, 0);
        no_decay.half_life = None;
        assert!(!decaying(80.0, 0).same_form(&no_decay));
        // Nothing decaying: anchors and half-lives do not matter.
        assert!(decaying(0.0, 0).same_form(&ScoreValue::fixed(5.0)));
    }
}
