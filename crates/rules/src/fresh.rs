//! What a brand-new subject is in: a contact created by an `identify` with
//! no behavior yet, or an account created by a `group` call, evaluated with
//! an empty timeline and no traits. A segment that holds for it fires on
//! every new lead at once; for win-back plays (`days_since(any) >= 90` is
//! +∞ ≥ 90 for a subject never seen) that is a mistake, so `bellwether
//! check` warns about it and suggests requiring past activity.
//!
//! With no events and no traits nothing depends on the instant: the
//! language has no construct that reads T except through an event or a
//! trait (every aggregate is of nothing, every trait missing), so one
//! evaluation, at the epoch, answers for every T.

use crate::check::DefKind;
use crate::ruleset::{DefRef, RuleSet};
use crate::subject::{MemorySubject, SubjectKind};

impl RuleSet {
    /// The segments a subject with no events and no traits is a member of
    /// (at any instant), in evaluation order.
    pub fn holds_without_activity(&self) -> Vec<DefRef> {
        let at = 0;
        let mut contact = fresh(SubjectKind::Contact);
        let mut account = fresh(SubjectKind::Account);
        let mut found = Vec::new();
        for def in self.order() {
            let subject = match def.subject {
                SubjectKind::Contact => &mut contact,
                SubjectKind::Account => &mut account,
            };
            let name = def.name.to_string();
            match def.kind {
                DefKind::Score => {
                    if let Some(value) = self.evaluate_score(&def.name, subject, at) {
                        subject.scores.insert(name, value);
                    }
                }
                DefKind::Segment => {
                    let holds = self
                        .evaluate_segment(&def.name, subject, at)
                        .is_some_and(|e| e.value);
                    subject.segments.insert(name, holds);
                    if holds {
                        found.push(def.clone());
                    }
                }
                DefKind::Tier => {
                    let level = self.evaluate_tier(&def.name, subject, at);
                    if let Some(level) = level.and_then(|e| e.value) {
                        subject.tiers.insert(name, level);
                    }
                }
            }
        }
        found
    }
}

fn fresh(kind: SubjectKind) -> MemorySubject {
    MemorySubject {
        id: "new".into(),
        kind,
        ..MemorySubject::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::RuleSet;

    #[test]
    fn a_segment_that_holds_for_a_subject_never_seen_is_named() {
        let text = r#"
[[score]]
name = "fit"
subject = "account"
rules = [ { while = 'trait.employees > 10', points = 60 } ]

[[segment]]
name = "dormant"
when = 'days_since(any) >= 90'

[[segment]]
name = "gone_quiet"
when = 'exists(any) and days_since(any) >= 90'

[[segment]]
name = "no_demo"
when = 'not exists("Demo Requested")'

[[segment]]
name = "unknown_fit"
subject = "account"
when = 'not (score("fit") >= 50)'

[[segment]]
name = "silent_after_dormant"
when = 'in_segment("dormant")'

[[segment]]
name = "renewal"
subject = "account"
when = 'days_until(trait.renewal_date) between 0 and 180'
"#;
        let rules = RuleSet::from_toml("t.toml", text).unwrap_or_else(|d| panic!("{}", d.render()));
        let names: Vec<String> = rules
            .holds_without_activity()
            .iter()
            .map(|d| format!("{} {}", d.subject.as_str(), d.name))
            .collect();
        assert_eq!(
            names,
            [
                "contact dormant",
                "contact no_demo",
                "account unknown_fit",
                "contact silent_after_dormant"
            ]
        );
    }
}
