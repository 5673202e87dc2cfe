//! Score math: event points with half-life decay and caps, state points
//! (`while`), fit points (`while` over traits), and account roll-ups.
//!
//! All decaying contributions of one score share its half-life, so the score
//! is one closed form (`ScoreValue`): exact at every instant, and a threshold
//! crossing is solved, not polled.

mod rollup;

use std::sync::Arc;

use crate::eval::{earliest, evaluate, future_changes, ready_tracker, Eval, NoTrace};
use crate::ir::{Node, Sel, Win};
use crate::subject::{decay_factor, ScoreValue, SubjectKind, SubjectView};
use crate::time::{DAY, WEEK};
use crate::timeline::Event;
use crate::track::plan::EventRuleSpec;
use crate::track::{RulePoints, ScorePoints, TrackPlan};
use crate::value::format_number;

pub(crate) use rollup::Rollup;

static ALL_TIME: Win = Win::All;

/// `cap = "10 per day"`: at most `amount` raw points per period.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cap {
    pub(crate) amount: f64,
    /// `None`: over all history.
    pub(crate) period: Option<(i64, i64)>,
}

impl Cap {
    /// Parses `"N"`, `"N per day"`, `"N per week"` (Monday-based UTC weeks),
    /// `"N per <duration>"` (periods counted from the epoch).
    pub(crate) fn parse(text: &str) -> Option<Cap> {
        let mut parts = text.split_whitespace();
        let amount: f64 = parts
            .next()?
            .parse()
            .ok()
            .filter(|a: &f64| *a > 0.0 && a.is_finite())?;
        let period = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => None,
            (Some("per"), Some("day"), None) => Some((DAY, 0)),
            (Some("per"), Some("week"), None) => Some((WEEK, 3 * DAY)),
            (Some("per"), Some(length), None) => {
                Some((crate::time::parse_duration(length).filter(|l| *l > 0)?, 0))
            }
            _ => return None,
        };
        Some(Cap { amount, period })
    }

    pub(crate) fn bucket(&self, time: i64) -> i64 {
        self.period.map_or(0, |(length, offset)| {
            time.saturating_add(offset).div_euclid(length)
        })
    }
    /// The first and last instant of a bucket; `None` without a period (one
    /// bucket, all history).
    pub(crate) fn span(&self, bucket: i64) -> Option<(i64, i64)> {
        let (length, offset) = self.period?;
        let start = bucket.saturating_mul(length).saturating_sub(offset);
        Some((start, start.saturating_add(length - 1)))
    }
}

#[derive(Clone, Debug)]
pub(crate) enum RuleKind {
    Event {
        sel: Sel,
        points: f64,
        cap: Option<Cap>,
    },
    While {
        condition: Node,
        points: f64,
    },
    Rollup {
        score: Arc<str>,
        rollup: Rollup,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    /// The rule as written (`on` / `while` text), for explanations.
    pub(crate) label: String,
    pub(crate) kind: RuleKind,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledScore {
    pub(crate) name: String,
    pub(crate) subject: SubjectKind,
    pub(crate) half_life: Option<i64>,
    pub(crate) rules: Vec<CompiledRule>,
    /// Its index among the tracked scores of the rule set's plan, when every
    /// event rule is kept incrementally.
    pub(crate) track: Option<usize>,
}

/// How one rule contributed to a score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleContribution {
    /// The rule as written.
    pub rule: String,
    /// `event`, `while` or `rollup`.
    pub kind: &'static str,
    /// Points per event / while holding.
    pub points: f64,
    /// Events (event rules) or contacts (roll-ups) that counted.
    pub matched: usize,
    /// Undecayed points after caps.
    pub raw: f64,
    /// What the rule adds to the score at the instant.
    pub value: f64,
    /// For `while` rules: whether the condition holds.
    pub holds: Option<bool>,
}

/// A score's value with one entry per rule.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScoreExplanation {
    /// Score name.
    pub score: String,
    /// The value at the instant.
    pub value: f64,
    /// The closed form.
    pub form: ScoreValue,
    /// Per rule.
    pub rules: Vec<RuleContribution>,
}

impl ScoreExplanation {
    /// One line for the score, one per rule, for terminals and logs.
    pub fn render(&self) -> String {
        let decay = match self.form.half_life {
            Some(h) => format!("half-life {}", crate::time::format_duration(h)),
            None => "no decay".to_owned(),
        };
        let mut out = format!("{} = {} ({decay})\n", self.score, format_number(self.value));
        for rule in &self.rules {
            let mark = match rule.holds {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "•",
            };
            let detail = match rule.kind {
                "event" => format!(
                    " ({} events, {} raw points)",
                    rule.matched,
                    format_number(rule.raw)
                ),
                "rollup" => format!(" ({} contacts)", rule.matched),
                _ => format!(" ({} points while it holds)", format_number(rule.points)),
            };
            out.push_str(&format!(
                "  {mark} {:>8}  {}{detail}\n",
                format_number(rule.value),
                rule.rule
            ));
        }
        out
    }
}

/// Where a score is being evaluated.
struct Instant<'s> {
    subject: &'s dyn SubjectView,
    now: i64,
    anchor: i64,
    plan: Option<&'s TrackPlan>,
    /// The event rules' points from the subject's tracker, when ready.
    tracked: Option<ScorePoints<'s>>,
}

fn empty() -> RuleContribution {
    RuleContribution {
        rule: String::new(),
        kind: "event",
        points: 0.0,
        matched: 0,
        raw: 0.0,
        value: 0.0,
        holds: None,
    }
}

struct Totals {
    constant: f64,
    decaying: f64,
    next: Option<i64>,
}

impl CompiledScore {
    /// The score of `subject` at `now`, in closed form.
    pub(crate) fn evaluate(
        &self,
        subject: &dyn SubjectView,
        now: i64,
        plan: Option<&TrackPlan>,
        explain: bool,
    ) -> (ScoreValue, Vec<RuleContribution>) {
        let anchor = subject.events().latest_at_or_before(now).unwrap_or(now);
        let tracked = match (self.track, ready_tracker(subject, plan, now)) {
            (Some(index), Some(tracker)) => plan.and_then(|plan| tracker.score_points(plan, index)),
            _ => None,
        };
        let mut totals = Totals {
            constant: 0.0,
            decaying: 0.0,
            next: future_changes(subject, now),
        };
        let mut rules = Vec::new();
        let at = Instant {
            subject,
            now,
            anchor,
            plan,
            tracked,
        };
        for (index, rule) in self.rules.iter().enumerate() {
            let contribution = self.apply(index, rule, &at, &mut totals);
            if explain {
                rules.push(RuleContribution {
                    rule: rule.label.clone(),
                    ..contribution
                });
            }
        }
        let value = ScoreValue {
            constant: totals.constant,
            decaying: totals.decaying,
            anchor,
            half_life: self.half_life,
            next_change: totals.next,
        };
        (value, rules)
    }

    /// What one rule adds at `now`, added into `totals`.
    fn apply(
        &self,
        index: usize,
        rule: &CompiledRule,
        at: &Instant<'_>,
        totals: &mut Totals,
    ) -> RuleContribution {
        let (subject, now, anchor) = (at.subject, at.now, at.anchor);
        match &rule.kind {
            RuleKind::Event { sel, points, cap } => {
                let tracked = at.tracked.and_then(|t| t.rule(index));
                self.apply_event(sel, *points, cap.as_ref(), at, tracked, totals)
            }
            RuleKind::While { condition, points } => {
                let out = evaluate(condition, subject, now, at.plan, &mut NoTrace);
                let holds = out.val.is_true();
                totals.next = earliest(totals.next, out.next);
                let earned = if holds { *points } else { 0.0 };
                totals.constant += earned;
                RuleContribution {
                    kind: "while",
                    points: *points,
                    holds: Some(holds),
                    raw: earned,
                    value: earned,
                    ..empty()
                }
            }
            RuleKind::Rollup { score, rollup } => {
                let part = rollup.combine(score, subject, now, anchor, self.half_life);
                totals.constant += part.constant;
                totals.decaying += part.decaying;
                totals.next = earliest(totals.next, part.next);
                let decayed = self.half_life.map_or(part.decaying, |h| {
                    part.decaying * decay_factor(now - anchor, h)
                });
                let value = part.constant + decayed;
                RuleContribution {
                    kind: "rollup",
                    matched: part.contacts,
                    raw: value,
                    value,
                    ..empty()
                }
            }
        }
    }

    fn apply_event(
        &self,
        sel: &Sel,
        points: f64,
        cap: Option<&Cap>,
        at: &Instant<'_>,
        tracked: Option<&RulePoints>,
        totals: &mut Totals,
    ) -> RuleContribution {
        let (raw, decayed, matched) = match tracked {
            Some(tracked) => self.read_points(tracked, at.anchor),
            None => self.event_points(sel, points, cap, at.subject, at.now, at.anchor),
        };
        let value = match self.half_life {
            Some(half_life) => {
                totals.decaying += decayed;
                decayed * decay_factor(at.now - at.anchor, half_life)
            }
            None => {
                totals.constant += raw;
                raw
            }
        };
        RuleContribution {
            kind: "event",
            points,
            matched,
            raw,
            value,
            ..empty()
        }
    }

    /// (raw points, points decayed to `anchor`, events counted) from a tracker.
    fn read_points(&self, tracked: &RulePoints, anchor: i64) -> (f64, f64, usize) {
        let decayed = self
            .half_life
            .map_or(0.0, |h| tracked.decayed.at(anchor, h));
        (tracked.raw.value(), decayed, tracked.matched)
    }

    /// (raw points, points decayed to `anchor`, events counted), by a scan
    /// that earns exactly what [`RulePoints`] earns.
    fn event_points(
        &self,
        sel: &Sel,
        points: f64,
        cap: Option<&Cap>,
        subject: &dyn SubjectView,
        now: i64,
        anchor: i64,
    ) -> (f64, f64, usize) {
        let mut eval = Eval {
            subject,
            now,
            trace: &mut NoTrace,
            plan: None,
            tracker: None,
        };
        let rule = EventRuleSpec {
            sel: sel.clone(),
            points,
            cap: cap.cloned(),
        };
        let mut earned = RulePoints::default();
        let half_life = self.half_life;
        eval.scan(sel, &ALL_TIME, |event: &Event| {
            earned.add(&rule, event.time, half_life);
            true
        });
        self.read_points(&earned, anchor)
    }
}

#[cfg(test)]
mod tests;
