//! Start-up: replaying the recorded membership history, so members keep
//! their entry instants and dropped definitions or vanished subjects exit.

use std::sync::Arc;

use bellwether_rules::{DefKind, ScoreValue};

use super::values::Slot;
use super::Engine;
use crate::message::{ContactId, Millis};
use crate::store::{MembershipRecord, ScoreRecord};
use crate::subject::{SubjectKey, Transition};

impl Engine {
    /// Replays recorded changes (at least each subject's last one per
    /// definition, in recording order) into the membership bookkeeping.
    pub(super) fn restore(&mut self, history: &[MembershipRecord]) {
        let rules = Arc::clone(&self.view.rules);
        for record in history {
            let key = record.subject.clone();
            if record.label.is_empty() {
                continue;
            }
            if let SubjectKey::Contact(id) = key {
                self.departed.insert(id, record.label.clone());
            }
            let entered = record.change == Transition::Entered;
            let kind = key.kind();
            let name = record.definition.as_str();
            let values = self.view.values.get_or_default(key.clone());
            match (record.definition_kind, &record.level) {
                (DefKind::Tier, Some(level)) => {
                    let level = Arc::<str>::from(level.as_str());
                    let orphan = || (key.clone(), record.definition.clone());
                    if entered {
                        let value = Slot::Tier(level.clone());
                        if !values.set_named(&rules, kind, DefKind::Tier, name, value) {
                            // Dropped since: its level exits with the segments.
                            self.dropped_levels.insert(orphan(), level);
                        }
                    } else if values.tier(name) == Some(&level) {
                        values.unset_named(DefKind::Tier, name);
                    } else if self.dropped_levels.get(&orphan()) == Some(&level) {
                        self.dropped_levels.remove(&orphan());
                    }
                }
                _ => {
                    let member = Slot::Segment(entered);
                    values.set_named(&rules, kind, DefKind::Segment, name, member);
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
        let rules = Arc::clone(&self.view.rules);
        for record in latest {
            let key = record.subject.clone();
            let form = ScoreValue {
                constant: record.constant,
                decaying: record.decaying,
                anchor: record.anchor,
                half_life: record.half_life,
                next_change: None,
            };
            let kind = key.kind();
            let values = self.view.values.get_or_default(key);
            values.set_named(
                &rules,
                kind,
                DefKind::Score,
                &record.score,
                Slot::Score(form),
            );
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

    /// Members of segments the definitions no longer have exit at `at`, and
    /// so do the levels of tiers dropped while the server was stopped.
    pub(super) fn drop_undefined(&mut self, at: Millis) {
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
                values.unset_named(DefKind::Segment, &name);
            }
        }
        for ((key, tier), level) in std::mem::take(&mut self.dropped_levels) {
            let level = Some(level.to_string());
            self.push_change(&key, at, Transition::Exited, DefKind::Tier, &tier, level);
        }
    }
}
