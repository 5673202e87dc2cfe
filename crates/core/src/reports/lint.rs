//! Lint: segments that cannot pay their way. Each finding has a stable
//! code, the definition it is about and a message:
//!
//! - `too_small`: fewer current members than `min_size` (default 50);
//! - `near_duplicate`: shares more than `max_overlap` (Jaccard, default
//!   0.9) of its members with another segment;
//! - `no_owner`, `no_action`: nobody is named to act, or nothing to do;
//! - `unknown_event`: a definition (segment, score or tier) refers to an
//!   event name never seen in the stored behavior events;
//! - `never_changed`: no entry or exit was ever recorded;
//! - `holds_without_activity`: a subject with no events and no traits is a
//!   member (a new lead enters a win-back play at once: `days_since(any)`
//!   of nothing is +∞); the fix is to require past activity.

use serde::Serialize;

use super::overlap::overlap;
use super::references::{events_in_expression, events_in_selector};
use super::ReportError;
use crate::engine::View;
use crate::store::StoreError;

pub const DEFAULT_MIN_SIZE: u64 = 50;
pub const DEFAULT_MAX_OVERLAP: f64 = 0.9;

#[derive(Debug, Clone, Copy)]
pub struct LintParams {
    pub min_size: u64,
    pub max_overlap: f64,
}

impl Default for LintParams {
    fn default() -> Self {
        Self {
            min_size: DEFAULT_MIN_SIZE,
            max_overlap: DEFAULT_MAX_OVERLAP,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    /// The segment (or score, tier) it is about.
    pub definition: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
}

/// Lints the engine's definitions. `ever_changed(segment)` says whether the
/// store recorded any entry or exit of it; it is asked only about segments
/// without members (a member entered at some point).
pub fn lint(
    engine: &View,
    params: LintParams,
    ever_changed: &mut dyn FnMut(&str) -> Result<bool, StoreError>,
) -> Result<LintReport, ReportError> {
    let mut findings = Vec::new();
    let definitions = engine.rules().definitions();
    let sizes: std::collections::HashMap<String, usize> =
        engine.segment_sizes().into_iter().collect();
    let seen = engine.seen_event_names();
    for segment in &definitions.segment {
        let name = &segment.name;
        let finding = |code, message: String| Finding {
            code,
            definition: name.clone(),
            message,
        };
        let size = sizes.get(name).copied().unwrap_or(0) as u64;
        if size < params.min_size {
            findings.push(finding(
                "too_small",
                format!("{size} members, fewer than {} to act on", params.min_size),
            ));
        }
        if is_blank(&segment.owner) {
            findings.push(finding("no_owner", "no `owner` is set".into()));
        }
        if is_blank(&segment.action) {
            findings.push(finding("no_action", "no `action` is set".into()));
        }
        if size == 0 && !ever_changed(name)? {
            findings.push(finding(
                "never_changed",
                "no entry or exit was ever recorded".into(),
            ));
        }
    }
    for pair in overlap(engine, &[])?.pairs {
        if pair.jaccard.is_some_and(|j| j > params.max_overlap) {
            findings.push(Finding {
                code: "near_duplicate",
                definition: pair.a.clone(),
                message: format!(
                    "{:.0}% overlap (Jaccard) with {:?}: {} shared of {} and {}",
                    pair.jaccard.unwrap_or(0.0) * 100.0,
                    pair.b,
                    pair.shared,
                    pair.size_a,
                    pair.size_b
                ),
            });
        }
    }
    for def in engine.rules().holds_without_activity() {
        findings.push(Finding {
            code: "holds_without_activity",
            definition: def.name.to_string(),
            message: without_activity_message(def.subject),
        });
    }
    for (name, referenced) in referenced_events(engine) {
        for event in referenced.iter().filter(|e| !seen.contains(*e)) {
            findings.push(Finding {
                code: "unknown_event",
                definition: name.clone(),
                message: format!("refers to {event:?}, never seen in the stored events"),
            });
        }
    }
    Ok(LintReport { findings })
}

/// Why a segment a brand-new subject is in is suspicious, and the fix.
pub fn without_activity_message(subject: bellwether_rules::SubjectKind) -> String {
    let (a_kind, kind, created_by) = match subject {
        bellwether_rules::SubjectKind::Contact => ("a contact", "contact", "an `identify`"),
        bellwether_rules::SubjectKind::Account => ("an account", "account", "a `group` call"),
    };
    format!(
        "holds for {a_kind} with no events at all: every new {kind} (created by {created_by} \
         alone) enters it at once; require past activity, e.g. `exists(any) and ...`"
    )
}

fn is_blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|t| t.trim().is_empty())
}

/// Every definition with the event names it refers to.
fn referenced_events(engine: &View) -> Vec<(String, std::collections::BTreeSet<String>)> {
    let definitions = engine.rules().definitions();
    let mut out = Vec::new();
    for segment in &definitions.segment {
        out.push((segment.name.clone(), events_in_expression(&segment.when)));
    }
    for score in &definitions.score {
        let mut names = std::collections::BTreeSet::new();
        for rule in &score.rules {
            if let Some(on) = &rule.on {
                names.extend(events_in_selector(on));
            }
            if let Some(condition) = &rule.while_ {
                names.extend(events_in_expression(condition));
            }
        }
        out.push((score.name.clone(), names));
    }
    for tier in &definitions.tier {
        let names = tier
            .levels
            .iter()
            .flat_map(|l| events_in_expression(&l.when))
            .collect();
        out.push((tier.name.clone(), names));
    }
    out
}
