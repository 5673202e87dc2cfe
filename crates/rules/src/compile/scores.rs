//! Score definitions: half-life, event / while / rollup rules, caps.

use super::{graph, Compiler};
use crate::ast::Span;
use crate::check::{check_selector, DefKind, Dep};
use crate::defs::{ScoreDef, ScoreRuleDef};
use crate::diagnostics::Problem;
use crate::score::{Cap, CompiledRule, CompiledScore, Rollup, RuleKind};
use crate::subject::SubjectKind;

/// Largest magnitude of one rule's points.
pub(crate) const MAX_POINTS: f64 = 1e9;

fn problem(message: impl Into<String>) -> Problem {
    Problem::new("definition", message, Span::default())
}

impl Compiler<'_> {
    pub(super) fn half_life(&mut self, i: usize, score: &ScoreDef) -> Option<i64> {
        let text = score.half_life.as_deref()?;
        let parsed = crate::time::parse_duration(text).filter(|ms| *ms > 0);
        if parsed.is_none() {
            let p = problem(format!("invalid half_life \"{text}\""))
                .hint("write a duration such as \"14d\", \"36h\" or \"2w\"");
            self.whole(
                format!("score[{i}].half_life"),
                format!("score {}", score.name),
                p,
            );
        }
        parsed
    }

    pub(super) fn score(
        &mut self,
        i: usize,
        vertices: &mut Vec<graph::Vertex>,
    ) -> Option<CompiledScore> {
        let def = &self.defs.score[i];
        let half_life = self.catalog.scores.get(&def.name).and_then(|s| s.half_life);
        let mut rules = Vec::new();
        let mut deps = Vec::new();
        let mut ok = true;
        for (j, rule) in def.rules.iter().enumerate() {
            match self.score_rule(i, j, def, rule, half_life) {
                Some((compiled, rule_deps)) => {
                    rules.push(compiled);
                    deps.extend(rule_deps);
                }
                None => ok = false,
            }
        }
        vertices.push(graph::Vertex::new(
            DefKind::Score,
            &def.name,
            format!("score[{i}].name"),
            deps,
        ));
        ok.then(|| CompiledScore {
            name: def.name.clone(),
            subject: def.subject,
            half_life,
            rules,
            track: None,
        })
    }

    fn score_rule(
        &mut self,
        i: usize,
        j: usize,
        def: &ScoreDef,
        rule: &ScoreRuleDef,
        half_life: Option<i64>,
    ) -> Option<(CompiledRule, Vec<Dep>)> {
        let at = format!("score[{i}].rules[{j}]");
        let definition = format!("score {}", def.name);
        let kinds = [
            rule.on.is_some(),
            rule.while_.is_some(),
            rule.rollup.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            let p = problem("a score rule needs exactly one of `on`, `while`, `rollup`")
                .hint("{ on = '\"Demo Requested\"', points = 30 } or { while = 'days_since(any) >= 14', points = -15 } or { rollup = \"intent\", agg = \"sum\" }");
            self.whole(at, definition, p);
            return None;
        }
        if let Some(target) = &rule.rollup {
            return self.rollup_rule(&at, &definition, def, rule, target, half_life);
        }
        let Some(points) = rule.points.filter(|p| p.is_finite()) else {
            self.whole(
                at,
                definition,
                problem("this rule needs `points`, a number").hint("add points = 10"),
            );
            return None;
        };
        if points.abs() > MAX_POINTS {
            // Sums of larger values can overflow to infinity, which JSON
            // cannot carry (it would reach clients as `null`).
            self.whole(
                format!("{at}.points"),
                definition,
                problem(format!(
                    "points must be between -{MAX_POINTS:e} and {MAX_POINTS:e}"
                ))
                .hint("scores are sums of points; keep them in a human range"),
            );
            return None;
        }
        if let Some(text) = &rule.on {
            return self.event_rule(&at, &definition, def, rule, text, points);
        }
        if rule.cap.is_some() {
            let p = problem("`cap` applies to event rules (`on`) only");
            self.whole(format!("{at}.cap"), definition.clone(), p);
        }
        let text = rule.while_.as_deref().unwrap_or_default();
        let (condition, deps) =
            self.condition(format!("{at}.while"), &definition, text, def.subject)?;
        let kind = RuleKind::While { condition, points };
        Some((
            CompiledRule {
                label: format!("while {}", text.trim()),
                kind,
            },
            deps,
        ))
    }

    fn event_rule(
        &mut self,
        at: &str,
        definition: &str,
        def: &ScoreDef,
        rule: &ScoreRuleDef,
        text: &str,
        points: f64,
    ) -> Option<(CompiledRule, Vec<Dep>)> {
        let cap = match rule.cap.as_deref() {
            None => None,
            Some(cap_text) => match Cap::parse(cap_text) {
                Some(cap) => Some(cap),
                None => {
                    let p = problem(format!("invalid cap \"{cap_text}\""))
                        .hint("write \"10 per day\", \"50 per week\", \"20 per 12h\" or \"100\" (raw points)");
                    self.whole(format!("{at}.cap"), definition.to_owned(), p);
                    return None;
                }
            },
        };
        let field = format!("{at}.on");
        let checked = crate::parser::parse_selector(text)
            .map_err(|p| vec![p])
            .and_then(|arg| check_selector(&arg, def.subject, &self.catalog));
        match checked {
            Ok((sel, deps)) => {
                let kind = RuleKind::Event { sel, points, cap };
                Some((
                    CompiledRule {
                        label: format!("on {}", text.trim()),
                        kind,
                    },
                    deps,
                ))
            }
            Err(problems) => {
                self.inside(field, definition.to_owned(), text, problems);
                None
            }
        }
    }

    fn rollup_rule(
        &mut self,
        at: &str,
        definition: &str,
        def: &ScoreDef,
        rule: &ScoreRuleDef,
        target: &str,
        half_life: Option<i64>,
    ) -> Option<(CompiledRule, Vec<Dep>)> {
        let failure = self.rollup_problem(def, rule, target, half_life);
        if let Some((key, p)) = failure {
            self.whole(format!("{at}.{key}"), definition.to_owned(), p);
            return None;
        }
        let agg_text = rule.agg.as_deref().unwrap_or("sum");
        let rollup = Rollup::parse(agg_text)?;
        let dep = Dep {
            kind: DefKind::Score,
            name: target.to_owned(),
            subject: SubjectKind::Contact,
            span: Span::default(),
        };
        let kind = RuleKind::Rollup {
            score: target.into(),
            rollup,
        };
        Some((
            CompiledRule {
                label: format!("rollup {target} ({agg_text})"),
                kind,
            },
            vec![dep],
        ))
    }

    /// What is wrong with a roll-up rule, and in which key.
    fn rollup_problem(
        &self,
        def: &ScoreDef,
        rule: &ScoreRuleDef,
        target: &str,
        half_life: Option<i64>,
    ) -> Option<(&'static str, Problem)> {
        if def.subject != SubjectKind::Account {
            return Some((
                "rollup",
                problem("only account scores can roll up contact scores")
                    .hint("set subject = \"account\""),
            ));
        }
        let Some(info) = self.catalog.scores.get(target) else {
            let p = problem(format!("no score named \"{target}\""));
            let near =
                crate::diagnostics::suggest(target, self.catalog.scores.keys().map(String::as_str));
            return Some((
                "rollup",
                match near {
                    Some(near) => p.hint(format!("did you mean \"{near}\"?")),
                    None => p,
                },
            ));
        };
        if info.subject != SubjectKind::Contact {
            return Some((
                "rollup",
                problem(format!("\"{target}\" is not a contact score")),
            ));
        }
        if info.half_life.is_some() && info.half_life != half_life {
            let wanted = info
                .half_life
                .map(crate::time::format_duration)
                .unwrap_or_default();
            let p = problem(format!(
                "score \"{}\" must decay like \"{target}\" to roll it up",
                def.name
            ))
            .hint(format!(
                "all contributions of one score share one half-life: set half_life = \"{wanted}\""
            ));
            return Some(("rollup", p));
        }
        let agg_text = rule.agg.as_deref().unwrap_or("sum");
        if Rollup::parse(agg_text).is_none() {
            return Some((
                "agg",
                problem(format!("invalid agg \"{agg_text}\""))
                    .hint("write \"sum\", \"avg\", \"max\" or \"top 3\""),
            ));
        }
        if rule.points.is_some() || rule.cap.is_some() {
            return Some((
                "rollup",
                problem("a rollup rule takes no `points` or `cap`"),
            ));
        }
        None
    }
}
