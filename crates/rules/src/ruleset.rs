//! The compiled definition set: what the engine evaluates.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;

use crate::check::{check_condition, Catalog, DefKind, ScoreInfo, TierInfo};
use crate::compile::{compile, resolve_plain, resolve_toml, DefError};
use crate::defs::{parse_toml, Definitions};
use crate::diagnostics::{Diagnostic, Diagnostics, Problem};
use crate::eval::{earliest, evaluate, evaluate_deciding, NoTrace};
use crate::explain::{Explanation, Tracer};
use crate::ir::Node;
use crate::score::{CompiledScore, ScoreExplanation};
use crate::subject::{ScoreValue, SubjectKind, SubjectView};
use crate::track::{PropertyKeys, TrackPlan};

/// A definition, as the engine schedules it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefRef {
    /// score, segment or tier.
    pub kind: DefKind,
    /// Its name (shared: the engine keys every subject's values by it).
    pub name: Arc<str>,
    /// Contact or account.
    pub subject: SubjectKind,
    /// The definitions its value reads (`score`, `in_segment`, `tier`,
    /// roll-ups), as (kind, name).
    pub depends_on: Vec<(DefKind, Arc<str>)>,
}

/// A value and the first instant after `now` at which it may change if no
/// new event arrives (`None`: never). Exact or early, never late.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluated<T> {
    /// The value at `now`.
    pub value: T,
    /// When to evaluate again.
    pub next_change: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledSegment {
    pub(crate) name: String,
    pub(crate) subject: SubjectKind,
    pub(crate) source: String,
    pub(crate) node: Node,
}

#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub(crate) name: Arc<str>,
    pub(crate) source: String,
    pub(crate) node: Node,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledTier {
    pub(crate) name: String,
    pub(crate) subject: SubjectKind,
    pub(crate) levels: Vec<Level>,
}

/// Every score, segment and tier, checked together and ready to evaluate.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// The aggregates and score rules subjects' trackers keep.
    pub(crate) plan: TrackPlan,
    pub(crate) scores: Vec<CompiledScore>,
    pub(crate) segments: Vec<CompiledSegment>,
    pub(crate) tiers: Vec<CompiledTier>,
    /// By name: the engine evaluates definitions by name, millions of
    /// times in a first start, so a fast hash (names come from the
    /// definitions file, not from users).
    pub(crate) score_index: NameIndex,
    pub(crate) segment_index: NameIndex,
    pub(crate) tier_index: NameIndex,
    pub(crate) order: Vec<DefRef>,
    /// Where each definition's value sits among a subject's values.
    pub(crate) layout: &'static crate::layout::ValueLayout,
    /// What besides time can change each definition, in `order`.
    pub(crate) triggers: Vec<crate::triggers::Triggers>,
    /// The contact definitions account definitions read, in `order`.
    pub(crate) read_by_accounts: Vec<usize>,
    pub(crate) definitions: Definitions,
}

/// Position by name.
pub(crate) type NameIndex = rustc_hash::FxHashMap<String, usize>;

/// The engine shares one compiled set between threads.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<RuleSet>();
    shareable::<Condition>();
};

/// One tier level's condition, explained.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelExplanation {
    /// Level name.
    pub level: String,
    /// Its condition.
    pub explanation: Explanation,
}

/// Validates a definitions file (TOML text): every error with its position.
/// Empty when the file is valid.
pub fn check_file(file_name: &str, toml_text: &str) -> Diagnostics {
    match RuleSet::from_toml(file_name, toml_text) {
        Ok(_) => Diagnostics::default(),
        Err(diagnostics) => diagnostics,
    }
}

fn toml_error(file_name: &str, text: &str, error: &toml::de::Error) -> Diagnostics {
    let span = error.span().map_or(crate::ast::Span::default(), |r| {
        crate::ast::Span::new(r.start, r.end)
    });
    let message = error
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .to_owned();
    let problem = Problem::new("toml", message, span);
    Diagnostics {
        diagnostics: vec![Diagnostic::resolve(file_name, text, span, &problem)],
    }
}

impl RuleSet {
    /// Compiles definitions that did not come from a file (API, UI).
    pub fn compile(definitions: &Definitions) -> Result<RuleSet, Diagnostics> {
        compile(definitions).map_err(|errors: Vec<DefError>| resolve_plain(&errors))
    }

    /// Parses and compiles a TOML definitions file; errors carry file positions.
    pub fn from_toml(file_name: &str, toml_text: &str) -> Result<RuleSet, Diagnostics> {
        let (definitions, spans) =
            parse_toml(toml_text).map_err(|e| toml_error(file_name, toml_text, &e))?;
        compile(&definitions).map_err(|errors| resolve_toml(file_name, toml_text, &spans, &errors))
    }

    /// The definitions as written.
    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// Every definition, dependencies first: evaluate in this order.
    pub fn order(&self) -> &[DefRef] {
        &self.order
    }

    /// Where each definition's value sits among a subject's values.
    pub fn value_layout(&self) -> &'static crate::layout::ValueLayout {
        self.layout
    }

    /// The definitions whose values may differ from those of `previous`:
    /// new ones, ones whose meaning changed (owner, action, description and
    /// holdout do not count), and everything that depends on one of those.
    pub fn changed_since(&self, previous: &RuleSet) -> HashSet<(DefKind, Arc<str>)> {
        let mut changed = HashSet::new();
        for def in &self.order {
            let same = self
                .definitions
                .same_meaning(&previous.definitions, def.kind, &def.name);
            if !same || def.depends_on.iter().any(|dep| changed.contains(dep)) {
                changed.insert((def.kind, def.name.clone()));
            }
        }
        changed
    }

    /// A score of `subject` at `now`, in closed form.
    pub fn evaluate_score(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<ScoreValue> {
        let score = &self.scores[*self.score_index.get(name)?];
        Some(score.evaluate(subject, now, Some(&self.plan), false).0)
    }

    /// A score's value with each rule's contribution.
    pub fn explain_score(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<ScoreExplanation> {
        let score = &self.scores[*self.score_index.get(name)?];
        let (form, rules) = score.evaluate(subject, now, Some(&self.plan), true);
        Some(ScoreExplanation {
            score: score.name.clone(),
            value: form.at(now),
            form,
            rules,
        })
    }

    /// Whether `subject` is in segment `name` at `now`.
    pub fn evaluate_segment(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<Evaluated<bool>> {
        self.evaluate_segment_deciding(name, subject, now)
            .map(|(evaluated, _)| evaluated)
    }

    /// [`RuleSet::evaluate_segment`], and which top-level operand of its
    /// `and`/`or` decided the answer: the engine then re-evaluates it only
    /// for inputs that reach that operand
    /// ([`crate::Triggers::deciding`]).
    pub fn evaluate_segment_deciding(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<(Evaluated<bool>, Option<usize>)> {
        let segment = &self.segments[*self.segment_index.get(name)?];
        let (out, decided) =
            evaluate_deciding(&segment.node, subject, now, Some(&self.plan), &mut NoTrace);
        let evaluated = Evaluated {
            value: out.val.is_true(),
            next_change: out.next,
        };
        Some((evaluated, decided))
    }

    /// Why `subject` is in or out of segment `name` at `now`.
    pub fn explain_segment(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<Explanation> {
        let segment = &self.segments[*self.segment_index.get(name)?];
        explain_node(
            &segment.node,
            &segment.source,
            subject,
            now,
            Some(&self.plan),
        )
    }

    /// The tier level of `subject` at `now` (`None`: no level holds).
    pub fn evaluate_tier(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<Evaluated<Option<Arc<str>>>> {
        let tier = &self.tiers[*self.tier_index.get(name)?];
        let mut next = None;
        for level in &tier.levels {
            let out = evaluate(&level.node, subject, now, Some(&self.plan), &mut NoTrace);
            next = earliest(next, out.next);
            if out.val.is_true() {
                return Some(Evaluated {
                    value: Some(level.name.clone()),
                    next_change: next,
                });
            }
        }
        Some(Evaluated {
            value: None,
            next_change: next,
        })
    }

    /// Every level of tier `name`, explained, in order.
    pub fn explain_tier(
        &self,
        name: &str,
        subject: &dyn SubjectView,
        now: i64,
    ) -> Option<Vec<LevelExplanation>> {
        let tier = &self.tiers[*self.tier_index.get(name)?];
        let levels = tier.levels.iter().filter_map(|level| {
            let explanation =
                explain_node(&level.node, &level.source, subject, now, Some(&self.plan))?;
            Some(LevelExplanation {
                level: level.name.to_string(),
                explanation,
            })
        });
        Some(levels.collect())
    }

    /// The event properties these definitions read (the engine keeps only
    /// those in memory).
    pub fn property_keys(&self) -> PropertyKeys {
        let mut keys = PropertyKeys::default();
        self.scores.iter().for_each(|s| keys.score(s));
        self.segments.iter().for_each(|s| keys.node(&s.node));
        for tier in &self.tiers {
            tier.levels.iter().for_each(|l| keys.node(&l.node));
        }
        keys
    }

    /// What a subject's [`crate::Tracker`] keeps for these definitions.
    pub fn track_plan(&self) -> &TrackPlan {
        &self.plan
    }

    /// Checks a draft condition against these definitions (segment editor,
    /// backtests of drafts).
    pub fn condition(&self, subject: SubjectKind, text: &str) -> Result<Condition, Diagnostics> {
        let catalog = self.catalog();
        let checked = crate::parser::parse(text)
            .map_err(|p| vec![p])
            .and_then(|expr| check_condition(&expr, subject, &catalog));
        match checked {
            Ok(checked) => Ok(Condition {
                source: text.to_owned(),
                subject,
                node: checked.node,
            }),
            Err(problems) => Err(Diagnostics {
                diagnostics: problems
                    .iter()
                    .map(|p| Diagnostic::resolve("<condition>", text, p.span, p))
                    .collect(),
            }),
        }
    }

    pub(crate) fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::default();
        for s in &self.scores {
            catalog.scores.insert(
                s.name.clone(),
                ScoreInfo {
                    subject: s.subject,
                    half_life: s.half_life,
                },
            );
        }
        for s in &self.segments {
            catalog.segments.insert(s.name.clone(), s.subject);
        }
        for t in &self.tiers {
            let levels = t.levels.iter().map(|l| l.name.to_string()).collect();
            catalog.tiers.insert(
                t.name.clone(),
                TierInfo {
                    subject: t.subject,
                    levels,
                },
            );
        }
        catalog
    }
}

fn explain_node(
    node: &Node,
    source: &str,
    subject: &dyn SubjectView,
    now: i64,
    plan: Option<&TrackPlan>,
) -> Option<Explanation> {
    let mut tracer = Tracer::new(source);
    let out = evaluate(node, subject, now, plan, &mut tracer);
    let mut explanation = tracer.finish()?;
    explanation.next_change = out.next;
    Some(explanation)
}

/// A checked condition outside the definitions (a draft).
#[derive(Clone, Debug)]
pub struct Condition {
    source: String,
    subject: SubjectKind,
    node: Node,
}

impl Condition {
    /// Contact or account.
    pub fn subject(&self) -> SubjectKind {
        self.subject
    }

    /// The event properties it reads.
    pub fn property_keys(&self) -> PropertyKeys {
        let mut keys = PropertyKeys::default();
        keys.node(&self.node);
        keys
    }

    /// Whether it holds for `subject` at `now`.
    pub fn evaluate(&self, subject: &dyn SubjectView, now: i64) -> Evaluated<bool> {
        let out = evaluate(&self.node, subject, now, None, &mut NoTrace);
        Evaluated {
            value: out.val.is_true(),
            next_change: out.next,
        }
    }

    /// Why it holds or not.
    pub fn explain(&self, subject: &dyn SubjectView, now: i64) -> Option<Explanation> {
        explain_node(&self.node, &self.source, subject, now, None)
    }
}
