//! What, besides time passing, can change a definition's value: which
//! events, whose traits, the account's contacts, other definitions. The
//! engine re-evaluates at a timer only the definitions that one of these
//! touched since their last evaluation, or whose own next-change instant
//! came: the rest keep their values, exactly (SPEC §6), at a fraction of
//! the cost.
//!
//! Over-approximations are fine (an event's name is enough, its `where` is
//! not looked at); missing a trigger is not.
//!
//! An account's definition that reads its contacts says what of them it
//! reads (which contact definitions, events, traits): a contact's change
//! the definition does not read leaves it as it was. A roll-up of `intent`
//! is not evaluated again because a contact logged in.

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
    /// where …)`, roll-ups): what of them it reads.
    members: Option<MemberReads>,
    /// It reads a definition of the other subject kind that `members` does
    /// not cover: evaluated every time.
    always: bool,
    /// Positions in [`RuleSet::order`] of the same-kind definitions it reads.
    deps: Vec<usize>,
    /// For a segment whose condition is an `and`/`or`: each top-level
    /// operand's own inputs (empty when the definition reads contacts or
    /// another kind's values, which operands do not tell apart).
    operands: Vec<Triggers>,
}

impl Triggers {
    /// What may change the value while top-level operand `decided` decides
    /// it (`RuleSet::evaluate_segment_deciding`): that operand's inputs. A
    /// false operand of an `and` keeps it false whatever the others do (a
    /// true one of an `or` keeps it true), so `score("fit") >= 50 and
    /// exists(any)` with a low fit is no longer evaluated at every event.
    /// Its own next change and the values it reads (`deps`) still count.
    pub fn deciding(&self, decided: Option<usize>) -> &Triggers {
        decided.and_then(|at| self.operands.get(at)).unwrap_or(self)
    }

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

    /// Whether `change` at an account's contacts may change the value;
    /// `arrived` are the events that reached the account (its contacts'
    /// events) since its last evaluation.
    pub fn by_members(&self, change: &MemberChange, arrived: &[&Event]) -> bool {
        if self.always {
            return true;
        }
        let Some(reads) = &self.members else {
            return false;
        };
        change.everything
            || reads.defs.iter().any(|def| change.defs.contains(def))
            || (reads.traits && change.traits)
            || arrived
                .iter()
                .any(|event| reads.events.iter().any(|base| base_matches(base, event)))
    }

    /// Whether it reads an account's contacts at all (to evaluate it, an
    /// account needs its members' values and views).
    pub fn reads_members(&self) -> bool {
        self.always || self.members.is_some()
    }

    /// Positions in [`RuleSet::order`] of the definitions of the same
    /// subject kind whose values it reads (evaluated before it).
    pub fn deps(&self) -> &[usize] {
        &self.deps
    }
}

/// What an account's definition reads of its contacts.
#[derive(Clone, Debug, Default, PartialEq)]
struct MemberReads {
    /// Positions in [`RuleSet::order`] of the contact definitions whose
    /// values it reads (roll-ups, `score(…)` in `count(contacts where …)`).
    defs: Vec<usize>,
    /// The bases of the selectors of its `count(contacts where …)`
    /// conditions.
    events: Vec<SelBase>,
    /// A condition reads a contact's own traits.
    traits: bool,
}

/// What changed at an account's contacts since its last evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberChange {
    /// Unknown, or the contacts themselves changed: everything that reads
    /// them is evaluated.
    pub everything: bool,
    /// Positions in [`RuleSet::order`] of the contact definitions (among
    /// [`RuleSet::read_by_accounts`]) whose value changed at some contact.
    pub defs: Vec<usize>,
    /// Some contact's traits changed.
    pub traits: bool,
}

impl MemberChange {
    /// Adds what changed at one more contact.
    pub fn merge(&mut self, other: MemberChange) {
        self.everything |= other.everything;
        self.traits |= other.traits;
        for def in other.defs {
            if !self.defs.contains(&def) {
                self.defs.push(def);
            }
        }
    }

    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.defs.is_empty() && !self.traits
    }
}

impl RuleSet {
    /// Each definition's triggers, in the order of [`RuleSet::order`].
    pub fn triggers(&self) -> &[Triggers] {
        &self.triggers
    }

    /// Positions in [`RuleSet::order`] of the contact definitions some
    /// account definition reads: the only contact values whose change an
    /// account needs to hear of.
    pub fn read_by_accounts(&self) -> &[usize] {
        &self.read_by_accounts
    }
}

/// The contact definitions account definitions read, in order, once each.
pub(crate) fn read_by_accounts(triggers: &[Triggers]) -> Vec<usize> {
    let mut read: Vec<usize> = triggers
        .iter()
        .filter_map(|t| t.members.as_ref())
        .flat_map(|reads| reads.defs.iter().copied())
        .collect();
    read.sort_unstable();
    read.dedup();
    read
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
            let mut operands = Vec::new();
            match def.kind {
                DefKind::Segment => {
                    for segment in segments.iter().filter(|s| *s.name == *def.name) {
                        found.node(&segment.node);
                        operands = operand_triggers(def.subject, &segment.node);
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
                    Some(at) if def.subject == SubjectKind::Account => {
                        triggers.members.get_or_insert_default().defs.push(at)
                    }
                    _ => triggers.always = true,
                }
            }
            // Reads of contacts and of another kind's values are known for
            // the whole definition only (`depends_on`), not per operand.
            if triggers.members.is_none() && !triggers.always {
                triggers.operands = operands;
            }
            triggers
        })
        .collect()
}

/// Each top-level operand's inputs when `node` is an `and`/`or`; none
/// otherwise. Same-kind values an operand reads are the definition's
/// `deps`.
fn operand_triggers(subject: SubjectKind, node: &Node) -> Vec<Triggers> {
    let (NodeKind::And(items) | NodeKind::Or(items)) = &node.kind else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let mut found = Walk::new(subject);
            found.node(item);
            found.triggers
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
                // The score it rolls up is among `depends_on`.
                RuleKind::Rollup { .. } => {
                    self.triggers.members.get_or_insert_default();
                }
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
            // The condition is a contact's: its events and traits are the
            // contacts', `account.x` the account's own traits; the
            // definitions it reads are among `depends_on`.
            NodeKind::CountContacts(condition) => {
                let mut contact = Walk::new(SubjectKind::Contact);
                contact.node(condition);
                let found = contact.triggers;
                self.triggers.own_traits |= found.account_traits;
                self.triggers.always |= found.always;
                let reads = self.triggers.members.get_or_insert_default();
                reads.traits |= found.own_traits;
                for base in found.events {
                    if !reads.events.contains(&base) {
                        reads.events.push(base);
                    }
                }
            }
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
        let everything = MemberChange {
            everything: true,
            ..MemberChange::default()
        };
        assert!(!demo.by_own_traits() && !demo.by_members(&everything, &[]));
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
        let everything = MemberChange {
            everything: true,
            ..MemberChange::default()
        };
        assert!(of(&rules, "team_intent").by_members(&everything, &[]));
        assert!(of(&rules, "committee").by_members(&everything, &[]));
        let lead = of(&rules, "enterprise_lead");
        assert!(lead.by_account_traits() && !lead.by_own_traits());
    }

    #[test]
    fn an_account_hears_only_of_the_contact_changes_it_reads() {
        let rules = rules(
            r#"
            [[score]]
            name = "intent"
            subject = "contact"
            rules = [{ on = '"Demo Requested"', points = 10 }]
            [[segment]]
            name = "active"
            when = 'exists("Logged In", last 7d)'
            [[score]]
            name = "team_intent"
            subject = "account"
            rules = [{ rollup = "intent", agg = "sum" }]
            [[segment]]
            name = "committee"
            subject = "account"
            when = 'count(contacts where score("intent") >= 5) >= 2'
            [[segment]]
            name = "champions"
            subject = "account"
            when = 'count(contacts where trait.role = "champion" and exists("Invite Sent")) >= 1'
            [[segment]]
            name = "enterprise_users"
            subject = "account"
            when = 'count(contacts where account.plan = "enterprise") >= 1'
            "#,
        );
        let position = |name: &str| {
            rules
                .order()
                .iter()
                .position(|d| &*d.name == name)
                .expect("defined")
        };
        assert_eq!(rules.read_by_accounts(), &[position("intent")]);
        let intent = MemberChange {
            defs: vec![position("intent")],
            ..MemberChange::default()
        };
        let traits = MemberChange {
            traits: true,
            ..MemberChange::default()
        };
        let nothing = MemberChange::default();
        assert!(nothing.is_empty() && !intent.is_empty() && !traits.is_empty());
        let mut both = intent.clone();
        both.merge(traits.clone());
        both.merge(intent.clone());
        assert_eq!(
            (both.defs.as_slice(), both.traits),
            (&intent.defs[..], true)
        );

        let team = of(&rules, "team_intent");
        assert!(team.by_members(&intent, &[]));
        assert!(!team.by_members(&traits, &[]), "traits are not rolled up");
        assert!(!team.by_members(&nothing, &[&track("Demo Requested")]));

        let committee = of(&rules, "committee");
        assert!(committee.by_members(&intent, &[]));
        assert!(!committee.by_members(&traits, &[&track("Logged In")]));

        let champions = of(&rules, "champions");
        assert!(!champions.by_members(&intent, &[]));
        assert!(champions.by_members(&traits, &[]), "a contact's trait");
        assert!(champions.by_members(&nothing, &[&track("Invite Sent")]));
        assert!(!champions.by_members(&nothing, &[&track("Logged In")]));
        assert!(!champions.by_own_traits());

        let enterprise = of(&rules, "enterprise_users");
        assert!(
            enterprise.by_own_traits(),
            "`account.x` is the account's own trait"
        );
        assert!(!enterprise.by_members(&traits, &[&track("Logged In")]));
        assert!(enterprise.by_members(
            &MemberChange {
                everything: true,
                ..MemberChange::default()
            },
            &[]
        ));
    }
}
