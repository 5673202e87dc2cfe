//! What, besides time passing, can change a definition's value: which
//! events, whose traits, the account's contacts, other definitions. The
//! engine re-evaluates at a timer only the definitions that one of these
//! touched since their last evaluation, or whose own next-change instant
//! came: the rest keep their values, exactly (SPEC §6), at a fraction of
//! the cost.
//!
//! Over-approximations are fine (an event's name is enough, its `where` is
//! not looked at); missing a trigger is not.

use crate::check::DefKind;
use crate::eval::window::base_matches;
use crate::ir::{Node, NodeKind, Sel, SelBase, TraitScope, Win};
use crate::ruleset::{CompiledSegment, CompiledTier, DefRef, RuleSet};
use crate::score::{CompiledScore, RuleKind};
use crate::subject::SubjectKind;
use crate::timeline::Event;

/// The inputs of one definition that are not time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Triggers {
    /// The selectors' bases: an event none of them names cannot change it.
    events: Vec<SelBase>,
    /// It reads the subject's own traits (for an account: `trait.x` and
    /// `account.x` alike).
    own_traits: bool,
    /// A contact's definition reading its account's traits (`account.x`).
    account_traits: bool,
    /// An account's definition reading its contacts (`count(contacts
    /// where …)`, roll-ups): any change of a contact's values, events or
    /// traits may change it.
    members: bool,
    /// It reads a definition of the other subject kind that `members` does
    /// not cover: evaluated every time.
    always: bool,
    /// Positions in [`RuleSet::order`] of the same-kind definitions it reads.
    deps: Vec<usize>,
}

impl Triggers {
    /// Whether `event` arriving may change the value.
    pub fn by_event(&self, event: &Event) -> bool {
        self.always || self.events.iter().any(|base| base_matches(base, event))
    }

    /// Whether a change of the subject's own traits may change the value.
    pub fn by_own_traits(&self) -> bool {
        self.always || self.own_traits
    }

    /// Whether a change of a contact's account's traits may change the value.
    pub fn by_account_traits(&self) -> bool {
        self.always || self.account_traits
    }

    /// Whether a change at one of an account's contacts may change the value.
    pub fn by_members(&self) -> bool {
        self.always || self.members
    }

    /// Positions in [`RuleSet::order`] of the definitions of the same
    /// subject kind whose values it reads (evaluated before it).
    pub fn deps(&self) -> &[usize] {
        &self.deps
    }
}

impl RuleSet {
    /// Each definition's triggers, in the order of [`RuleSet::order`].
    pub fn triggers(&self) -> &[Triggers] {
        &self.triggers
    }
}

/// The triggers of every definition of `order`, in that order.
pub(crate) fn triggers_of(
    order: &[DefRef],
    scores: &[CompiledScore],
    segments: &[CompiledSegment],
    tiers: &[CompiledTier],
) -> Vec<Triggers> {
    let position = |kind, name: &str| {
        order
            .iter()
            .position(|d| d.kind == kind && &*d.name == name)
    };
    order
        .iter()
        .map(|def| {
            let mut found = Walk::new(def.subject);
            match def.kind {
                DefKind::Segment => {
                    for segment in segments.iter().filter(|s| *s.name == *def.name) {
                        found.node(&segment.node);
                    }
                }
                DefKind::Tier => {
                    for tier in tiers.iter().filter(|t| *t.name == *def.name) {
                        tier.levels.iter().for_each(|level| found.node(&level.node));
                    }
                }
                DefKind::Score => {
                    for score in scores.iter().filter(|s| *s.name == *def.name) {
                        found.score(score);
                    }
                }
            }
            let mut triggers = found.triggers;
            for (kind, name) in &def.depends_on {
                match position(*kind, name) {
                    Some(at) if order[at].subject == def.subject => triggers.deps.push(at),
                    Some(_) if def.subject == SubjectKind::Account => triggers.members = true,
                    _ => triggers.always = true,
                }
            }
            triggers
        })
        .collect()
}

struct Walk {
    subject: SubjectKind,
    triggers: Triggers,
}

impl Walk {
    fn new(subject: SubjectKind) -> Self {
        Walk {
            subject,
            triggers: Triggers::default(),
        }
    }

    fn score(&mut self, score: &CompiledScore) {
        for rule in &score.rules {
            match &rule.kind {
                RuleKind::Event { sel, .. } => self.sel(sel),
                RuleKind::While { condition, .. } => self.node(condition),
                RuleKind::Rollup { .. } => self.triggers.members = true,
            }
        }
    }

    fn sel(&mut self, sel: &Sel) {
        // A definition names a handful of bases: a list is enough.
        if !self.triggers.events.contains(&sel.base) {
            self.triggers.events.push(sel.base.clone());
        }
    }

    fn traits(&mut self, scope: TraitScope) {
        match (scope, self.subject) {
            (TraitScope::Account, SubjectKind::Contact) => self.triggers.account_traits = true,
            _ => self.triggers.own_traits = true,
        }
    }

    fn win(&mut self, win: &Win) {
        if let Win::WithinOf { anchor, .. } = win {
            self.sel(anchor);
        }
    }

    fn node(&mut self, node: &Node) {
        if node.for_each_operand(&mut |operand| self.node(operand)) {
            return;
        }
        match &node.kind {
            NodeKind::Trait { scope, .. }
            | NodeKind::Past { scope, .. }
            | NodeKind::TraitDays { scope, .. } => self.traits(*scope),
            NodeKind::Count(sel, win)
            | NodeKind::Exists(sel, win)
            | NodeKind::Agg(_, sel, _, win)
            | NodeKind::Pick { sel, win, .. } => {
                self.sel(sel);
                self.win(win);
            }
            NodeKind::DaysSince(sel) => self.sel(sel),
            NodeKind::ActiveDays(win) => {
                self.sel(&Sel {
                    base: SelBase::Any,
                    filter: None,
                });
                self.win(win);
            }
            NodeKind::Sequence { steps, win, .. } => {
                steps.iter().for_each(|s| self.sel(s));
                self.win(win);
            }
            NodeKind::EachFollowed(each) => {
                self.sel(&each.lead);
                self.sel(&each.follower);
            }
            // Its contacts' events, traits and values: any change at one.
            NodeKind::CountContacts(_) => self.triggers.members = true,
            // References (`score`, `in_segment`, `tier`) come from
            // `depends_on`; the rest are constants and time.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::EventKind;

    fn rules(toml: &str) -> RuleSet {
        RuleSet::from_toml("t.toml", toml).expect("valid definitions")
    }

    fn of<'r>(rules: &'r RuleSet, name: &str) -> &'r Triggers {
        let at = rules
            .order()
            .iter()
            .position(|d| &*d.name == name)
            .expect("defined");
        &rules.triggers()[at]
    }

    fn track(name: &str) -> Event {
        Event::new(0, 0, EventKind::Track, name, serde_json::json!({}))
    }

    #[test]
    fn only_the_named_events_trigger_a_segment() {
        let rules = rules(
            r#"
            [[segment]]
            name = "demo"
            when = 'exists("Demo Requested" where plan = "pro", within 2d of first("Signed Up"))'
            [[segment]]
            name = "active"
            when = 'active_days(last 7d) >= 2'
            "#,
        );
        let demo = of(&rules, "demo");
        assert!(demo.by_event(&track("Demo Requested")));
        assert!(demo.by_event(&track("Signed Up")), "the window's anchor");
        assert!(!demo.by_event(&track("Logged In")));
        assert!(!demo.by_own_traits() && !demo.by_members());
        assert!(
            of(&rules, "active").by_event(&track("Logged In")),
            "any event"
        );
    }

    #[test]
    fn traits_members_and_references_are_triggers() {
        let rules = rules(
            r#"
            [[score]]
            name = "intent"
            subject = "contact"
            rules = [{ on = '"Demo Requested"', points = 10 }]
            [[score]]
            name = "team_intent"
            subject = "account"
            rules = [{ rollup = "intent", agg = "sum" }]
            [[segment]]
            name = "big"
            subject = "account"
            when = 'trait.seats >= 10 and score("team_intent") > 5'
            [[segment]]
            name = "committee"
            subject = "account"
            when = 'count(contacts where score("intent") >= 5) >= 2'
            [[segment]]
            name = "enterprise_lead"
            when = 'account.plan = "enterprise"'
            "#,
        );
        let big = of(&rules, "big");
        assert!(big.by_own_traits());
        assert!(!big.by_event(&track("Demo Requested")));
        let team = rules
            .order()
            .iter()
            .position(|d| &*d.name == "team_intent")
            .expect("defined");
        assert_eq!(big.deps(), &[team]);
        assert!(of(&rules, "team_intent").by_members());
        assert!(of(&rules, "committee").by_members());
        let lead = of(&rules, "enterprise_lead");
        assert!(lead.by_account_traits() && !lead.by_own_traits());
    }
}
