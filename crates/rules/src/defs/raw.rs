//! Reads the TOML file keeping the span of every value, so errors inside an
//! expression point at the right line and column of the file.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Definitions, LevelDef, ScoreDef, ScoreRuleDef, SegmentDef, TierDef};
use crate::subject::SubjectKind;

/// Spans of values in the file, by field path (`segment[2].when`).
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanTable {
    spans: HashMap<String, Range<usize>>,
}

impl SpanTable {
    pub(crate) fn get(&self, field: &str) -> Option<Range<usize>> {
        self.spans.get(field).cloned()
    }

    fn put<T>(&mut self, field: String, value: &Spanned<T>) {
        self.spans.insert(field, value.span());
    }

    fn put_opt<T>(&mut self, field: String, value: &Option<Spanned<T>>) {
        if let Some(value) = value {
            self.put(field, value);
        }
    }
}

type S = Spanned<String>;

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    score: Vec<Spanned<RawScore>>,
    #[serde(default)]
    segment: Vec<Spanned<RawSegment>>,
    #[serde(default)]
    tier: Vec<Spanned<RawTier>>,
}

#[derive(Deserialize)]
struct RawScore {
    name: S,
    subject: Option<Spanned<SubjectKind>>,
    half_life: Option<S>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawRule {
    on: Option<S>,
    #[serde(rename = "while")]
    while_: Option<S>,
    points: Option<Spanned<f64>>,
    cap: Option<S>,
    rollup: Option<S>,
    agg: Option<S>,
}

#[derive(Deserialize)]
struct RawSegment {
    name: S,
    subject: Option<Spanned<SubjectKind>>,
    when: S,
    owner: Option<String>,
    action: Option<String>,
    description: Option<String>,
    holdout: Option<Spanned<f64>>,
    #[serde(default)]
    expose: bool,
}

#[derive(Deserialize)]
struct RawTier {
    name: S,
    subject: Option<Spanned<SubjectKind>>,
    levels: Vec<Spanned<RawLevel>>,
    description: Option<String>,
    #[serde(default)]
    expose: bool,
}

#[derive(Deserialize)]
struct RawLevel {
    name: S,
    when: S,
}

fn subject(value: Option<Spanned<SubjectKind>>) -> SubjectKind {
    value.map(Spanned::into_inner).unwrap_or_default()
}

/// Parses the file: the definitions and the spans of their values.
pub(crate) fn parse_toml(text: &str) -> Result<(Definitions, SpanTable), toml::de::Error> {
    let raw: RawFile = toml::from_str(text)?;
    let mut spans = SpanTable::default();
    let score = raw
        .score
        .into_iter()
        .enumerate()
        .map(|(i, s)| score(i, s, &mut spans))
        .collect();
    let segment = raw
        .segment
        .into_iter()
        .enumerate()
        .map(|(i, s)| segment(i, s, &mut spans))
        .collect();
    let tier = raw
        .tier
        .into_iter()
        .enumerate()
        .map(|(i, t)| tier(i, t, &mut spans))
        .collect();
    Ok((
        Definitions {
            score,
            segment,
            tier,
        },
        spans,
    ))
}

fn score(i: usize, raw: Spanned<RawScore>, spans: &mut SpanTable) -> ScoreDef {
    let at = format!("score[{i}]");
    spans.put(at.clone(), &raw);
    let raw = raw.into_inner();
    spans.put(format!("{at}.name"), &raw.name);
    spans.put_opt(format!("{at}.subject"), &raw.subject);
    spans.put_opt(format!("{at}.half_life"), &raw.half_life);
    let rules = raw
        .rules
        .into_iter()
        .enumerate()
        .map(|(j, r)| rule(&format!("{at}.rules[{j}]"), r, spans))
        .collect();
    ScoreDef {
        name: raw.name.into_inner(),
        subject: subject(raw.subject),
        half_life: raw.half_life.map(Spanned::into_inner),
        rules,
        description: raw.description,
    }
}

fn rule(at: &str, raw: Spanned<RawRule>, spans: &mut SpanTable) -> ScoreRuleDef {
    spans.put(at.to_owned(), &raw);
    let raw = raw.into_inner();
    spans.put_opt(format!("{at}.on"), &raw.on);
    spans.put_opt(format!("{at}.while"), &raw.while_);
    spans.put_opt(format!("{at}.points"), &raw.points);
    spans.put_opt(format!("{at}.cap"), &raw.cap);
    spans.put_opt(format!("{at}.rollup"), &raw.rollup);
    spans.put_opt(format!("{at}.agg"), &raw.agg);
    ScoreRuleDef {
        on: raw.on.map(Spanned::into_inner),
        while_: raw.while_.map(Spanned::into_inner),
        points: raw.points.map(Spanned::into_inner),
        cap: raw.cap.map(Spanned::into_inner),
        rollup: raw.rollup.map(Spanned::into_inner),
        agg: raw.agg.map(Spanned::into_inner),
    }
}

fn segment(i: usize, raw: Spanned<RawSegment>, spans: &mut SpanTable) -> SegmentDef {
    let at = format!("segment[{i}]");
    spans.put(at.clone(), &raw);
    let raw = raw.into_inner();
    spans.put(format!("{at}.name"), &raw.name);
    spans.put(format!("{at}.when"), &raw.when);
    spans.put_opt(format!("{at}.subject"), &raw.subject);
    spans.put_opt(format!("{at}.holdout"), &raw.holdout);
    SegmentDef {
        name: raw.name.into_inner(),
        subject: subject(raw.subject),
        when: raw.when.into_inner(),
        owner: raw.owner,
        action: raw.action,
        description: raw.description,
        holdout: raw.holdout.map(Spanned::into_inner),
        expose: raw.expose,
    }
}

fn tier(i: usize, raw: Spanned<RawTier>, spans: &mut SpanTable) -> TierDef {
    let at = format!("tier[{i}]");
    spans.put(at.clone(), &raw);
    let raw = raw.into_inner();
    spans.put(format!("{at}.name"), &raw.name);
    spans.put_opt(format!("{at}.subject"), &raw.subject);
    let mut levels = Vec::new();
    for (j, level) in raw.levels.into_iter().enumerate() {
        let level_at = format!("{at}.levels[{j}]");
        spans.put(level_at.clone(), &level);
        let level = level.into_inner();
        spans.put(format!("{level_at}.name"), &level.name);
        spans.put(format!("{level_at}.when"), &level.when);
        levels.push(LevelDef {
            name: level.name.into_inner(),
            when: level.when.into_inner(),
        });
    }
    TierDef {
        name: raw.name.into_inner(),
        subject: subject(raw.subject),
        levels,
        description: raw.description,
        expose: raw.expose,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_defaults_to_false_and_round_trips() {
        let text = "[[segment]]\nname='a'\nwhen='true'\nexpose=true\n\
                    [[segment]]\nname='b'\nwhen='true'\n\
                    [[tier]]\nname='t'\nexpose=true\nlevels=[{name='x', when='true'}]\n";
        let (definitions, _) = parse_toml(text).unwrap();
        assert!(definitions.segment[0].expose);
        assert!(!definitions.segment[1].expose);
        assert!(definitions.tier[0].expose);
        let encoded = toml::to_string(&definitions).unwrap();
        let (again, _) = parse_toml(&encoded).unwrap();
        assert_eq!(again, definitions);
        assert_eq!(encoded.matches("expose").count(), 2, "{encoded}");
    }
}
