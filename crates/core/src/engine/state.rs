//! The engine's in-memory picture of every subject: each contact's behavior
//! timeline and trait history, each account's traits and member contacts.
//! Kept equal to the store by applying the same `WriteOp`s it committed.
//!
//! Invariant: only live contacts are present; a merged-away contact's events
//! and traits live on in its survivor.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use bellwether_rules::{
    Event, EventKind, EventShape, LateInsert, MergedOrder, PropertyKeys, Timeline, TraitSharing,
    Traits,
};
use serde_json::Value;

use parking_lot::Mutex;

use super::cow_map::CowMap;
use super::json_table::JsonTable;
use super::shape_table::ShapeTable;
use crate::event_pages::{self, PageReceiver};
use crate::message::{ContactId, MessageKind, StoredEvent};
use crate::names::Names;
use crate::store::{IdKind, IdentitySnapshot, Store, StoreError, WriteOp};
use crate::subject::SubjectKey;

#[derive(Debug, Default, Clone)]
pub(crate) struct ContactState {
    /// Primary user id, else first anonymous id: how people name the contact.
    pub(crate) label: String,
    pub(crate) has_user_id: bool,
    /// When the label's identifier was first seen: of its identifiers, the
    /// label is the earliest user id, else the earliest anonymous id (ties
    /// by value), whatever order they arrived in.
    pub(crate) label_since: i64,
    pub(crate) timeline: Timeline,
    pub(crate) traits: Traits,
    pub(crate) account: Option<Arc<str>>,
    /// Times of its stored messages that are not behavior (identify, group,
    /// alias), sorted: with the timeline, they say when it was first seen,
    /// also after a message moved away.
    pub(crate) quiet: Vec<i64>,
}

impl ContactState {
    /// Timestamp of its earliest stored message (behavior or not): from when
    /// reports and backtests consider it known.
    pub(crate) fn first_seen(&self) -> Option<i64> {
        let behavior = self.timeline.iter().next().map(|event| event.time);
        earlier(behavior, self.quiet.first().copied())
    }

    /// Whether an identifier ranks before the label (see `label_since`).
    fn named_better_by(&self, user: bool, since: i64, value: &str) -> bool {
        self.label.is_empty()
            || (!user, since, value) < (!self.has_user_id, self.label_since, self.label.as_str())
    }

    fn add_quiet(&mut self, at: i64) {
        let index = self.quiet.partition_point(|t| *t <= at);
        self.quiet.insert(index, at);
    }

    fn remove_quiet(&mut self, at: i64) {
        if let Some(index) = self.quiet.iter().position(|t| *t == at) {
            self.quiet.remove(index);
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AccountState {
    pub(crate) traits: Traits,
    pub(crate) contacts: BTreeSet<ContactId>,
    /// Its events are its members' timelines read as one
    /// ([`State::member_timelines`]); this tells when their merge was edited
    /// other than by appending.
    pub(crate) order: MergedOrder,
}

/// Subjects touched by a batch of writes, to re-evaluate.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    pub(crate) contacts: BTreeSet<ContactId>,
    pub(crate) accounts: BTreeSet<Arc<str>>,
    /// Contacts merged away, with their label: their memberships end.
    pub(crate) removed: Vec<(ContactId, String)>,
    /// Events inserted behind the newest of a subject's timeline, in the
    /// order they were inserted: its tracker takes them in place.
    pub(crate) late: Vec<(SubjectKey, LateInsert)>,
}

/// Cloning is O(1) and shares everything (copy on write): the engine
/// publishes clones as the readers' view.
#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    pub(crate) contacts: CowMap<ContactId, ContactState>,
    pub(crate) accounts: CowMap<Arc<str>, AccountState>,
    /// Only the writer interns; views share it to list event names.
    shared: Arc<Mutex<Shared>>,
    /// The event properties kept in memory (the definitions' reads);
    /// `None` keeps them all.
    keep: Option<PropertyKeys>,
    /// The highest event sequence number applied.
    position: i64,
}

/// Page fields that rules read from `context.page` when the properties lack
/// them.
const PAGE_FIELDS: [&str; 5] = ["path", "url", "title", "referrer", "search"];

/// Values many events repeat, kept once: event names, the (projected)
/// properties, page contexts and trait values ([`JsonTable`]), the shapes
/// they make together ([`ShapeTable`]) and trait keys.
#[derive(Debug, Default)]
struct Shared {
    names: Names,
    /// Properties, page contexts and trait values.
    objects: JsonTable,
    shapes: ShapeTable,
    trait_keys: HashSet<Arc<str>>,
    /// Entries left by the last sweep: the next one runs when the tables
    /// have grown to twice as many.
    kept_at_sweep: usize,
}

/// Tables smaller than this are not swept for growth.
const SWEEP_FLOOR: usize = 4096;

impl Shared {
    /// The one shared shape of these (interned) parts.
    fn shape(
        &mut self,
        kind: EventKind,
        name: Arc<str>,
        properties: Arc<Value>,
        context: Option<Arc<Value>>,
    ) -> Arc<EventShape> {
        // The parts are held here: a sweep cannot free (and so reuse) the
        // addresses the table finds shapes by.
        self.sweep_when_grown();
        self.shapes.intern(kind, name, properties, context)
    }

    /// The one shared copy of an object with these keys and values.
    fn object(&mut self, object: serde_json::Map<String, Value>) -> Arc<Value> {
        self.sweep_when_grown();
        self.objects.intern(Value::Object(object))
    }

    /// Drops the shapes, objects and trait keys nothing holds any more (a
    /// deleted contact's, those of events retention expired): the tables
    /// follow what is held, not everything ever seen, and a deleted
    /// person's properties and traits leave memory. Shapes go first, since
    /// a shape holds its objects; a published view still holding an event
    /// keeps its parts until a later sweep.
    fn sweep(&mut self) {
        self.shapes.retain_held();
        self.objects.retain_held();
        self.trait_keys.retain(|key| Arc::strong_count(key) > 1);
        self.kept_at_sweep = self.held();
    }

    fn held(&self) -> usize {
        self.shapes.len() + self.objects.len() + self.trait_keys.len()
    }

    /// Sweeps when the tables doubled since the last sweep: each entry is
    /// checked a bounded number of times per entry added.
    fn sweep_when_grown(&mut self) {
        let held = self.held();
        if held >= SWEEP_FLOOR && held >= 2 * self.kept_at_sweep {
            self.sweep();
        }
    }
}

/// Trait keys and values are shared like event properties (and swept with
/// them).
impl TraitSharing for Shared {
    fn key(&mut self, key: &str) -> Arc<str> {
        if let Some(known) = self.trait_keys.get(key) {
            return Arc::clone(known);
        }
        self.sweep_when_grown();
        let key: Arc<str> = Arc::from(key);
        self.trait_keys.insert(Arc::clone(&key));
        key
    }

    fn value(&mut self, value: &Value) -> Arc<Value> {
        self.sweep_when_grown();
        self.objects.intern_ref(value)
    }
}

/// The entries of `object` whose key `keep` accepts.
fn kept(
    object: &serde_json::Map<String, Value>,
    keep: impl Fn(&str) -> bool,
) -> serde_json::Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| keep(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

impl State {
    /// The account a contact belongs to, if it is known.
    pub(crate) fn account_of(&self, contact: &ContactState) -> Option<&AccountState> {
        self.accounts.get(contact.account.as_ref()?)
    }

    /// An account's earliest message: the earliest of its contacts'.
    pub(crate) fn account_first_seen(&self, account: &AccountState) -> Option<i64> {
        account
            .contacts
            .iter()
            .filter_map(|id| self.contacts.get(id)?.first_seen())
            .min()
    }

    /// The timelines of an account's members, in member order: its events
    /// are these merged ([`bellwether_rules::Events::merged`] with the account's stamp).
    pub(crate) fn member_timelines(&self, account: &AccountState) -> Vec<&Timeline> {
        member_timelines(&self.contacts, &account.contacts)
    }

    /// Whether a contact has an event, and whether a trait change, at `at`:
    /// what its account's definitions may read of it besides its values.
    pub(crate) fn contact_inputs_at(&self, id: ContactId, at: i64) -> (bool, bool) {
        self.contacts.get(&id).map_or((false, false), |contact| {
            let since = at.saturating_sub(1);
            (
                contact.timeline.next_event_after(since) == Some(at),
                contact.traits.next_change_after(since) == Some(at),
            )
        })
    }

    /// The event properties kept in memory (`None`: all of them).
    pub(crate) fn kept_properties(&self) -> Option<&PropertyKeys> {
        self.keep.as_ref()
    }

    /// The highest event sequence number applied.
    pub(crate) fn position(&self) -> i64 {
        self.position
    }

    /// Lets go of the interned properties, contexts, shapes and trait keys
    /// and values nothing holds any more (after deleting contacts or
    /// expiring events).
    pub(crate) fn sweep_interned(&self) {
        self.shared.lock().sweep();
    }

    /// Shares the keys and values of `traits` (decoded from a snapshot)
    /// with every other subject's.
    pub(crate) fn share_traits(&self, traits: &mut Traits) {
        traits.share(&mut *self.shared.lock());
    }

    /// How many objects, shapes and trait keys are interned.
    #[cfg(test)]
    pub(crate) fn interned(&self) -> (usize, usize, usize) {
        let shared = self.shared.lock();
        (
            shared.objects.len(),
            shared.shapes.len(),
            shared.trait_keys.len(),
        )
    }

    /// Every event name seen in a behavior event (track, page, screen).
    pub(crate) fn event_names(&self) -> Vec<Arc<str>> {
        self.shared.lock().names.iter().cloned().collect()
    }

    /// Rebuilds the picture from the store: identities, accounts, then every
    /// event in commit order (identify and group traits are replayed from
    /// their messages, exactly as the writer derived the trait history).
    /// Only the `keep` properties of events are kept (`None`: all); with
    /// `upto`, events after that sequence number are left out (the engine
    /// applies them from the commit it has not seen yet). The events are
    /// read and decoded on a thread of their own while this one files them.
    pub(crate) fn load(
        store: &dyn Store,
        keep: Option<PropertyKeys>,
        upto: Option<i64>,
    ) -> Result<Self, StoreError> {
        let property = |key: &str| keep.as_ref().is_none_or(|k| k.contains(key));
        let page_context = |key: &str| key == "page";
        event_pages::read_beside(store, &property, &page_context, upto, |[pages]| {
            Self::load_pages(store, keep.clone(), upto, pages)
        })
    }

    /// [`State::load`] from pages another thread reads (with at least the
    /// `keep` properties and `context.page`, up to `upto`): a start that
    /// reads the whole store shares one read with the identity replay.
    pub(crate) fn load_pages(
        store: &dyn Store,
        keep: Option<PropertyKeys>,
        upto: Option<i64>,
        pages: PageReceiver,
    ) -> Result<Self, StoreError> {
        let snapshot = store.load_identity()?;
        let mut state = Self::from_snapshot(&snapshot);
        state.keep = keep;
        // Stored events are in commit order, not time order (late events):
        // each timeline is built once, sorted, instead of event by event.
        let mut timelines: HashMap<ContactId, Vec<Event>> = HashMap::new();
        let mut quiet: HashMap<ContactId, Vec<i64>> = HashMap::new();
        for page in pages {
            for event in page.iter() {
                state.position = state.position.max(event.seq);
                let live = event
                    .contact_id
                    .filter(|contact| state.contacts.contains_key(contact));
                if let Some(contact) = live {
                    match state.behavior_event(event) {
                        Some(behavior) => timelines.entry(contact).or_default().push(behavior),
                        None => quiet
                            .entry(contact)
                            .or_default()
                            .push(event.message.timestamp),
                    }
                }
                state.add_event_traits(event);
            }
        }
        // Enrichment's trait changes come from no message.
        for row in store.enriched_traits()? {
            if upto.is_some_and(|upto| row.seq > upto) {
                continue;
            }
            let traits = serde_json::Map::from_iter([(row.key, row.value)]);
            state.set_account_traits(
                &row.group_id,
                &traits,
                (row.at, row.seq),
                &mut Touched::default(),
            );
        }
        for (contact, events) in timelines {
            if let Some(contact) = state.contacts.get_mut(&contact) {
                contact.timeline = Timeline::from_events(events);
            }
        }
        for (contact, mut times) in quiet {
            if let Some(contact) = state.contacts.get_mut(&contact) {
                times.sort_unstable();
                contact.quiet = times;
            }
        }
        Ok(state)
    }

    /// No subject yet, keeping the `keep` properties of the events
    /// applied later.
    pub(crate) fn empty(keep: PropertyKeys) -> Self {
        Self {
            keep: Some(keep),
            ..Self::default()
        }
    }

    /// An empty state sharing these names and objects (a snapshot's),
    /// having applied events up to `position`.
    pub(crate) fn restored(
        keep: Option<PropertyKeys>,
        position: i64,
        names: &[Arc<str>],
        objects: &[Arc<Value>],
    ) -> Self {
        let mut table = JsonTable::with_capacity(objects.len());
        for object in objects {
            table.insert(Arc::clone(object));
        }
        let shared = Shared {
            names: names.iter().cloned().collect(),
            objects: table,
            shapes: ShapeTable::default(),
            trait_keys: HashSet::new(),
            kept_at_sweep: objects.len(),
        };
        Self {
            shared: Arc::new(Mutex::new(shared)),
            keep,
            position,
            ..Self::default()
        }
    }

    /// An event of a restored state, its shape shared with every other
    /// event of the same parts (taken from the names and objects the state
    /// was restored with).
    pub(crate) fn restored_event(
        &self,
        (time, seq): (i64, u64),
        kind: EventKind,
        name: Arc<str>,
        properties: Arc<Value>,
        context: Option<Arc<Value>>,
    ) -> Event {
        let shape = self.shared.lock().shape(kind, name, properties, context);
        Event::shaped(time, seq, shape)
    }

    fn from_snapshot(snapshot: &IdentitySnapshot) -> Self {
        let mut state = Self::default();
        for (id, merged_into) in &snapshot.contacts {
            if merged_into.is_none() {
                state.contacts.insert(*id, ContactState::default());
            }
        }
        let mut rows: Vec<_> = snapshot.identities.iter().collect();
        rows.sort_by(|a, b| (a.first_seen, &a.value).cmp(&(b.first_seen, &b.value)));
        for row in rows {
            state.name_contact(row.contact, row.kind, &row.value, row.first_seen);
        }
        for (group_id, _) in &snapshot.accounts {
            state.accounts.get_or_default(Arc::from(group_id.as_str()));
        }
        for (contact, group_id, _, _) in &snapshot.contact_accounts {
            state.link_account(*contact, group_id, &mut Touched::default());
        }
        state
    }

    /// Applies one commit's writes; returns what needs re-evaluation.
    pub(crate) fn apply(&mut self, ops: &[WriteOp]) -> Touched {
        let mut touched = Touched::default();
        for op in ops {
            self.apply_one(op, &mut touched);
        }
        touched
    }

    fn apply_one(&mut self, op: &WriteOp, touched: &mut Touched) {
        match op {
            WriteOp::NewContact { id, .. } => {
                self.contacts.get_or_default(*id);
            }
            WriteOp::Identity {
                kind,
                value,
                contact,
                first_seen,
            } => self.name_contact(*contact, *kind, value, *first_seen),
            WriteOp::Merge { from, into, .. } => self.merge(*from, *into, touched),
            WriteOp::Rehome {
                seq,
                from,
                to,
                at,
                traits,
            } => self.rehome(*seq, (*from, Some(*to)), *at, traits, touched),
            WriteOp::Detach {
                seq,
                from,
                at,
                traits,
            } => self.rehome(*seq, (*from, None), *at, traits, touched),
            WriteOp::Event(event) => self.add_event(event, touched),
            WriteOp::ContactTraits {
                contact,
                traits,
                at,
                seq,
            } => {
                if let Some(state) = self.contacts.get_mut(contact) {
                    let sharing = &mut *self.shared.lock();
                    state.traits.set_all(*at, *seq as u64, traits, sharing);
                    touched.contacts.insert(*contact);
                }
            }
            WriteOp::NewAccount { group_id, .. } => {
                self.accounts
                    .get_or_default(Arc::from(group_id.as_str()));
            }
            WriteOp::AccountTraits {
                group_id,
                traits,
                at,
                seq,
            }
            | WriteOp::AccountEnrichment {
                group_id,
                changes: traits,
                at,
                seq,
                ..
            } => self.set_account_traits(group_id, traits, (*at, *seq), touched),
            WriteOp::ContactAccount {
                contact, group_id, ..
            } => self.link_account(*contact, group_id, touched),
            WriteOp::ExpireEvents { before, .. } => self.expire_before(*before, touched),
            WriteOp::Rejection(_)
            | WriteOp::PruneRejections { .. }
            | WriteOp::Membership(_)
            | WriteOp::Score(_)
            | WriteOp::ScoreRun(_)
            | WriteOp::Checkpoint { .. }
            | WriteOp::Outbox(_)
            | WriteOp::DigestSent(_)
            | WriteOp::Assign(_)
            | WriteOp::BackfilledAssignment(_)
            | WriteOp::Unassign { .. }
            // Deletions are applied by `engine::forget` before the rest.
            | WriteOp::DeleteContact(_)
            | WriteOp::PurgeContactRecords { .. }
            | WriteOp::Unsuppress { .. }
            | WriteOp::EnrichmentAnswer { .. } => {}
        }
    }

    fn set_account_traits(
        &mut self,
        group_id: &str,
        traits: &serde_json::Map<String, Value>,
        (at, seq): (i64, i64),
        touched: &mut Touched,
    ) {
        if traits.is_empty() {
            return;
        }
        let key: Arc<str> = Arc::from(group_id);
        let account = self.accounts.get_or_default(key.clone());
        account
            .traits
            .set_all(at, seq as u64, traits, &mut *self.shared.lock());
        // Contacts read `account.x`: they change with their account.
        touched.contacts.extend(account.contacts.iter().copied());
        touched.accounts.insert(key);
    }

    /// Forgets every behavior event before `before` (retention), at the
    /// first step of a pass: the store deletes exactly those (track, page
    /// and screen events before the cutoff) over the pass's steps, and each
    /// timeline drops its prefix once instead of once per step.
    fn expire_before(&mut self, before: i64, touched: &mut Touched) {
        // Only the contacts with something to drop are edited (copied, when
        // a published view shares them).
        let expiring: Vec<ContactId> = self
            .contacts
            .iter()
            .filter(|(_, c)| c.timeline.iter().next().is_some_and(|e| e.time < before))
            .map(|(id, _)| *id)
            .collect();
        let mut dropped = false;
        for id in expiring {
            let Some(contact) = self.contacts.get_mut(&id) else {
                continue;
            };
            if contact.timeline.drop_before(before) == 0 {
                continue;
            }
            dropped = true;
            touched.contacts.insert(id);
            if let Some(account) = &contact.account {
                if let Some(kept) = self.accounts.get_mut(account) {
                    kept.order.edited();
                }
                touched.accounts.insert(account.clone());
            }
        }
        if dropped {
            self.sweep_interned();
        }
    }

    fn name_contact(&mut self, contact: ContactId, kind: IdKind, value: &str, since: i64) {
        let Some(state) = self.contacts.get_mut(&contact) else {
            return;
        };
        let user = match kind {
            IdKind::User => true,
            IdKind::Anonymous => false,
            IdKind::Email => return,
        };
        if state.named_better_by(user, since, value) {
            state.label = value.to_owned();
            state.has_user_id = user;
            state.label_since = since;
        }
    }

    fn add_event(&mut self, stored: &StoredEvent, touched: &mut Touched) {
        // Every applied message counts, contact or not: a snapshot's tail
        // starts after it.
        self.position = self.position.max(stored.seq);
        let Some(contact) = stored.contact_id else {
            return;
        };
        if !self.contacts.contains_key(&contact) {
            return;
        }
        touched.contacts.insert(contact);
        let Some(event) = self.behavior_event(stored) else {
            if let Some(state) = self.contacts.get_mut(&contact) {
                state.add_quiet(stored.message.timestamp);
            }
            return;
        };
        let account = self.contacts.get(&contact).and_then(|c| c.account.clone());
        if let Some(account) = account {
            touched.accounts.insert(account.clone());
            if let Some(kept) = self.accounts.get_mut(&account) {
                let contacts = &self.contacts;
                let AccountState {
                    order,
                    contacts: members,
                    ..
                } = kept;
                let late = order.insert(event.key(), || member_timelines(contacts, members));
                if let Some((before, after)) = late {
                    let edit = LateInsert {
                        event: event.clone(),
                        before,
                        after,
                    };
                    touched.late.push((SubjectKey::Account(account), edit));
                }
            }
        }
        let Some(state) = self.contacts.get_mut(&contact) else {
            return;
        };
        let key = SubjectKey::Contact(contact);
        insert_noting_late(&mut state.timeline, event, key, &mut touched.late);
    }

    /// The timeline event of a stored `track`/`page`/`screen` message
    /// (`None` for identify, group and alias: they are not behavior).
    fn behavior_event(&mut self, stored: &StoredEvent) -> Option<Event> {
        let message = &stored.message;
        let kind = match message.kind {
            MessageKind::Track => EventKind::Track,
            MessageKind::Page => EventKind::Page,
            MessageKind::Screen => EventKind::Screen,
            _ => return None,
        };
        let mut shared = self.shared.lock();
        let name = shared.names.intern(message.event.as_deref().unwrap_or(""));
        let reads = |key: &str| self.keep.as_ref().is_none_or(|keep| keep.contains(key));
        let properties = kept(&message.properties, reads);
        // Rules read only `context.page`, and only the page fields the
        // properties lack (a rule falls back to it). SDKs send both (the
        // page's path and URL in each): kept twice, they would double the
        // memory of every page event whose path or URL is new.
        let page = match (kind, message.context.get("page")) {
            (EventKind::Page, Some(Value::Object(page))) => {
                let fields = kept(page, |key| {
                    PAGE_FIELDS.contains(&key) && reads(key) && !properties.contains_key(key)
                });
                (!fields.is_empty()).then_some(fields)
            }
            _ => None,
        };
        let properties = shared.object(properties);
        let context = page.map(|fields| {
            let mut context = serde_json::Map::new();
            context.insert("page".to_owned(), Value::Object(fields));
            shared.object(context)
        });
        let shape = shared.shape(kind, name, properties, context);
        Some(Event::shaped(message.timestamp, stored.seq as u64, shape))
    }

    /// Replays the trait writes of an identify/group message (start-up only).
    fn add_event_traits(&mut self, stored: &StoredEvent) {
        let message = &stored.message;
        if message.traits.is_empty() {
            return;
        }
        match (message.kind, stored.contact_id, &message.group_id) {
            (MessageKind::Identify, Some(contact), _) => {
                if let Some(state) = self.contacts.get_mut(&contact) {
                    state.traits.set_all(
                        message.timestamp,
                        stored.seq as u64,
                        &message.traits,
                        &mut *self.shared.lock(),
                    );
                }
            }
            (MessageKind::Group, _, Some(group_id)) => {
                let account = self.accounts.get_or_default(Arc::from(group_id.as_str()));
                account.traits.set_all(
                    message.timestamp,
                    stored.seq as u64,
                    &message.traits,
                    &mut *self.shared.lock(),
                );
            }
            _ => {}
        }
    }

    fn link_account(&mut self, contact: ContactId, group_id: &str, touched: &mut Touched) {
        let key: Arc<str> = Arc::from(group_id);
        let Some(state) = self.contacts.get_mut(&contact) else {
            return;
        };
        // A link changing only how it was made (a `group` call confirming
        // a domain's account) changes no membership.
        if let Some(previous) = state.account.replace(key.clone()) {
            if previous != key {
                if let Some(old) = self.accounts.get_mut(&previous) {
                    old.contacts.remove(&contact);
                    old.order.edited();
                }
                touched.accounts.insert(previous);
            }
        }
        let account = self.accounts.get_or_default(key.clone());
        if account.contacts.insert(contact) {
            account.order.edited();
        }
        touched.contacts.insert(contact);
        touched.accounts.insert(key);
    }

    /// Moves one message (its timeline event and the traits it set) from
    /// one contact to another. Both timelines are edited other than by
    /// appending, so their trackers start over, and their accounts'.
    fn rehome(
        &mut self,
        seq: i64,
        (from, to): (ContactId, Option<ContactId>),
        at: i64,
        traits: &serde_json::Map<String, Value>,
        touched: &mut Touched,
    ) {
        let mut moved = Vec::new();
        if let Some(state) = self.contacts.get_mut(&from) {
            state.timeline.retain(|event| {
                let keep = event.seq != seq as u64;
                if !keep {
                    moved.push(event.clone());
                }
                keep
            });
            state.traits.unset_all(at, seq as u64, traits);
            if moved.is_empty() {
                state.remove_quiet(at);
            }
        }
        if let Some(to) = to {
            if let Some(state) = self.contacts.get_mut(&to) {
                if moved.is_empty() {
                    state.add_quiet(at);
                }
                for event in moved {
                    state.timeline.insert(event);
                }
                let sharing = &mut *self.shared.lock();
                state.traits.set_all(at, seq as u64, traits, sharing);
            }
        }
        for contact in std::iter::once(from).chain(to) {
            let account = self.contacts.get(&contact).and_then(|c| c.account.clone());
            if let Some(account) = account {
                if let Some(state) = self.accounts.get_mut(&account) {
                    state.order.edited();
                }
                touched.accounts.insert(account);
            }
            if self.contacts.contains_key(&contact) {
                touched.contacts.insert(contact);
            }
        }
    }

    fn merge(&mut self, from: ContactId, into: ContactId, touched: &mut Touched) {
        let Some(absorbed) = self.contacts.remove(&from) else {
            return;
        };
        if let Some(account) = &absorbed.account {
            if let Some(state) = self.accounts.get_mut(account) {
                state.contacts.remove(&from);
                state.order.edited();
            }
            touched.accounts.insert(account.clone());
        }
        let absorbed_label = absorbed.label.clone();
        let survivor = self.contacts.get_or_default(into);
        for event in absorbed.timeline.iter() {
            survivor.timeline.insert(event.clone());
        }
        if let Some(account) = survivor.account.clone() {
            if let Some(state) = self.accounts.get_mut(&account) {
                state.order.edited();
            }
        }
        let survivor = self.contacts.get_or_default(into);
        survivor.traits.absorb(&absorbed.traits);
        survivor.quiet.extend(&absorbed.quiet);
        survivor.quiet.sort_unstable();
        if !absorbed.label.is_empty()
            && survivor.named_better_by(absorbed.has_user_id, absorbed.label_since, &absorbed.label)
        {
            survivor.label = absorbed.label;
            survivor.has_user_id = absorbed.has_user_id;
            survivor.label_since = absorbed.label_since;
        }
        let survivor_account = survivor.account.clone();
        match (survivor_account, absorbed.account) {
            (None, Some(account)) => self.link_account(into, &account, touched),
            (Some(account), _) => {
                touched.accounts.insert(account);
            }
            (None, None) => {}
        }
        touched.contacts.remove(&from);
        touched.contacts.insert(into);
        touched.removed.push((from, absorbed_label));
    }
}

/// The timelines of `members` that are live contacts.
fn member_timelines<'s>(
    contacts: &'s CowMap<ContactId, ContactState>,
    members: &BTreeSet<ContactId>,
) -> Vec<&'s Timeline> {
    members
        .iter()
        .filter_map(|id| contacts.get(id))
        .map(|c| &c.timeline)
        .collect()
}

fn earlier(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Inserts an event; one that lands behind the newest is noted as late.
fn insert_noting_late(
    timeline: &mut Timeline,
    event: Event,
    key: SubjectKey,
    late: &mut Vec<(SubjectKey, LateInsert)>,
) {
    // Appending (the usual case) needs no copy of the event.
    if !timeline.is_behind(event.key()) {
        timeline.insert(event);
        return;
    }
    let before = timeline.stamp();
    timeline.insert(event.clone());
    let after = timeline.stamp();
    late.push((
        key,
        LateInsert {
            event,
            before,
            after,
        },
    ));
}
