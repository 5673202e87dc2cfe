//! What contact and account pages share: score tiles and charts, segments
//! and tiers with their explanations, traits, membership history.

use std::collections::BTreeMap;

use bellwether_core::engine::View;
use bellwether_rules::LevelExplanation;
use bellwether_rules::SubjectKind;
use maud::{html, Markup};
use serde_json::Value;

use super::auth::Viewer;
use super::chart::{self, LineChart};
use super::layout;
use super::{explain, format, PageError, UiState};
use crate::api::explanation::{ExplanationView, TierExplanationView};
use crate::api::history::{HistoryView, ScoreFormView};
use crate::api::segments::explain_view;

const DAY_MS: i64 = 86_400_000;
/// Score charts cover at most this many days back.
const SCORE_DAYS: i64 = 90;
/// Points sampled between two score changes (decay is a curve).
const SAMPLES_BETWEEN: i64 = 8;
const HISTORY_SHOWN: usize = 20;

/// Tiles with the current scores, segment count and tier levels.
pub(crate) fn score_stats(
    scores: &BTreeMap<String, f64>,
    segments: &[String],
    tiers: &BTreeMap<String, String>,
) -> Markup {
    html! {
        div.stats {
            @for (name, value) in scores {
                (layout::stat(&format::label(name), &format::compact(*value), Some("score")))
            }
            (layout::stat("Segments", &segments.len().to_string(), Some("member of")))
            @for (tier, level) in tiers {
                (layout::stat(&format::label(tier), level, Some("tier")))
            }
        }
    }
}

/// One recorded change of a score's closed form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScoreForm {
    pub(crate) at: i64,
    pub(crate) constant: f64,
    pub(crate) decaying: f64,
    pub(crate) anchor: i64,
    pub(crate) half_life_ms: Option<f64>,
}

impl ScoreForm {
    /// The form of a recorded change; `None` when it cannot be drawn (a
    /// value that is not finite).
    fn of(record: &ScoreFormView) -> Option<Self> {
        let finite = record.constant.is_finite() && record.decaying.is_finite();
        finite.then(|| Self {
            at: record.at_ms,
            constant: record.constant,
            decaying: record.decaying,
            anchor: record.anchor_ms,
            half_life_ms: record.half_life_ms.map(|h| h as f64).filter(|h| *h > 0.0),
        })
    }

    /// The exact value at `t` (the history API's closed form).
    pub(crate) fn value_at(&self, t: i64) -> f64 {
        match self.half_life_ms {
            Some(half_life) => {
                self.constant + self.decaying * 2f64.powf(-((t - self.anchor) as f64) / half_life)
            }
            None => self.constant + self.decaying,
        }
    }
}

/// The score's value over `[start, end]` as chart points: each change (with
/// the value just before it, so jumps stay vertical) and samples of the
/// decay in between.
pub(crate) fn score_curve(forms: &[ScoreForm], start: i64, end: i64) -> Vec<(i64, f64)> {
    let mut points = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        let until = forms.get(i + 1).map_or(end, |next| next.at).min(end);
        let from = form.at.max(start);
        if until < from {
            continue;
        }
        if let Some(previous) = i.checked_sub(1).and_then(|p| forms.get(p)) {
            if form.at > start && form.at > 0 {
                points.push((form.at - 1, previous.value_at(form.at - 1)));
            }
        }
        points.push((from, form.value_at(from)));
        if form.half_life_ms.is_some() && form.decaying != 0.0 {
            let step = ((until - from) / SAMPLES_BETWEEN).max(1);
            let mut t = from + step;
            while t < until {
                points.push((t, form.value_at(t)));
                t += step;
            }
        }
        if i + 1 == forms.len() {
            points.push((until, form.value_at(until)));
        }
    }
    points.dedup_by_key(|p| p.0);
    points
}

/// A chart per score from the history's `scores` records.
pub(crate) fn score_charts(history: &HistoryView, now: i64) -> Markup {
    let mut by_score: BTreeMap<&str, Vec<ScoreForm>> = BTreeMap::new();
    for record in &history.scores {
        if let Some(form) = ScoreForm::of(record) {
            by_score.entry(&record.score).or_default().push(form);
        }
    }
    let start = now - SCORE_DAYS * DAY_MS;
    html! {
        section.card {
            h2 { "Scores over time" }
            @if by_score.is_empty() {
                (layout::empty("No score has changed yet."))
            }
            div.charts {
                @for (name, forms) in &by_score {
                    @let first = forms.first().map_or(start, |f| f.at.max(start));
                    @let points = score_curve(forms, first, now);
                    (chart::line_chart(&LineChart {
                        title: &format!("{} (last {SCORE_DAYS} days at most)", format::label(name)),
                        unit: "points",
                        points: &points,
                        span: (first, now),
                        step: false,
                    }))
                }
            }
        }
    }
}

/// A subject and what the engine says it is in now.
pub(crate) struct Current<'a> {
    pub(crate) subject: SubjectKind,
    pub(crate) id: &'a str,
    /// Segments it is a member of.
    pub(crate) member_of: &'a [String],
    /// Its level of each tier.
    pub(crate) levels: &'a BTreeMap<String, String>,
}

/// Segments and tiers of one subject, each with its explanation.
pub(crate) struct Memberships {
    subject: SubjectKind,
    id: String,
    /// `(segment, member now, explanation)`, members first.
    segments: Vec<(String, bool, ExplanationView)>,
    /// `(tier, level now, explanation)`.
    tiers: Vec<(String, Option<String>, Option<TierExplanationView>)>,
    /// Last entry instant per segment, from the history.
    since: BTreeMap<String, i64>,
}

impl Memberships {
    /// Explains every segment and tier of the subject's kind.
    pub(crate) async fn load(
        ui: &UiState,
        viewer: &Viewer,
        current: Current<'_>,
        history: &HistoryView,
        explain_tier: impl Fn(&View, &str, i64) -> Option<Vec<LevelExplanation>>,
    ) -> Result<Self, PageError> {
        let Current {
            subject,
            id,
            member_of,
            levels,
        } = current;
        let (segment_names, tier_names) = {
            let engine = ui.app.engine.view_async().await;
            let definitions = engine.rules().definitions();
            let segments: Vec<String> = definitions
                .segment
                .iter()
                .filter(|s| s.subject == subject)
                .map(|s| s.name.clone())
                .collect();
            let tiers: Vec<String> = definitions
                .tier
                .iter()
                .filter(|t| t.subject == subject)
                .map(|t| t.name.clone())
                .collect();
            (segments, tiers)
        };
        let mut segments = Vec::with_capacity(segment_names.len());
        for name in segment_names {
            let tree = explain_view(
                &ui.app,
                &viewer.headers,
                subject,
                id.to_owned(),
                name.clone(),
            )
            .await?;
            segments.push((name.clone(), member_of.contains(&name), tree));
        }
        segments.sort_by_key(|(_, member, _)| !*member);
        let now = ui.app.engine.now();
        let tiers = {
            let engine = ui.app.engine.view_async().await;
            let mut tiers = Vec::with_capacity(tier_names.len());
            for name in tier_names {
                let explanation = explain_tier(&engine, &name, now)
                    .map(|levels| TierExplanationView::from(levels.as_slice()));
                let level = levels.get(&name).cloned();
                tiers.push((name, level, explanation));
            }
            tiers
        };
        Ok(Self {
            subject,
            id: id.to_owned(),
            segments,
            tiers,
            since: entries(history),
        })
    }

    pub(crate) fn segments_card(&self, open: Option<&str>, now: i64) -> Markup {
        html! {
            section.card #segments {
                h2 { "Segments" }
                @if self.segments.is_empty() { (layout::empty("No segments for this kind of subject.")) }
                ul.memberships {
                    @for (name, member, tree) in &self.segments {
                        li #{"explain-" (layout::encode(name))} {
                            details open[open == Some(name.as_str())] {
                                summary {
                                    @if *member { (layout::pill("member", "good")) } @else { (layout::pill("not a member", "muted")) }
                                    " " a href={"/segments/" (layout::encode(name))} { (name) }
                                    @if let (true, Some(at)) = (*member, self.since.get(name)) {
                                        span.muted { " since " (layout::when(*at, now)) }
                                    }
                                    span.why { "Why?" }
                                }
                                (explain::tree(tree, now))
                            }
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn tiers_card(&self, open: Option<&str>, now: i64) -> Markup {
        if self.tiers.is_empty() {
            return html! {};
        }
        html! {
            section.card #tiers {
                h2 { "Tiers" }
                ul.memberships {
                    @for (name, level, explanation) in &self.tiers {
                        li #{"explain-" (layout::encode(name))} {
                            details open[open == Some(name.as_str())] {
                                summary {
                                    strong { (format::label(name)) } ": "
                                    @match level { Some(level) => (layout::pill(level, "good")), None => (layout::pill("no level", "muted")) }
                                    span.why { "Why?" }
                                }
                                @match explanation {
                                    Some(levels) => (explain::tier(levels, level.as_deref(), now)),
                                    None => (layout::empty(&format!("No explanation for {} {}.", self.subject.as_str(), self.id))),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The latest entry instant of each segment in a subject's history.
fn entries(history: &HistoryView) -> BTreeMap<String, i64> {
    history
        .changes
        .iter()
        .filter(|change| change.enters_segment())
        .map(|change| (change.definition.clone(), change.at_ms))
        .collect()
}

/// Traits (or firmographics) as a definition list.
pub(crate) fn traits_card(title: &str, traits: &serde_json::Map<String, Value>) -> Markup {
    html! {
        section.card {
            h2 { (title) }
            @if traits.is_empty() { (layout::empty("No traits yet.")) }
            dl.facts {
                @for (key, value) in traits {
                    dt { (format::label(key)) }
                    dd { (format::json_text(value)) }
                }
            }
        }
    }
}

/// The latest segment entries/exits and tier changes.
pub(crate) fn history_card(history: &HistoryView, now: i64) -> Markup {
    let changes = &history.changes;
    html! {
        section.card {
            h2 { "Membership history" }
            @if changes.is_empty() { (layout::empty("No entries or exits recorded yet.")) }
            ol.feed {
                @for change in changes.iter().rev().take(HISTORY_SHOWN) {
                    li {
                        @if change.change == "entered" { (layout::pill("entered", "good")) } @else { (layout::pill("exited", "bad")) }
                        " " (change.definition)
                        @if let Some(level) = &change.level { " → " strong { (level) } }
                        " "
                        span.muted { (layout::when(change.at_ms, now)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_curve_decays_between_changes_and_jumps_at_them() {
        let day = DAY_MS;
        let forms = [
            ScoreForm {
                at: 0,
                constant: 0.0,
                decaying: 20.0,
                anchor: 0,
                half_life_ms: Some(14.0 * day as f64),
            },
            ScoreForm {
                at: 14 * day,
                constant: 0.0,
                decaying: 40.0,
                anchor: 14 * day,
                half_life_ms: Some(14.0 * day as f64),
            },
        ];
        assert!(
            (forms[0].value_at(14 * day) - 10.0).abs() < 1e-9,
            "half after one half-life"
        );
        let curve = score_curve(&forms, 0, 28 * day);
        assert_eq!(curve.first(), Some(&(0, 20.0)));
        let before_jump = curve
            .iter()
            .find(|p| p.0 == 14 * day - 1)
            .expect("value just before the change");
        assert!((before_jump.1 - 10.0).abs() < 0.01);
        assert!(curve.contains(&(14 * day, 40.0)));
        let last = curve.last().expect("end");
        assert_eq!(last.0, 28 * day);
        assert!((last.1 - 20.0).abs() < 1e-9);
        assert!(
            curve.windows(2).all(|w| w[0].0 < w[1].0),
            "strictly increasing time"
        );
    }

    #[test]
    fn a_score_without_half_life_is_flat_and_clipped_to_the_window() {
        let forms = [ScoreForm {
            at: 0,
            constant: 5.0,
            decaying: 0.0,
            anchor: 0,
            half_life_ms: None,
        }];
        assert_eq!(score_curve(&forms, 100, 200), [(100, 5.0), (200, 5.0)]);
    }
}
