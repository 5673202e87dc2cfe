//! Which aggregates of a rule set are kept incrementally, per subject kind.
//!
//! An aggregate qualifies when its selector's `where` reads only the event
//! (never traits, scores or the time) and its window is all history,
//! `last D` or `between A and B ago`: its state then depends only on the
//! events up to the instant, so feeding events in time order and letting the
//! window's edges pass is exact. Everything else (sequences, `within D of
//! first(…)`, `each(last N …)`) is evaluated by the scan, which reads only
//! the events its window bounds.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ir::{AggOp, Field, Node, NodeKind, PropPath, Sel, Win};
use crate::score::{Cap, CompiledScore, RuleKind};
use crate::subject::SubjectKind;

static PLANS: AtomicU64 = AtomicU64::new(1);

/// What a slot measures.
#[derive(Clone, Debug)]
pub(crate) enum Measure {
    Count,
    Exists,
    Agg(AggOp, PropPath),
    /// `first(…)` (true) or `last(…)` (false), with the field read.
    Pick(bool, Field),
    DaysSince,
    ActiveDays,
}

/// The window of a slot: all history, or `(now − from, now − to]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Span {
    All,
    Slide { from: i64, to: i64 },
}

#[derive(Clone, Debug)]
pub(crate) struct SlotSpec {
    pub(crate) measure: Measure,
    pub(crate) sel: Sel,
    pub(crate) span: Span,
}

/// An event rule of a score: `on`, points, cap.
#[derive(Clone, Debug)]
pub(crate) struct EventRuleSpec {
    pub(crate) sel: Sel,
    pub(crate) points: f64,
    pub(crate) cap: Option<Cap>,
}

/// A score whose event rules are all kept incrementally; `rules` is aligned
/// with the score's rules (`None` for `while` and roll-up rules).
#[derive(Clone, Debug)]
pub(crate) struct ScoreSpec {
    pub(crate) half_life: Option<i64>,
    pub(crate) rules: Vec<Option<EventRuleSpec>>,
    /// Where its event rules' points start in a tracker's
    /// ([`KindPlan::event_rules`] order).
    pub(crate) first: usize,
}

impl ScoreSpec {
    /// Its event rules' place among them, by the score's rule index.
    pub(crate) fn event_rule_place(&self, rule: usize) -> Option<usize> {
        self.rules.get(rule)?.as_ref()?;
        let before = self.rules[..rule].iter().flatten().count();
        Some(self.first + before)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct KindPlan {
    pub(crate) slots: Vec<SlotSpec>,
    pub(crate) scores: Vec<ScoreSpec>,
}

impl KindPlan {
    /// Every tracked score's event rules, score after score: a tracker
    /// keeps their points in one vector in this order.
    pub(crate) fn event_rules(&self) -> impl Iterator<Item = (&ScoreSpec, &EventRuleSpec)> {
        self.scores
            .iter()
            .flat_map(|score| score.rules.iter().flatten().map(move |rule| (score, rule)))
    }
}

/// Every tracked aggregate of a rule set; `id` tells trackers built for
/// another rule set apart.
#[derive(Clone, Debug)]
pub struct TrackPlan {
    pub(crate) id: u64,
    pub(crate) contact: KindPlan,
    pub(crate) account: KindPlan,
}

impl Default for TrackPlan {
    fn default() -> Self {
        TrackPlan {
            id: PLANS.fetch_add(1, Ordering::Relaxed),
            contact: KindPlan::default(),
            account: KindPlan::default(),
        }
    }
}

impl TrackPlan {
    /// Names this plan: state kept for one plan is meaningless under another.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn kind(&self, kind: SubjectKind) -> &KindPlan {
        match kind {
            SubjectKind::Contact => &self.contact,
            SubjectKind::Account => &self.account,
        }
    }

    fn kind_mut(&mut self, kind: SubjectKind) -> &mut KindPlan {
        match kind {
            SubjectKind::Contact => &mut self.contact,
            SubjectKind::Account => &mut self.account,
        }
    }

    /// Gives every qualifying aggregate under `node` (evaluated for a
    /// subject of `kind`) a slot.
    pub(crate) fn assign(&mut self, node: &mut Node, kind: SubjectKind) {
        if let Some(spec) = slot_spec(node) {
            node.slot = self.push_slot(kind, spec);
            return;
        }
        match &mut node.kind {
            NodeKind::Count(_, win)
            | NodeKind::Exists(_, win)
            | NodeKind::Agg(_, _, _, win)
            | NodeKind::Pick { win, .. }
            | NodeKind::Sequence { win, .. } => self.assign_anchor(win, kind),
            NodeKind::Not(inner) | NodeKind::Neg(inner) => self.assign(inner, kind),
            NodeKind::And(items) | NodeKind::Or(items) => {
                items.iter_mut().for_each(|item| self.assign(item, kind))
            }
            NodeKind::Cmp(_, a, b)
            | NodeKind::Arith(_, a, b)
            | NodeKind::Contains(a, b)
            | NodeKind::StartsWith(a, b) => {
                self.assign(a, kind);
                self.assign(b, kind);
            }
            NodeKind::In { item, list, .. } => {
                self.assign(item, kind);
                self.assign(list, kind);
            }
            NodeKind::Between(a, b, c) => {
                self.assign(a, kind);
                self.assign(b, kind);
                self.assign(c, kind);
            }
            NodeKind::Matches(a, _) => self.assign(a, kind),
            NodeKind::CountContacts(inner) => self.assign(inner, SubjectKind::Contact),
            _ => {}
        }
    }

    fn push_slot(&mut self, kind: SubjectKind, spec: SlotSpec) -> Option<u32> {
        let slots = &mut self.kind_mut(kind).slots;
        let slot = u32::try_from(slots.len()).ok();
        slots.push(spec);
        slot
    }

    /// `within D of first(S)`: the time of the first S is kept, so the
    /// window is found without scanning from the first event.
    fn assign_anchor(&mut self, win: &mut Win, kind: SubjectKind) {
        let Win::WithinOf { anchor, first, .. } = win else {
            return;
        };
        if is_static_sel(anchor) {
            let spec = SlotSpec {
                measure: Measure::Pick(true, Field::Time),
                sel: (**anchor).clone(),
                span: Span::All,
            };
            *first = self.push_slot(kind, spec);
        }
    }

    /// Plans a score: its `while` conditions' aggregates, and its event rules
    /// when every one of them can be kept incrementally.
    pub(crate) fn assign_score(&mut self, score: &mut CompiledScore) {
        let kind = score.subject;
        for rule in &mut score.rules {
            if let RuleKind::While { condition, .. } = &mut rule.kind {
                self.assign(condition, kind);
            }
        }
        let rules: Option<Vec<Option<EventRuleSpec>>> = score
            .rules
            .iter()
            .map(|rule| match &rule.kind {
                RuleKind::Event { sel, points, cap } => is_static_sel(sel).then(|| {
                    Some(EventRuleSpec {
                        sel: sel.clone(),
                        points: *points,
                        cap: cap.clone(),
                    })
                }),
                _ => Some(None),
            })
            .collect();
        if let Some(rules) = rules {
            let plan = self.kind_mut(kind);
            let first = plan.event_rules().count();
            score.track = Some(plan.scores.len());
            plan.scores.push(ScoreSpec {
                half_life: score.half_life,
                rules,
                first,
            });
        }
    }
}

fn slot_spec(node: &Node) -> Option<SlotSpec> {
    let any = || Sel {
        base: crate::ir::SelBase::Any,
        filter: None,
    };
    let (measure, sel, win) = match &node.kind {
        NodeKind::Count(sel, win) => (Measure::Count, sel.clone(), win),
        NodeKind::Exists(sel, win) => (Measure::Exists, sel.clone(), win),
        NodeKind::Agg(op, sel, path, win) => (Measure::Agg(*op, path.clone()), sel.clone(), win),
        NodeKind::Pick {
            first,
            sel,
            win,
            field,
        } => (Measure::Pick(*first, field.clone()), sel.clone(), win),
        NodeKind::DaysSince(sel) => (Measure::DaysSince, sel.clone(), &Win::All),
        NodeKind::ActiveDays(win) => (Measure::ActiveDays, any(), win),
        _ => return None,
    };
    let span = match win {
        Win::All => Span::All,
        Win::Last(length) => Span::Slide {
            from: *length,
            to: 0,
        },
        Win::Ago { from, to } => Span::Slide {
            from: *from,
            to: *to,
        },
        Win::WithinOf { .. } => return None,
    };
    is_static_sel(&sel).then_some(SlotSpec { measure, sel, span })
}

/// A selector whose `where` reads only the event's own properties.
fn is_static_sel(sel: &Sel) -> bool {
    sel.filter.as_deref().is_none_or(reads_event_only)
}

fn reads_event_only(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Lit(_) | NodeKind::Prop(_) => true,
        NodeKind::Not(inner) | NodeKind::Neg(inner) | NodeKind::Matches(inner, _) => {
            reads_event_only(inner)
        }
        NodeKind::And(items) | NodeKind::Or(items) => items.iter().all(reads_event_only),
        NodeKind::Cmp(_, a, b)
        | NodeKind::Arith(_, a, b)
        | NodeKind::Contains(a, b)
        | NodeKind::StartsWith(a, b) => reads_event_only(a) && reads_event_only(b),
        NodeKind::In { item, list, .. } => reads_event_only(item) && reads_event_only(list),
        NodeKind::Between(a, b, c) => {
            reads_event_only(a) && reads_event_only(b) && reads_event_only(c)
        }
        _ => false,
    }
}
