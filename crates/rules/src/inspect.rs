//! Read-only access to compiled definitions, for other compilers of the
//! language (the SQL compiler in `bellwether-sql` walks the same checked
//! trees the evaluator runs, so both agree on every construct).

use crate::ir::{Node, Sel};
use crate::ruleset::RuleSet;
use crate::score::{Rollup, RuleKind};
use crate::subject::SubjectKind;

/// One rule of a score, as compiled.
#[derive(Clone, Copy, Debug)]
pub enum ScoreRule<'r> {
    /// `{ on = <selector>, points, cap }`: points per matching event.
    Event {
        /// The events that earn points.
        selector: &'r Sel,
        /// Points per event (before the cap and decay).
        points: f64,
        /// At most this many raw points per period.
        cap: Option<CapSpec>,
    },
    /// `{ while = <condition>, points }`: points while it holds (not decayed).
    While {
        /// The condition.
        condition: &'r Node,
        /// Points while it holds.
        points: f64,
    },
    /// `{ rollup = <contact score>, agg }`: the account's contacts' scores.
    Rollup {
        /// The contact score rolled up.
        score: &'r str,
        /// How the contacts' values combine.
        agg: RollupAgg,
    },
}

/// `cap = "10 per day"`: raw points per period, counted in timeline order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CapSpec {
    /// Raw points allowed per period.
    pub amount: f64,
    /// (length, offset) in ms: the period of instant t is
    /// `(t + offset) div length`; `None` means all history is one period.
    pub period: Option<(i64, i64)>,
}

/// How an account score combines its contacts' scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupAgg {
    /// The sum.
    Sum,
    /// The mean over the contacts.
    Avg,
    /// The sum of the N highest (`max` is top 1).
    Top(usize),
}

/// A score's compiled form.
#[derive(Clone, Debug)]
pub struct ScoreSpec<'r> {
    /// Contact or account.
    pub subject: SubjectKind,
    /// Half-life in ms; `None`: no decay.
    pub half_life: Option<i64>,
    /// Its rules, in definition order.
    pub rules: Vec<ScoreRule<'r>>,
}

/// A tier's compiled levels, first match wins.
#[derive(Clone, Debug)]
pub struct TierSpec<'r> {
    /// Contact or account.
    pub subject: SubjectKind,
    /// (level name, condition), in order.
    pub levels: Vec<(&'r str, &'r Node)>,
}

impl RuleSet {
    /// The compiled rules of score `name`.
    pub fn score_spec(&self, name: &str) -> Option<ScoreSpec<'_>> {
        let score = &self.scores[*self.score_index.get(name)?];
        let rules = score
            .rules
            .iter()
            .map(|rule| match &rule.kind {
                RuleKind::Event { sel, points, cap } => ScoreRule::Event {
                    selector: sel,
                    points: *points,
                    cap: cap.as_ref().map(|cap| CapSpec {
                        amount: cap.amount,
                        period: cap.period,
                    }),
                },
                RuleKind::While { condition, points } => ScoreRule::While {
                    condition,
                    points: *points,
                },
                RuleKind::Rollup { score, rollup } => ScoreRule::Rollup {
                    score,
                    agg: match rollup {
                        Rollup::Sum => RollupAgg::Sum,
                        Rollup::Avg => RollupAgg::Avg,
                        Rollup::Top(n) => RollupAgg::Top(*n),
                    },
                },
            })
            .collect();
        Some(ScoreSpec {
            subject: score.subject,
            half_life: score.half_life,
            rules,
        })
    }

    /// The compiled condition of segment `name` and its subject kind.
    pub fn segment_condition(&self, name: &str) -> Option<(SubjectKind, &Node)> {
        let segment = &self.segments[*self.segment_index.get(name)?];
        Some((segment.subject, &segment.node))
    }

    /// The compiled levels of tier `name`.
    pub fn tier_spec(&self, name: &str) -> Option<TierSpec<'_>> {
        let tier = &self.tiers[*self.tier_index.get(name)?];
        let levels = tier
            .levels
            .iter()
            .map(|level| (&*level.name, &level.node))
            .collect();
        Some(TierSpec {
            subject: tier.subject,
            levels,
        })
    }
}
