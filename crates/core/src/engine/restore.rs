//! Start-up: replaying the recorded membership history, so members keep
//! their entry instants and dropped definitions or vanished subjects exit.

use std::sync::Arc;

use bellwether_rules::{DefKind, ScoreValue};

use super::Engine;
use crate::message::{ContactId, Millis};
use crate::store::{MembershipRecord, ScoreRecord};
use crate::subject::{SubjectKey, Transition};

impl Engine {
    /// Replays recorded changes (at least each subject's last one per
    /// definition, in recording order) into the membership bookkeeping.
    pub(super) fn restore(&mut self, history: &[MembershipRecord]) {
        for record in history {
            let key = record.subject.clone();
            if record.label.is_empty() {
                continue;
            }
            if let SubjectKey::Contact(id) = key {
                self.departed.insert(id, record.label.clone());
            }
            let entered = record.change == Transition::Entered;
            let values = self.view.values.get_or_default(key.clone());
            match (record.definition_kind, &record.level) {
                (DefKind::Tier, Some(level)) if entered => {
                    values.tiers.insert(
                        Arc::from(record.definition.as_str()),
                        Arc::from(level.as_str()),
                    );
                }
                (DefKind::Tier, Some(level)) => {
                    if values
                        .tiers
                        .get(record.definition.as_str())
                        .is_some_and(|l| **l == **level)
                    {
                        values.tiers.remove(record.definition.as_str());
                    }
                }
                _ => {
                    values
                        .segments
                        .insert(Arc::from(record.definition.as_str()), entered);
                    let members = self
                        .view
                        .members
                        .entry(record.definition.clone())
                        .or_default();
                    if entered {
                        members.insert(key, record.at);
                    } else {
                        members.remove(&key);
                    }
                }
            }
        }
    }

    /// Seeds each subject's last recorded score forms, so a restart records
    /// only scores that really changed.
    pub(super) fn restore_scores(&mut self, latest: &[ScoreRecord]) {
        for record in latest {
            let key = record.subject.clone();
            let form = ScoreValue {
                constant: record.constant,
                decaying: record.decaying,
                anchor: record.anchor,
                half_life: record.half_life,
                next_change: None,
            };
            let values = self.view.values.get_or_default(key);
            values.scores.insert(Arc::from(record.score.as_str()), form);
        }
    }

    pub(super) fn exists(&self, key: &SubjectKey) -> bool {
        match key {
            SubjectKey::Contact(id) => self.view.state.contacts.contains_key(id),
            SubjectKey::Account(group_id) => self.view.state.accounts.contains_key(group_id),
        }
    }

    pub(super) fn reevaluate_everything(&mut self, at: Millis) {
        let contacts: Vec<ContactId> = self.view.state.contacts.keys().copied().collect();
        for id in contacts {
            self.reevaluate(SubjectKey::Contact(id), at);
        }
        let accounts: Vec<_> = self.view.state.accounts.keys().cloned().collect();
        for id in accounts {
            self.reevaluate(SubjectKey::Account(id), at);
        }
    }

    /// Members of segments the definitions no longer have exit at `at`.
    pub(super) fn drop_undefined_segments(&mut self, at: Millis) {
        let kept: std::collections::HashSet<String> = self
            .rules
            .order()
            .iter()
            .filter(|d| d.kind == DefKind::Segment)
            .map(|d| d.name.to_string())
            .collect();
        let dropped: Vec<String> = self
            .members
            .keys()
            .filter(|name| !kept.contains(*name))
            .cloned()
            .collect();
        for name in dropped {
            let members = self.view.members.remove(&name).unwrap_or_default();
            for key in members.keys() {
                self.push_change(key, at, Transition::Exited, DefKind::Segment, &name, None);
            }
            for values in self.view.values.values_mut() {
                values.segments.remove(name.as_str());
            }
        }
    }
}
