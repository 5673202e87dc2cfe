//! Start-up: replaying the recorded membership history, so members keep
//! their entry instants and dropped definitions or vanished subjects exit.

use std::collections::HashMap;
use std::sync::Arc;

use bellwether_rules::{DefKind, ScoreValue};

use super::values::Slot;
use super::walkers::Group;
use super::Engine;
use crate::message::Millis;
use crate::store::{MembershipRecord, ScoreRecord, Store, StoreError};
use crate::subject::{SubjectKey, Transition};

/// A thread that evaluates part of the subjects at a restart.
const RESTART_THREAD: &str = "restart evaluation";

/// What a start restores of the recorded history: each subject's last
/// membership change per definition, its last score forms, and the
/// instant of the engine's checkpoint (none before a first start's walk).
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub(super) history: Vec<MembershipRecord>,
    pub(super) scores: Vec<ScoreRecord>,
    pub(super) checkpoint: Option<Millis>,
}

impl Recorded {
    /// Reads it from the store; independent of the events, so a start can
    /// read it while the snapshot is decoded.
    pub fn read(store: &dyn Store) -> Result<Self, StoreError> {
        let (history, checkpoint) = store.latest_memberships()?;
        Ok(Self {
            history,
            scores: store.latest_scores()?,
            checkpoint,
        })
    }
}

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
                Slot::Score(Box::new(form)),
            );
        }
    }

    pub(super) fn exists(&self, key: &SubjectKey) -> bool {
        match key {
            SubjectKey::Contact(id) => self.view.state.contacts.contains_key(id),
            SubjectKey::Account(group_id) => self.view.state.accounts.contains_key(group_id),
        }
    }

    /// Evaluates every subject at `at` (a restart: the checkpoint's
    /// instant) from the values and memberships restored for it, recording
    /// what differs. Split over the machine's cores like a first start's
    /// walk ([`super::walkers`]).
    pub(super) fn reevaluate_everything(&mut self, at: Millis) -> Result<(), StoreError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.reevaluate_everything_on(cores, at)
    }

    /// [`Engine::reevaluate_everything`] on up to `threads` threads: each
    /// part's engine takes its subjects' restored values, memberships and
    /// trackers with it; what they recorded comes back ordered by subject.
    pub(super) fn reevaluate_everything_on(
        &mut self,
        threads: usize,
        at: Millis,
    ) -> Result<(), StoreError> {
        let parts = self.groups_in_parts(at, threads);
        let (walkers, handed) = self.hand_out(&parts);
        let mut parts = parts.into_iter().zip(walkers);
        let own_part = parts.next();
        let evaluated = std::thread::scope(|scope| {
            let mut running = Vec::with_capacity(parts.len());
            for (index, (groups, walker)) in parts.enumerate() {
                let thread = std::thread::Builder::new()
                    .name(format!("bellwether-restart-{}", index + 1))
                    .spawn_scoped(scope, move || evaluate_part(walker, &groups, at))
                    .map_err(|source| StoreError::Thread {
                        name: RESTART_THREAD,
                        source,
                    })?;
                running.push(thread);
            }
            // The first part on this thread: one thread fewer to start.
            let own = own_part.map(|(groups, walker)| evaluate_part(walker, &groups, at));
            let joined: Vec<_> = running.into_iter().map(|thread| thread.join()).collect();
            let others = joined.into_iter().map(|part| {
                part.map_err(|_| StoreError::ThreadPanicked {
                    name: RESTART_THREAD,
                })
            });
            own.map(Ok)
                .into_iter()
                .chain(others)
                .collect::<Result<Vec<_>, _>>()
        })?;
        for mut walker in evaluated {
            self.fresh.append(&mut walker.fresh);
            self.fresh_scores.append(&mut walker.fresh_scores);
            self.absorb_walker(walker);
        }
        // `State` keeps each contact in the account it names, so every
        // subject is in a group; one that is not (a bug) is still evaluated.
        let state = &self.view.state;
        let contacts = state.contacts.keys().map(|id| SubjectKey::Contact(*id));
        let accounts = state.accounts.keys().cloned().map(SubjectKey::Account);
        let missed: Vec<SubjectKey> = contacts
            .chain(accounts)
            .filter(|key| !handed.contains_key(key))
            .collect();
        if !missed.is_empty() {
            tracing::warn!(subjects = missed.len(), "subjects outside every group");
        }
        for key in missed {
            self.reevaluate(key, at);
        }
        // Stable: each subject's own changes keep their order.
        self.fresh
            .sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        Ok(())
    }

    /// One engine per part of the groups, each holding its subjects'
    /// restored values, memberships and trackers, taken out of this one;
    /// with the part each subject went to.
    fn hand_out(&mut self, parts: &[Vec<Group>]) -> (Vec<Engine>, HashMap<SubjectKey, usize>) {
        let mut walkers: Vec<Engine> = parts.iter().map(|_| self.walker()).collect();
        let mut part_of: HashMap<SubjectKey, usize> = HashMap::new();
        for (index, groups) in parts.iter().enumerate() {
            let walker = &mut walkers[index];
            for (key, _) in groups.iter().flatten() {
                part_of.insert(key.clone(), index);
                if let Some(values) = self.view.values.remove(key) {
                    walker.view.values.insert(key.clone(), values);
                }
                if let Some(tracker) = self.trackers.remove(key) {
                    walker.trackers.insert(key.clone(), tracker);
                }
            }
        }
        for (segment, members) in std::mem::take(&mut self.view.members) {
            let mut kept = imbl::OrdMap::new();
            for (key, entered) in members {
                match part_of.get(&key) {
                    Some(&index) => {
                        let handed = walkers[index].view.members.entry(segment.clone());
                        handed.or_default().insert(key, entered);
                    }
                    None => {
                        kept.insert(key, entered);
                    }
                }
            }
            // Kept even when empty: a segment nobody is in stays listed.
            self.view.members.insert(segment, kept);
        }
        (walkers, part_of)
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

/// Evaluates one part's groups at `at` (a group's contacts before its
/// account).
fn evaluate_part(mut walker: Engine, groups: &[Group], at: Millis) -> Engine {
    for (key, _) in groups.iter().flatten() {
        walker.reevaluate(key.clone(), at);
    }
    walker
}
