//! Which event properties a rule set reads: the engine keeps only those in
//! memory (the rest stays in the store).

use std::collections::BTreeSet;

use crate::ir::{EachFollowed, Field, Node, NodeKind, PropPath, Sel, Win};
use crate::score::{CompiledScore, RuleKind};

/// The first-level property keys read (`plan` for `plan.name`); page
/// fields (`path`, `url`, …) are also read from `context.page`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PropertyKeys {
    keys: BTreeSet<String>,
}

impl PropertyKeys {
    /// Whether `key` is read.
    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Every key, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Whether every key of `other` is here too.
    pub fn covers(&self, other: &PropertyKeys) -> bool {
        other.keys.is_subset(&self.keys)
    }

    /// Both sets.
    pub fn union(&self, other: &PropertyKeys) -> PropertyKeys {
        PropertyKeys {
            keys: self.keys.union(&other.keys).cloned().collect(),
        }
    }

    /// `name` included: on a page it is the page name, on a track event a
    /// property.
    pub(crate) fn path(&mut self, path: &PropPath) {
        self.keys.insert(path.first().to_owned());
    }

    pub(crate) fn node(&mut self, node: &Node) {
        if node.for_each_operand(&mut |operand| self.node(operand)) {
            return;
        }
        match &node.kind {
            NodeKind::Prop(path) => self.path(path),
            NodeKind::Count(sel, win) | NodeKind::Exists(sel, win) => {
                self.sel(sel);
                self.win(win);
            }
            NodeKind::DaysSince(sel) => self.sel(sel),
            NodeKind::ActiveDays(win) => self.win(win),
            NodeKind::Agg(_, sel, path, win) => {
                self.sel(sel);
                self.path(path);
                self.win(win);
            }
            NodeKind::Pick {
                sel, win, field, ..
            } => {
                self.sel(sel);
                self.win(win);
                if let Field::Prop(path) = field {
                    self.path(path);
                }
            }
            NodeKind::Sequence { steps, win, .. } => {
                steps.iter().for_each(|s| self.sel(s));
                self.win(win);
            }
            NodeKind::EachFollowed(each) => self.each(each),
            NodeKind::CountContacts(inner) => self.node(inner),
            _ => {}
        }
    }

    fn each(&mut self, each: &EachFollowed) {
        self.sel(&each.lead);
        self.sel(&each.follower);
        if let Some(on) = &each.on {
            self.path(on);
        }
    }

    pub(crate) fn sel(&mut self, sel: &Sel) {
        if let Some(filter) = &sel.filter {
            self.node(filter);
        }
    }

    fn win(&mut self, win: &Win) {
        if let Win::WithinOf { anchor, .. } = win {
            self.sel(anchor);
        }
    }

    pub(crate) fn score(&mut self, score: &CompiledScore) {
        for rule in &score.rules {
            match &rule.kind {
                RuleKind::Event { sel, .. } => self.sel(sel),
                RuleKind::While { condition, .. } => self.node(condition),
                RuleKind::Rollup { .. } => {}
            }
        }
    }
}
