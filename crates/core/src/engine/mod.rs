//! The real-time engine: segments, scores and tiers for every contact and
//! account, kept exact as events commit and as time passes.
//!
//! Invariants: membership is a pure function of (definitions, events,
//! instant); a subject is re-evaluated only when a write touches it or when
//! its own next-change instant arrives (no rescans); a time-driven change is
//! recorded at its exact instant, even when processed late.

mod backfill;
mod browse;
mod catalog;
mod cow_map;
mod directory;
mod dirty;
mod dry_run;
mod evaluate;
mod forget;
mod health;
mod image;
mod json_table;
mod member_rows;
mod parallel;
mod personalize;
mod replay;
mod restore;
mod settle;
mod shape_table;
mod snapshot;
mod state;
mod subjects;
mod timers;
mod transitions;
mod values;
mod walkers;
mod watches;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use bellwether_rules::{
    DefKind, Events, LateInsert, MemberChange, PropertyKeys, RuleSet, SubjectKind, Timeline,
    Tracker,
};
use serde::Serialize;

use crate::subject::SubjectMap;
pub use crate::subject::{SubjectKey, Transition};
pub use browse::{MemberQuery, RankedMember, RankedPage, TierCounts};
pub use catalog::EventCount;
pub use directory::{
    DirectoryEntry, DirectoryOrder, DirectoryPage, DirectoryPosition, DirectoryQuery,
};
use evaluate::{DefSet, Plan};
pub use health::DefinitionHealth;
pub(crate) use image::StateImage;
pub use member_rows::{MemberChunk, MemberRow};
pub use personalize::Exposed;
pub use replay::Replay;
pub use restore::Recorded;
pub use snapshot::SubjectSnapshot;
pub use transitions::Transitions;
pub use values::Values;
use values::{Difference, Slot};
pub use watches::ScoreWatch;

use crate::message::{ContactId, Millis};
use crate::progress::Progress;
use crate::store::{MembershipRecord, ScoreRecord, Store, StoreError, WriteOp};
use cow_map::CowMap;
use state::{ContactState, State};
use timers::Timers;

/// How many recent changes are kept in memory for the API.
const RECENT_CHANGES: usize = 10_000;

/// A subject entered or left a segment, or a tier level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub at: Millis,
    /// Contact or account.
    pub subject: SubjectKind,
    /// User id (or anonymous id) of a contact, group id of an account.
    pub id: String,
    /// Entered or exited; a score crosses above or below.
    pub change: Transition,
    /// `segment`, `tier`, or `score` (a watched threshold crossed:
    /// `change` is `crossed_above` or `crossed_below`).
    pub definition_kind: DefKind,
    pub definition: String,
    /// The tier level entered or left, or the score threshold crossed.
    pub level: Option<String>,
    /// Which subject, for the store.
    #[serde(skip)]
    pub key: SubjectKey,
}

impl Change {
    /// A segment entry/exit or tier change (kept in the membership history),
    /// as opposed to a score crossing a watched threshold (only routed).
    pub fn is_membership(&self) -> bool {
        self.definition_kind != DefKind::Score
    }

    /// The change as the store keeps it.
    pub fn to_record(&self) -> MembershipRecord {
        MembershipRecord {
            at: self.at,
            subject: self.key.clone(),
            label: self.id.clone(),
            change: self.change,
            definition_kind: self.definition_kind,
            definition: self.definition.clone(),
            level: self.level.clone(),
        }
    }
}

/// One member of a segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub id: String,
    pub entered_at: Millis,
}

/// Segment → members with their entry instant.
type Members = imbl::HashMap<String, imbl::OrdMap<SubjectKey, Millis>>;

/// What readers see: every subject, its values and the memberships, as of
/// one instant of the engine. Cloning it is O(1) (persistent maps, shared
/// timelines), so the writer publishes one for readers without copying its
/// state, and a report, page or query reading a view never holds the
/// writer's lock; the writer's later edits copy only what they touch.
#[derive(Clone)]
pub struct View {
    rules: Arc<RuleSet>,
    state: State,
    values: CowMap<SubjectKey, Values>,
    members: Members,
    recent: imbl::Vector<Change>,
    health: health::Health,
    /// Subjects waiting on a timer, and the earliest deadline (when the
    /// view was taken).
    pending_timers: usize,
    next_deadline: Option<Millis>,
}

/// The writer: the [`View`] it keeps up to date, plus what only it needs
/// (timers, incremental trackers, changes not yet recorded). Reads go
/// through `Deref` to the view.
pub struct Engine {
    view: View,
    timers: Timers,
    /// Changes recorded since the caller last took them (unbounded until
    /// taken, unlike `recent`).
    fresh: Vec<Change>,
    /// Score forms that changed since the caller last took them.
    fresh_scores: Vec<ScoreRecord>,
    /// A first start's older segment changes (see `take_backfilled`).
    backfilled: Vec<Change>,
    /// Labels of contacts being merged away (no longer in the state).
    departed: HashMap<ContactId, String>,
    /// Levels restored for tiers the definitions no longer have: they exit
    /// when the start drops what is undefined.
    dropped_levels: std::collections::BTreeMap<(SubjectKey, String), Arc<str>>,
    /// Score thresholds whose crossings are recorded as changes.
    watches: Vec<ScoreWatch>,
    /// Changes before this instant are backfilled history, not routed.
    routed_from: Millis,
    /// Each subject's incremental state for the current rule set: an
    /// evaluation feeds it the events since the last one instead of
    /// re-reading the history. Boxed: a table slot is then the key and a
    /// pointer (24 bytes, not 120), and the table runs half empty after
    /// it doubles (at 10M events, 117k trackers in 262k slots).
    trackers: SubjectMap<Box<Tracker>>,
    /// Purges of deleted contacts' recorded history, for the recorder.
    purges: Vec<WriteOp>,
}

impl Deref for Engine {
    type Target = View;

    fn deref(&self) -> &View {
        &self.view
    }
}

impl DerefMut for Engine {
    fn deref_mut(&mut self) -> &mut View {
        &mut self.view
    }
}

/// Every contact and account with its timeline and trait history: what an
/// engine starts from, read from the store ([`Subjects::load`]) or from a
/// snapshot ([`crate::snapshot`]).
#[derive(Debug, Default)]
pub struct Subjects(pub(crate) State);

impl Subjects {
    /// Reads every subject from the store, keeping only the `keep`
    /// properties of each event.
    pub fn load(store: &dyn Store, keep: PropertyKeys) -> Result<Self, StoreError> {
        State::load(store, Some(keep), None).map(Self)
    }

    /// [`Subjects::load`] from a read of the whole store shared with other
    /// passes ([`crate::event_pages::read_beside`], with at least the
    /// `keep` properties and `context.page`).
    pub fn load_pages(
        store: &dyn Store,
        keep: PropertyKeys,
        pages: crate::event_pages::PageReceiver,
    ) -> Result<Self, StoreError> {
        State::load_pages(store, Some(keep), None, pages).map(Self)
    }

    /// No subject yet (an empty store), keeping the `keep` properties of
    /// the events applied later.
    pub fn empty(keep: PropertyKeys) -> Self {
        Self(State::empty(keep))
    }

    /// Applies what the ingest writer committed (its
    /// [`crate::ingest::CommitListener`] sees the same writes the engine
    /// applies while serving).
    pub fn apply(&mut self, ops: &[WriteOp]) {
        self.0.apply(ops);
    }

    /// The highest event sequence number applied.
    pub fn position(&self) -> i64 {
        self.0.position()
    }

    /// The event properties kept (`None`: all).
    pub fn kept_properties(&self) -> Option<&PropertyKeys> {
        self.0.kept_properties()
    }
}

/// See [`Engine::definition_change`].
pub(super) struct DefinitionChange {
    pub(super) changed: DefSet,
    pub(super) unchanged: DefSet,
    pub(super) touched_kinds: HashSet<SubjectKind>,
}

/// How [`Engine::load_with`] starts.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Score thresholds whose crossings are recorded as changes.
    pub watches: Vec<ScoreWatch>,
    /// On a first start (no checkpoint) with stored events, record the
    /// membership and score history at its true instants (the server does;
    /// one-shot evaluations like `eval` do not need it).
    pub backfill_history: bool,
    /// The recorded history, when the caller read it already (beside the
    /// snapshot, on a thread of its own); else the start reads it.
    pub recorded: Option<Recorded>,
}

impl View {
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The definitions, to keep beyond this view.
    pub fn shared_rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.rules)
    }

    /// The highest event sequence number applied: what a snapshot of this
    /// engine covers.
    pub fn position(&self) -> i64 {
        self.state.position()
    }

    /// The time of the oldest behavior event held (what retention left).
    pub fn oldest_event(&self) -> Option<Millis> {
        self.state
            .contacts
            .values()
            .filter_map(|c| c.timeline.iter().next().map(|e| e.time))
            .min()
    }

    /// The event properties held in memory (`None`: all): what the
    /// definitions read, plus what drafts and reports asked for since.
    pub fn kept_properties(&self) -> Option<&PropertyKeys> {
        self.state.kept_properties()
    }

    /// Whether every property in `keys` is held in memory.
    pub fn keeps(&self, keys: &PropertyKeys) -> bool {
        self.kept_properties().is_none_or(|kept| kept.covers(keys))
    }

    /// Subjects waiting on a timer when this view was taken.
    pub fn pending_timers(&self) -> usize {
        self.pending_timers
    }

    /// The earliest timer deadline when this view was taken.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.next_deadline
    }

    /// The group id of a contact's account.
    fn account_of_contact(&self, id: ContactId) -> Option<Arc<str>> {
        self.state.contacts.get(&id)?.account.clone()
    }

    /// How people name the subject.
    fn label(&self, key: &SubjectKey) -> String {
        match key {
            SubjectKey::Contact(id) => self
                .state
                .contacts
                .get(id)
                .map(|c| c.label.clone())
                .unwrap_or_else(|| format!("contact-{id}")),
            SubjectKey::Account(group_id) => group_id.to_string(),
        }
    }

    /// What switching to `rules` changes: the definitions to evaluate, those
    /// whose values stay, and the kinds of subject touched (a definition of
    /// theirs changed, was added or was dropped).
    pub(super) fn definition_change(&self, rules: &RuleSet) -> DefinitionChange {
        let changed = rules.changed_since(&self.rules);
        let unchanged: DefSet = rules
            .order()
            .iter()
            .map(|d| (d.kind, d.name.clone()))
            .filter(|key| !changed.contains(key))
            .collect();
        let touched_kinds: HashSet<SubjectKind> = rules
            .order()
            .iter()
            .filter(|d| changed.contains(&(d.kind, d.name.clone())))
            .map(|d| d.subject)
            .chain(self.rules.order().iter().filter_map(|d| {
                let kept = unchanged.contains(&(d.kind, d.name.clone()));
                (!kept).then_some(d.subject)
            }))
            .collect();
        DefinitionChange {
            changed,
            unchanged,
            touched_kinds,
        }
    }
}

impl Engine {
    /// An engine with no subjects yet.
    pub fn new(rules: Arc<RuleSet>) -> Self {
        Self {
            view: View {
                rules,
                state: State::default(),
                values: CowMap::default(),
                members: Members::default(),
                recent: imbl::Vector::new(),
                health: health::Health::default(),
                pending_timers: 0,
                next_deadline: None,
            },
            timers: Timers::default(),
            fresh: Vec::new(),
            fresh_scores: Vec::new(),
            backfilled: Vec::new(),
            departed: HashMap::new(),
            dropped_levels: Default::default(),
            watches: Vec::new(),
            routed_from: Millis::MIN,
            trackers: SubjectMap::default(),
            purges: Vec::new(),
        }
    }

    /// Loads every subject from the store and brings the recorded
    /// memberships up to `now`: from the last checkpoint, every change is
    /// recorded at its true instant, including those that fell due while the
    /// server was down. [`Engine::take_changes`] hands over what load recorded.
    pub fn load(store: &dyn Store, rules: Arc<RuleSet>, now: Millis) -> Result<Self, StoreError> {
        Self::load_with(store, rules, LoadOptions::default(), now)
    }

    /// [`Engine::load`] with watched thresholds and, on a first start, the
    /// history backfilled (see [`LoadOptions`]).
    pub fn load_with(
        store: &dyn Store,
        rules: Arc<RuleSet>,
        options: LoadOptions,
        now: Millis,
    ) -> Result<Self, StoreError> {
        let subjects = Subjects::load(store, rules.property_keys())?;
        Self::start(store, rules, subjects, options, now, &mut |_, _| {})
    }

    /// An engine over `subjects` with nothing evaluated or recorded yet:
    /// for from-scratch evaluations ([`Engine::evaluate_values`]), which
    /// need neither the recorded history nor timers.
    pub fn with_subjects(rules: Arc<RuleSet>, subjects: Subjects) -> Self {
        let mut engine = Self::new(rules);
        engine.state = subjects.0;
        engine
    }

    /// [`Engine::load_with`] from subjects already loaded (restored from a
    /// snapshot): the store gives only the recorded memberships and scores.
    /// A first start's history walk tells `progress` how many groups (an
    /// account with its contacts, or a contact alone) it walked.
    pub fn start(
        store: &dyn Store,
        rules: Arc<RuleSet>,
        subjects: Subjects,
        options: LoadOptions,
        now: Millis,
        progress: &mut dyn Progress,
    ) -> Result<Self, StoreError> {
        let mut engine = Self::new(rules);
        engine.watches = options.watches;
        engine.state = subjects.0;
        let phase = std::time::Instant::now();
        let Recorded {
            mut history,
            scores,
            checkpoint,
        } = match options.recorded {
            Some(recorded) => recorded,
            None => Recorded::read(store)?,
        };
        let start = checkpoint.unwrap_or(now).min(now);
        let backfill = checkpoint.is_none() && options.backfill_history;
        if backfill {
            let discarded = store.discard_unconfirmed_history()?;
            if discarded > 0 {
                tracing::warn!(
                    rows = discarded,
                    "discarded the history of a first start that stopped before its checkpoint"
                );
            }
            history.clear();
        } else {
            engine.restore_scores(&scores);
        }
        engine.restore(&history);
        tracing::debug!(
            changes = history.len(),
            elapsed_ms = phase.elapsed().as_millis() as u64,
            "recorded memberships and scores restored"
        );
        let phase = std::time::Instant::now();
        // Which side of each threshold the recorded scores were on at the
        // checkpoint: crossings since then are recorded at their instant.
        for values in engine.view.values.values_mut() {
            watches::observe(&engine.watches, values, start);
        }
        engine.drop_undefined(start);
        let gone: Vec<SubjectKey> = engine
            .values
            .keys()
            .filter(|key| !engine.exists(key))
            .cloned()
            .collect();
        for key in gone {
            engine.forget(key, start);
        }
        engine.fresh = if backfill {
            store.begin_history_bulk_write()?;
            let fresh = engine.backfill(now, &|ops| store.apply(ops), progress)?;
            store.end_history_bulk_write()?;
            // The history's rows filled the writer's page cache.
            store.release_write_cache()?;
            fresh
        } else {
            engine.reevaluate_everything(start)?;
            tracing::debug!(
                elapsed_ms = phase.elapsed().as_millis() as u64,
                "every subject evaluated as of the checkpoint"
            );
            // Keep what load recorded for the caller to take (and persist).
            let fresh = engine.process_due(now);
            // Every tracker brought to now (a first start's walkers settle
            // their own as they finish).
            engine.settle_trackers(now);
            fresh
        };
        tracing::debug!(
            elapsed_ms = phase.elapsed().as_millis() as u64,
            "evaluated up to now"
        );
        Ok(engine)
    }

    /// A copy of the current view for readers (O(1): shares everything).
    pub fn view(&mut self) -> View {
        let mut view = self.view.clone();
        view.pending_timers = self.timers.pending();
        view.next_deadline = self.timers.next();
        view
    }

    /// Holds `keys` too, reloading the subjects from the store (the events
    /// this engine applied, no later ones): what definitions, drafts or
    /// reports reading a property no definition read before need. Values,
    /// memberships and timers stay (the events are the same).
    pub fn widen_properties(
        &mut self,
        store: &dyn Store,
        keys: &PropertyKeys,
    ) -> Result<(), StoreError> {
        let Some(kept) = self.kept_properties() else {
            return Ok(());
        };
        if kept.covers(keys) {
            return Ok(());
        }
        let wider = kept.union(keys);
        tracing::info!(
            properties = ?keys.iter().collect::<Vec<_>>(),
            "reloading events from the store to keep more properties"
        );
        self.view.state = State::load(store, Some(wider), Some(self.view.state.position()))?;
        self.trackers.clear();
        Ok(())
    }

    /// Records crossings of these score thresholds from now on (subjects
    /// are compared with their side of each threshold at their next
    /// evaluation).
    pub fn set_watches(&mut self, watches: Vec<ScoreWatch>) {
        self.watches = watches;
    }

    /// Applies one commit's writes and re-evaluates what they touched.
    pub fn apply(&mut self, ops: &[WriteOp], now: Millis) -> Vec<Change> {
        self.forget_deleted(ops, now);
        let touched = self.view.state.apply(ops);
        self.absorb_late(touched.late);
        for (removed, label) in touched.removed {
            self.departed.insert(removed, label);
            self.forget(SubjectKey::Contact(removed), now);
            self.departed.remove(&removed);
        }
        let mut accounts = touched.accounts;
        for id in touched.contacts {
            if let Some(account) = self.account_of_contact(id) {
                accounts.insert(account);
            }
            self.reevaluate(SubjectKey::Contact(id), now);
        }
        for id in accounts {
            self.reevaluate(SubjectKey::Account(id), now);
        }
        self.take_changes()
    }

    /// Lets each tracker take its subject's late events in place, instead
    /// of starting over from the first event at its next evaluation.
    fn absorb_late(&mut self, late: Vec<(SubjectKey, LateInsert)>) {
        let mut by_subject: HashMap<SubjectKey, Vec<LateInsert>> = HashMap::new();
        for (key, edit) in late {
            by_subject.entry(key).or_default().push(edit);
        }
        let plan = self.view.rules.track_plan();
        for (key, edits) in by_subject {
            let Some(tracker) = self.trackers.get_mut(&key) else {
                continue;
            };
            let state = &self.view.state;
            match &key {
                SubjectKey::Contact(id) => {
                    if let Some(contact) = state.contacts.get(id) {
                        tracker.absorb(plan, key.kind(), (&contact.timeline).into(), &edits);
                    }
                }
                SubjectKey::Account(group_id) => {
                    if let Some(account) = state.accounts.get(group_id) {
                        let timelines = state.member_timelines(account);
                        let events = Events::merged(&timelines, account.order.stamp());
                        tracker.absorb(plan, key.kind(), events, &edits);
                    }
                }
            }
        }
    }

    /// Every change recorded since the last call (or since load).
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.fresh)
    }

    /// Every score change recorded since the last call (or since load).
    pub fn take_score_changes(&mut self) -> Vec<ScoreRecord> {
        std::mem::take(&mut self.fresh_scores)
    }

    /// Switches to new definitions. Everything due is fired first, so every
    /// subject's values are valid at `now`; then members of dropped segments
    /// exit, and only the definitions whose meaning changed (and those that
    /// depend on them) are evaluated, for the subjects of their kind.
    pub fn replace_rules(&mut self, rules: Arc<RuleSet>, now: Millis) -> Vec<Change> {
        let mut changes = self.process_due(now);
        let DefinitionChange {
            changed,
            unchanged,
            touched_kinds,
        } = self.definition_change(&rules);
        self.view.health.rules_replaced(self.view.rules.order());
        self.view.rules = rules;
        self.drop_undefined(now);
        if !touched_kinds.is_empty() {
            for key in self.subjects_of(&touched_kinds) {
                let start = self.view.values.get(&key).cloned().unwrap_or_default();
                let plan = Plan::Only {
                    start,
                    changed: &changed,
                    unchanged: &unchanged,
                };
                self.reevaluate_with(key, now, plan);
            }
        }
        changes.extend(self.take_changes());
        changes
    }

    /// Every subject of the given kinds, contacts first (accounts read them).
    fn subjects_of(&self, kinds: &HashSet<SubjectKind>) -> Vec<SubjectKey> {
        let mut keys = Vec::new();
        if kinds.contains(&SubjectKind::Contact) {
            keys.extend(
                self.view
                    .state
                    .contacts
                    .keys()
                    .map(|id| SubjectKey::Contact(*id)),
            );
        }
        if kinds.contains(&SubjectKind::Account) {
            keys.extend(
                self.view
                    .state
                    .accounts
                    .keys()
                    .cloned()
                    .map(SubjectKey::Account),
            );
        }
        keys
    }

    /// Re-evaluates every subject whose deadline is at or before `now`, each at
    /// its exact deadline.
    pub fn process_due(&mut self, now: Millis) -> Vec<Change> {
        // Accounts due at an instant (their own timers, or a member whose
        // events, traits or values they read changed then) are evaluated
        // once, after every contact due then, each with what changed at its
        // members. A member's time-driven changes that its values do not
        // show (a window edge inside a roll-up) are among the account's own
        // next-change instants already.
        let mut accounts: BTreeMap<Arc<str>, MemberChange> = BTreeMap::new();
        let mut instant: Option<Millis> = None;
        loop {
            let next = self.timers.next().filter(|at| *at <= now);
            // The instant's accounts go before anything later is popped:
            // their new deadlines may come first (a window edge before the
            // next event). Deadlines only move forward, so this ends.
            if let Some(current) = instant.filter(|current| next != Some(*current)) {
                self.reevaluate_accounts(&mut accounts, current);
                instant = None;
                continue;
            }
            let Some((at, key)) = self.timers.pop_due(now) else {
                break;
            };
            instant = Some(at);
            match key {
                SubjectKey::Contact(id) => {
                    let mut change = self.run_due(SubjectKey::Contact(id), at, None);
                    let (event, traits) = self.state.contact_inputs_at(id, at);
                    change.traits |= traits;
                    if event || !change.is_empty() {
                        if let Some(account) = self.account_of_contact(id) {
                            accounts.entry(account).or_default().merge(change);
                        }
                    }
                }
                SubjectKey::Account(group_id) => {
                    accounts.entry(group_id).or_default();
                }
            }
        }
        self.take_changes()
    }

    fn reevaluate_accounts(&mut self, accounts: &mut BTreeMap<Arc<str>, MemberChange>, at: Millis) {
        for (group_id, members) in std::mem::take(accounts) {
            self.run_due(SubjectKey::Account(group_id), at, Some(&members));
        }
    }

    /// A subject's timer at `at`: evaluates what it reached, or, when it
    /// reached no definition, lets the values hold and sets the timer
    /// again. Returns what changed of the values its account reads.
    fn run_due(
        &mut self,
        key: SubjectKey,
        at: Millis,
        members: Option<&MemberChange>,
    ) -> MemberChange {
        match self.due_plan(&key, at, members) {
            dirty::Due::Evaluate(plan) => self.reevaluate_with(key, at, plan),
            dirty::Due::Idle { next } => {
                if let Some(values) = self.view.values.get_mut(&key) {
                    values.hold_until(at, next);
                }
                self.timers.schedule(key, next.map(|t| t.max(at + 1)));
                self.view.health.held();
                MemberChange::default()
            }
        }
    }

    /// The earliest instant at which some subject must be re-evaluated.
    pub fn next_deadline(&mut self) -> Option<Millis> {
        self.timers.next()
    }

    pub fn pending_timers(&self) -> usize {
        self.timers.pending()
    }

    /// Re-evaluates a subject.
    fn reevaluate(&mut self, key: SubjectKey, at: Millis) {
        self.reevaluate_with(key, at, Plan::Tracked(None));
    }

    /// Re-evaluates a subject; returns what changed of the values its
    /// account reads (for a contact: the definitions in
    /// [`RuleSet::read_by_accounts`]; `everything` when it is new or gone).
    fn reevaluate_with(&mut self, key: SubjectKey, at: Millis, plan: Plan<'_>) -> MemberChange {
        let started = self.view.health.times_next().then(std::time::Instant::now);
        let alone: Vec<String> = match &plan {
            Plan::Everything | Plan::Tracked(_) => Vec::new(),
            Plan::Only { changed, .. } => self
                .rules
                .order()
                .iter()
                .filter(|d| d.subject == key.kind() && changed.contains(&(d.kind, d.name.clone())))
                .map(|d| d.name.to_string())
                .collect(),
        };
        let plan_was_partial = matches!(plan, Plan::Only { .. });
        let Some(mut values) = self.compute(&key, at, plan) else {
            self.forget(key, at);
            return MemberChange {
                everything: true,
                ..MemberChange::default()
            };
        };
        watches::observe(&self.watches, &mut values, at);
        let computed = values
            .own
            .as_mut()
            .map(|own| std::mem::take(&mut own.evaluated));
        match plan_was_partial {
            false => self.view.health.evaluated(
                key.kind(),
                started.map(|started| started.elapsed()),
                self.view.rules.order(),
                computed.as_deref(),
            ),
            true => alone
                .iter()
                .for_each(|name| self.view.health.evaluated_alone(name)),
        }
        // Taken, not removed: the new values go back in the same place.
        let previous = self.view.values.get_mut(&key).map(std::mem::take);
        let change = match key {
            SubjectKey::Contact(_) => {
                dirty::read_by_accounts_change(&self.view.rules, previous.as_ref(), &values)
            }
            SubjectKey::Account(_) => MemberChange::default(),
        };
        self.record_changes(&key, &previous.unwrap_or_default(), &values, at);
        let next = values.next_change.map(|t| t.max(at + 1));
        self.timers.schedule(key.clone(), next);
        self.view.values.set(key, values);
        change
    }

    /// Evaluates a subject at `at`, its tracker advanced to `at` first.
    fn compute(&mut self, key: &SubjectKey, at: Millis, plan: Plan<'_>) -> Option<Values> {
        let plan_of_rules = self.view.rules.track_plan();
        match key {
            SubjectKey::Contact(id) => {
                let contact = self.view.state.contacts.get(id)?;
                let tracker = self.trackers.entry(key.clone()).or_default();
                let events = (&contact.timeline).into();
                tracker.advance(plan_of_rules, SubjectKind::Contact, events, at);
                let account = self.view.state.account_of(contact);
                Some(evaluate::evaluate_contact(
                    &self.view.rules,
                    contact,
                    account,
                    at,
                    plan,
                    Some(tracker),
                ))
            }
            SubjectKey::Account(group_id) => {
                let account = self.view.state.accounts.get(group_id)?;
                // Its members in id order (the set is sorted), looked up
                // once: their timelines are the account's events.
                let contacts: Vec<(ContactId, &ContactState)> = account
                    .contacts
                    .iter()
                    .filter_map(|id| Some((*id, self.view.state.contacts.get(id)?)))
                    .collect();
                let timelines: Vec<&Timeline> = contacts.iter().map(|(_, c)| &c.timeline).collect();
                let events = Events::merged(&timelines, account.order.stamp());
                self.trackers.entry(key.clone()).or_default().advance(
                    plan_of_rules,
                    SubjectKind::Account,
                    events,
                    at,
                );
                let empty = Values::default();
                // An evaluation of none of the definitions reading the
                // contacts (a login reaching `exists(any)`) skips them.
                let needs_members = match &plan {
                    Plan::Tracked(Some(dirty)) => {
                        dirty::may_read_members(&self.view.rules, &dirty.flags)
                    }
                    _ => true,
                };
                let members: Vec<_> = match needs_members {
                    true => contacts
                        .iter()
                        .map(|(id, contact)| {
                            let member = SubjectKey::Contact(*id);
                            (
                                *contact,
                                self.view.values.get(&member).unwrap_or(&empty),
                                self.trackers.get(&member).map(Box::as_ref),
                            )
                        })
                        .collect(),
                    false => Vec::new(),
                };
                let on = evaluate::AccountOn {
                    events,
                    tracker: self.trackers.get(key).map(Box::as_ref),
                };
                Some(evaluate::evaluate_account_on(
                    &self.view.rules,
                    group_id,
                    account,
                    &members,
                    on,
                    at,
                    plan,
                ))
            }
        }
    }

    /// A subject that no longer exists (merged away) leaves everything.
    fn forget(&mut self, key: SubjectKey, at: Millis) {
        let previous = self.view.values.remove(&key).unwrap_or_default();
        self.record_changes(&key, &previous, &Values::default(), at);
        self.timers.schedule(key.clone(), None);
        self.trackers.remove(&key);
    }

    /// Records how `values` differ from the subject's `previous` ones:
    /// memberships, score forms, threshold crossings, tier levels.
    fn record_changes(&mut self, key: &SubjectKey, previous: &Values, values: &Values, at: Millis) {
        let differences = values.differences(previous);
        for (def, name, was, is) in &differences {
            let member = |slot: &Slot| matches!(slot, Slot::Segment(true));
            let is = member(is);
            if *def != DefKind::Segment || member(was) == is {
                continue;
            }
            let members = self.view.members.entry(name.to_string()).or_default();
            if is {
                members.insert(key.clone(), at);
            } else {
                members.remove(key);
            }
            let change = Transition::membership(is);
            self.push_change(key, at, change, DefKind::Segment, name, None);
        }
        self.record_scores(key, &differences, at);
        self.record_crossings(key, previous, values, at);
        for (_, tier, was, _) in &differences {
            if let Slot::Tier(level) = was {
                let level = Some(level.to_string());
                self.push_change(key, at, Transition::Exited, DefKind::Tier, tier, level);
            }
        }
        for (_, tier, _, is) in &differences {
            if let Slot::Tier(level) = is {
                let level = Some(level.to_string());
                self.push_change(key, at, Transition::Entered, DefKind::Tier, tier, level);
            }
        }
    }

    fn push_change(
        &mut self,
        key: &SubjectKey,
        at: Millis,
        change: Transition,
        kind: DefKind,
        name: &str,
        level: Option<String>,
    ) {
        let id = self.label_departing(key);
        self.view.health.changed(name, at);
        if self.view.recent.len() == RECENT_CHANGES {
            self.view.recent.pop_front();
        }
        let recorded = Change {
            at,
            subject: key.kind(),
            id,
            change,
            definition_kind: kind,
            definition: name.to_owned(),
            level,
            key: key.clone(),
        };
        self.view.recent.push_back(recorded.clone());
        self.fresh.push(recorded);
    }

    /// Records each watched threshold the subject's score crossed. A subject
    /// that left (no values) crosses nothing: it is gone, not cooler.
    fn record_crossings(
        &mut self,
        key: &SubjectKey,
        previous: &Values,
        values: &Values,
        at: Millis,
    ) {
        if values.above.is_empty() {
            return;
        }
        let crossed: Vec<(Transition, Arc<str>, String)> = self
            .watches
            .iter()
            .enumerate()
            .filter_map(|(index, watch)| {
                let was = previous.above.get(index).copied().unwrap_or(false);
                let is = values.above.get(index).copied().unwrap_or(false);
                let change = if is {
                    Transition::CrossedAbove
                } else {
                    Transition::CrossedBelow
                };
                (was != is).then(|| (change, watch.score.clone(), watch.label()))
            })
            .collect();
        for (change, score, threshold) in crossed {
            self.push_change(key, at, change, DefKind::Score, &score, Some(threshold));
        }
    }

    /// Records each score whose closed form changed (decay alone never
    /// changes the form, so a decaying score is recorded once per event).
    fn record_scores(&mut self, key: &SubjectKey, differences: &[Difference<'_>], at: Millis) {
        for (_, name, was, is) in differences {
            let Slot::Score(score) = is else {
                continue;
            };
            if matches!(was, Slot::Score(before) if before.same_form(score)) {
                continue;
            }
            let label = self.label_departing(key);
            self.fresh_scores.push(ScoreRecord {
                at,
                subject: key.clone(),
                label,
                score: name.to_string(),
                value: score.at(at),
                constant: score.constant,
                decaying: score.decaying,
                anchor: score.anchor,
                half_life: score.half_life,
            });
        }
    }

    /// The subject's label, also for a contact being merged away.
    fn label_departing(&self, key: &SubjectKey) -> String {
        match key {
            SubjectKey::Contact(id) if !self.view.state.contacts.contains_key(id) => self
                .departed
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("contact-{id}")),
            _ => self.label(key),
        }
    }
}

mod queries;

pub use queries::{Membership, SubjectValues};

#[cfg(test)]
mod tests;
