//! How far back in time each definition reads: what `check` compares with
//! the retention (`[retention] events`), since events older than it are
//! deleted and a window reaching further silently reads less.

use crate::check::DefKind;
use crate::ir::{Node, NodeKind, Win};
use crate::ruleset::RuleSet;
use crate::score::RuleKind;

/// How far back a definition's events are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// `last D`, `between D and … ago`: D ms before the instant.
    Window(i64),
    /// An aggregate over all history (`count(x)`, `first(x)`, `within D of
    /// first(…)`, `each(last N …)`, an undecayed score's event points).
    AllHistory,
}

/// A definition's longest reach into the past, when it reads events.
#[derive(Clone, Debug, PartialEq)]
pub struct DefinitionReach {
    pub kind: DefKind,
    pub name: String,
    pub reach: Reach,
}

impl RuleSet {
    /// Every definition that reads events, with how far back it reads.
    /// `days_since(…)` is left out: it reads the newest event, and one past
    /// the retention reads as "never", which keeps `>=` conditions true.
    pub fn history_reach(&self) -> Vec<DefinitionReach> {
        let mut found = Vec::new();
        for def in self.order() {
            let mut longest = None;
            match def.kind {
                DefKind::Segment => {
                    if let Some((_, node)) = self.segment_condition(&def.name) {
                        node_reach(node, &mut longest);
                    }
                }
                DefKind::Tier => {
                    let tier = self.tier_index.get(&*def.name).map(|i| &self.tiers[*i]);
                    for level in tier.iter().flat_map(|t| &t.levels) {
                        node_reach(&level.node, &mut longest);
                    }
                }
                DefKind::Score => {
                    let score = self.score_index.get(&*def.name).map(|i| &self.scores[*i]);
                    // A decaying score's old points fade (by 2^(-age/half-life)):
                    // only an undecayed one sums all history at full weight.
                    let undecayed = score.is_some_and(|s| s.half_life.is_none());
                    for rule in score.iter().flat_map(|s| &s.rules) {
                        match &rule.kind {
                            RuleKind::Event { .. } if undecayed => {
                                note(&mut longest, Reach::AllHistory)
                            }
                            RuleKind::Event { .. } => {}
                            RuleKind::While { condition, .. } => {
                                node_reach(condition, &mut longest)
                            }
                            RuleKind::Rollup { .. } => {}
                        }
                    }
                }
            }
            if let Some(reach) = longest {
                found.push(DefinitionReach {
                    kind: def.kind,
                    name: def.name.to_string(),
                    reach,
                });
            }
        }
        found
    }
}

fn note(longest: &mut Option<Reach>, reach: Reach) {
    *longest = Some(longest.map_or(reach, |l| l.max(reach)));
}

fn win_reach(win: &Win) -> Reach {
    match win {
        Win::Last(length) => Reach::Window(*length),
        Win::Ago { from, .. } => Reach::Window(*from),
        Win::All | Win::WithinOf { .. } => Reach::AllHistory,
    }
}

fn node_reach(node: &Node, longest: &mut Option<Reach>) {
    if node.for_each_operand(&mut |operand| node_reach(operand, longest)) {
        return;
    }
    match &node.kind {
        NodeKind::Count(_, win)
        | NodeKind::Exists(_, win)
        | NodeKind::ActiveDays(win)
        | NodeKind::Agg(_, _, _, win)
        | NodeKind::Pick { win, .. }
        | NodeKind::Sequence { win, .. } => note(longest, win_reach(win)),
        NodeKind::EachFollowed(_) => note(longest, Reach::AllHistory),
        NodeKind::CountContacts(inner) => node_reach(inner, longest),
        _ => {}
    }
}
