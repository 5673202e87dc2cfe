//! Compiles a whole definition set: every name unique, every expression
//! parsed and checked for its subject, every reference resolved, no cycles;
//! the result is a [`RuleSet`](crate::RuleSet) in dependency order.

mod graph;
mod report;
mod scores;

use std::collections::HashSet;

use crate::ast::Span;
use crate::check::{check_condition, Catalog, DefKind, Dep, ScoreInfo, TierInfo};
use crate::defs::Definitions;
use crate::diagnostics::Problem;
use crate::ir::Node;
use crate::ruleset::{CompiledSegment, CompiledTier, Level, RuleSet};
use crate::score::CompiledScore;
use crate::subject::SubjectKind;
use crate::track::TrackPlan;

pub(crate) use report::{resolve_plain, resolve_toml};

/// A problem in one field of one definition.
#[derive(Clone, Debug)]
pub(crate) struct DefError {
    /// Field path, `segment[2].when`.
    pub(crate) field: String,
    /// `segment hot_intent`.
    pub(crate) definition: String,
    pub(crate) problem: Problem,
    /// The span is inside the field's text (else: the whole field).
    pub(crate) inside: bool,
    /// The field's text, for reports without a file.
    pub(crate) text: String,
}

pub(crate) struct Compiler<'d> {
    pub(crate) defs: &'d Definitions,
    pub(crate) catalog: Catalog,
    pub(crate) errors: Vec<DefError>,
}

impl Compiler<'_> {
    pub(crate) fn whole(&mut self, field: String, definition: String, problem: Problem) {
        self.errors.push(DefError {
            field,
            definition,
            problem,
            inside: false,
            text: String::new(),
        });
    }

    pub(crate) fn inside(
        &mut self,
        field: String,
        definition: String,
        text: &str,
        problems: Vec<Problem>,
    ) {
        for problem in problems {
            self.errors.push(DefError {
                field: field.clone(),
                definition: definition.clone(),
                problem,
                inside: true,
                text: text.to_owned(),
            });
        }
    }

    /// Parses and checks a condition; on error records it and returns `None`.
    pub(crate) fn condition(
        &mut self,
        field: String,
        definition: &str,
        text: &str,
        subject: SubjectKind,
    ) -> Option<(Node, Vec<Dep>)> {
        let checked = crate::parser::parse(text)
            .map_err(|p| vec![p])
            .and_then(|expr| check_condition(&expr, subject, &self.catalog));
        match checked {
            Ok(checked) => Some((checked.node, checked.deps)),
            Err(problems) => {
                self.inside(field, definition.to_owned(), text, problems);
                None
            }
        }
    }

    fn duplicate(&mut self, seen: &mut HashSet<String>, kind: DefKind, name: &str, field: String) {
        if name.trim().is_empty() {
            let problem = Problem::new(
                "definition",
                format!("a {} needs a name", kind.as_str()),
                Span::default(),
            );
            self.whole(
                field,
                format!("{} #{}", kind.as_str(), seen.len() + 1),
                problem,
            );
        } else if let Err(reason) = crate::check_name(name) {
            let problem = Problem::new("name", reason, Span::default())
                .hint("for example hot_leads or intent_score_v2");
            self.whole(field, format!("{} {name:.64}", kind.as_str()), problem);
        } else if !seen.insert(name.to_owned()) {
            let problem = Problem::new(
                "duplicate",
                format!("{} \"{name}\" is defined twice", kind.as_str()),
                Span::default(),
            )
            .hint("names are unique per kind; rename one of them");
            self.whole(field, format!("{} {name}", kind.as_str()), problem);
        }
    }

    fn build_catalog(&mut self) {
        let defs = self.defs;
        let mut seen = HashSet::new();
        for (i, score) in defs.score.iter().enumerate() {
            self.duplicate(
                &mut seen,
                DefKind::Score,
                &score.name,
                format!("score[{i}].name"),
            );
            let half_life = self.half_life(i, score);
            self.catalog.scores.insert(
                score.name.clone(),
                ScoreInfo {
                    subject: score.subject,
                    half_life,
                },
            );
        }
        let mut seen = HashSet::new();
        for (i, segment) in defs.segment.iter().enumerate() {
            self.duplicate(
                &mut seen,
                DefKind::Segment,
                &segment.name,
                format!("segment[{i}].name"),
            );
            self.catalog
                .segments
                .insert(segment.name.clone(), segment.subject);
        }
        let mut seen = HashSet::new();
        for (i, tier) in defs.tier.iter().enumerate() {
            self.duplicate(
                &mut seen,
                DefKind::Tier,
                &tier.name,
                format!("tier[{i}].name"),
            );
            let levels = tier.levels.iter().map(|l| l.name.clone()).collect();
            self.catalog.tiers.insert(
                tier.name.clone(),
                TierInfo {
                    subject: tier.subject,
                    levels,
                },
            );
        }
    }

    fn segment(&mut self, i: usize, nodes: &mut Vec<graph::Vertex>) -> Option<CompiledSegment> {
        let def = &self.defs.segment[i];
        let definition = format!("segment {}", def.name);
        if let Some(holdout) = def.holdout.filter(|h| !(0.0..1.0).contains(h)) {
            let problem = Problem::new(
                "definition",
                format!("holdout must be at least 0 and below 1, found {holdout}"),
                Span::default(),
            );
            self.whole(format!("segment[{i}].holdout"), definition.clone(), problem);
        }
        let (node, deps) = self.condition(
            format!("segment[{i}].when"),
            &definition,
            &def.when,
            def.subject,
        )?;
        nodes.push(graph::Vertex::new(
            DefKind::Segment,
            &def.name,
            format!("segment[{i}].when"),
            deps,
        ));
        Some(CompiledSegment {
            name: def.name.clone(),
            subject: def.subject,
            source: def.when.clone(),
            node,
        })
    }

    fn tier(&mut self, i: usize, nodes: &mut Vec<graph::Vertex>) -> Option<CompiledTier> {
        let def = &self.defs.tier[i];
        let definition = format!("tier {}", def.name);
        if def.levels.is_empty() {
            let problem = Problem::new(
                "definition",
                "a tier needs at least one level",
                Span::default(),
            );
            self.whole(format!("tier[{i}].name"), definition.clone(), problem);
        }
        let (mut levels, mut all_deps, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
        for (j, level) in def.levels.iter().enumerate() {
            if !seen.insert(level.name.as_str()) {
                let problem = Problem::new(
                    "duplicate",
                    format!("level \"{}\" appears twice", level.name),
                    Span::default(),
                );
                self.whole(
                    format!("tier[{i}].levels[{j}].name"),
                    definition.clone(),
                    problem,
                );
            }
            let field = format!("tier[{i}].levels[{j}].when");
            if let Some((node, deps)) = self.condition(field, &definition, &level.when, def.subject)
            {
                all_deps.extend(deps);
                levels.push(Level {
                    name: level.name.as_str().into(),
                    source: level.when.clone(),
                    node,
                });
            }
        }
        nodes.push(graph::Vertex::new(
            DefKind::Tier,
            &def.name,
            format!("tier[{i}].name"),
            all_deps,
        ));
        (levels.len() == def.levels.len()).then(|| CompiledTier {
            name: def.name.clone(),
            subject: def.subject,
            levels,
        })
    }
}

/// Compiles `defs`, or returns every error found.
pub(crate) fn compile(defs: &Definitions) -> Result<RuleSet, Vec<DefError>> {
    let mut compiler = Compiler {
        defs,
        catalog: Catalog::default(),
        errors: Vec::new(),
    };
    compiler.build_catalog();
    let mut vertices = Vec::new();
    let mut scores: Vec<_> = (0..defs.score.len())
        .filter_map(|i| compiler.score(i, &mut vertices))
        .collect();
    let mut segments: Vec<_> = (0..defs.segment.len())
        .filter_map(|i| compiler.segment(i, &mut vertices))
        .collect();
    let mut tiers: Vec<_> = (0..defs.tier.len())
        .filter_map(|i| compiler.tier(i, &mut vertices))
        .collect();
    let order = graph::order(&vertices, &mut compiler);
    if !compiler.errors.is_empty() {
        return Err(compiler.errors);
    }
    let index = |names: Vec<&String>| {
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect::<crate::ruleset::NameIndex>()
    };
    let plan = plan_tracking(&mut scores, &mut segments, &mut tiers);
    let triggers = crate::triggers::triggers_of(&order, &scores, &segments, &tiers);
    let read_by_accounts = crate::triggers::read_by_accounts(&triggers);
    Ok(RuleSet {
        plan,
        score_index: index(scores.iter().map(|s| &s.name).collect()),
        segment_index: index(segments.iter().map(|s| &s.name).collect()),
        tier_index: index(tiers.iter().map(|t| &t.name).collect()),
        scores,
        segments,
        tiers,
        layout: crate::layout::ValueLayout::interned(&order),
        order,
        triggers,
        read_by_accounts,
        definitions: defs.clone(),
    })
}

/// Gives each aggregate the engine can keep incrementally a tracker slot.
fn plan_tracking(
    scores: &mut [CompiledScore],
    segments: &mut [CompiledSegment],
    tiers: &mut [CompiledTier],
) -> TrackPlan {
    let mut plan = TrackPlan::default();
    for score in scores {
        plan.assign_score(score);
    }
    for segment in segments {
        plan.assign(&mut segment.node, segment.subject);
    }
    for tier in tiers {
        for level in &mut tier.levels {
            plan.assign(&mut level.node, tier.subject);
        }
    }
    plan
}
