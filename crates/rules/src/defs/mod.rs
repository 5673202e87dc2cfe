//! The definitions file: `[[score]]`, `[[segment]]`, `[[tier]]` (SPEC
//! sections 3 and 5). Other top-level tables (`[[source]]`, `[[token]]`,
//! `[[destination]]`, `[server]`, ...) are ignored here.

mod raw;
pub(crate) mod srcmap;

use serde::{Deserialize, Serialize};

use crate::check::DefKind;
use crate::subject::SubjectKind;

pub(crate) use raw::{parse_toml, SpanTable};

/// All score, segment and tier definitions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Definitions {
    /// `[[score]]`
    #[serde(default)]
    pub score: Vec<ScoreDef>,
    /// `[[segment]]`
    #[serde(default)]
    pub segment: Vec<SegmentDef>,
    /// `[[tier]]`
    #[serde(default)]
    pub tier: Vec<TierDef>,
}

impl Definitions {
    /// Whether the definition `kind`/`name` exists in both and computes the
    /// same values: its subject and conditions are equal (owner, action,
    /// description, holdout and expose change no value).
    pub fn same_meaning(&self, other: &Definitions, kind: DefKind, name: &str) -> bool {
        match kind {
            DefKind::Score => {
                let meaning = |d: &Definitions| {
                    d.score
                        .iter()
                        .find(|s| s.name == name)
                        .map(|s| (s.subject, s.half_life.clone(), s.rules.clone()))
                };
                meaning(self).is_some_and(|m| Some(m) == meaning(other))
            }
            DefKind::Segment => {
                let meaning = |d: &Definitions| {
                    d.segment
                        .iter()
                        .find(|s| s.name == name)
                        .map(|s| (s.subject, s.when.clone()))
                };
                meaning(self).is_some_and(|m| Some(m) == meaning(other))
            }
            DefKind::Tier => {
                let meaning = |d: &Definitions| {
                    d.tier
                        .iter()
                        .find(|t| t.name == name)
                        .map(|t| (t.subject, t.levels.clone()))
                };
                meaning(self).is_some_and(|m| Some(m) == meaning(other))
            }
        }
    }
}

/// `[[score]]`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreDef {
    /// Unique among scores.
    pub name: String,
    /// `contact` (default) or `account`.
    #[serde(default)]
    pub subject: SubjectKind,
    /// `"14d"`; no decay without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life: Option<String>,
    /// The point rules.
    #[serde(default)]
    pub rules: Vec<ScoreRuleDef>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One rule of a score: exactly one of `on`, `while`, `rollup`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreRuleDef {
    /// Event points: a selector, e.g. `page where path = "/pricing"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// State or fit points: a condition, e.g. `days_since(any) >= 14`.
    #[serde(default, rename = "while", skip_serializing_if = "Option::is_none")]
    pub while_: Option<String>,
    /// Points per event, or while the condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    /// Event rules only: `"10 per day"`, `"50 per week"`, `"20 per 12h"`, `"100"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
    /// Account scores only: the contact score to roll up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup: Option<String>,
    /// With `rollup`: `sum` (default), `avg`, `max`, `top 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agg: Option<String>,
}

/// `[[segment]]`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentDef {
    /// Unique among segments.
    pub name: String,
    /// `contact` (default) or `account`.
    #[serde(default)]
    pub subject: SubjectKind,
    /// The membership condition.
    pub when: String,
    /// Who acts on entries (a person or a pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What they should do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Share of entrants (0 to 1) withheld from actions, for causal lift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<f64>,
    /// Shown to the visitor's own page by `GET /v1/personalize` (website
    /// activation); changes no value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expose: bool,
}

/// `[[tier]]`: ordered levels, the first that holds wins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TierDef {
    /// Unique among tiers.
    pub name: String,
    /// `contact` (default) or `account`.
    #[serde(default)]
    pub subject: SubjectKind,
    /// Levels, highest priority first.
    pub levels: Vec<LevelDef>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Shown to the visitor's own page by `GET /v1/personalize` (website
    /// activation); changes no value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expose: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One level of a tier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelDef {
    /// Level name, unique in the tier.
    pub name: String,
    /// Its condition.
    pub when: String,
}
