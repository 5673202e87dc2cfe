//! Identity resolution: which contact a message belongs to, when two contacts
//! become one, and which account a contact belongs to.
//!
//! The graph lives in memory, owned by the single writer thread, and mirrors
//! the store exactly after every commit. It is rebuilt at start-up (and after
//! a failed commit) by replaying the stored messages ([`rebuild`]), which
//! also corrects a store written under older rules.
//!
//! The rules (SPEC §7 "Identity rules"):
//! - a contact never holds two user ids, except through an explicit `alias`
//!   from a previous user id (persons are unions of user ids by alias);
//! - anonymous ids and emails that user-less messages tie together form a
//!   [`cluster`]; a message with a user id *claims* the clusters of its
//!   other identifiers from its timestamp on, and each user-less message of
//!   a cluster belongs to whoever held it at the message's time (the first
//!   claimant before any claim); a link that would join two users is thus
//!   refused and counted ([`IdentityGraph::refused_links`]);
//! - values in `[identity] blocked_ids` are never identifiers.
//!
//! Moving a user-less message when a (possibly late) claim changes its
//! holder is a [`WriteOp::Rehome`]; a cluster's anonymous contact is folded
//! into its first claimant with a [`WriteOp::Merge`]. Everything is decided
//! by event time and a hash of `(source, messageId)`, so the contacts and
//! where each message lives do not depend on arrival order.

mod cluster;
mod enrich;
mod rebuild;
mod sorted_chunks;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::message::{ContactId, Message, MessageKind, Millis};
use crate::store::{AccountLink, IdKind, MergeReason, WriteOp};
use cluster::{tie_of, Cluster, ClusterEvent, ClusterId, Member};

pub use enrich::EnrichmentCoverage;

/// Free-mail domains never become accounts.
const FREE_MAIL_DOMAINS: &str = include_str!("free_mail_domains.txt");

/// How identifiers and accounts are resolved (`[identity]` in the config).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Trait holding an email address that identifies a contact; `""` disables.
    pub email_trait: String,
    /// Attach contacts to an account derived from their email domain when no
    /// `group` call placed them.
    pub account_from_email_domain: bool,
    /// Extra domains to treat as free mail, beside the shipped list.
    pub extra_free_mail_domains: Vec<String>,
    /// Values that are never identifiers (compared case-insensitively, after
    /// trimming): broken integrations send them for every visitor.
    pub blocked_ids: Vec<String>,
    /// `[[enrichment]]` tables (loaded with the config file, not part of
    /// `[identity]`): company traits by domain, accounts by visitor IP.
    #[serde(skip)]
    pub enrichment: bellwether_enrich::Enrichment,
}

/// `blocked_ids` when the config does not set it.
pub const DEFAULT_BLOCKED_IDS: [&str; 7] = [
    "",
    "null",
    "undefined",
    "0",
    "-1",
    "anonymous",
    "[object Object]",
];

impl IdentityConfig {
    /// The identifier fields of `message` holding blocked values, with the
    /// value: ignored as identifiers, reported as warnings.
    pub fn blocked_fields(&self, message: &Message) -> Vec<(String, String)> {
        let email = (!self.email_trait.is_empty())
            .then(|| message.traits.get(&self.email_trait))
            .flatten()
            .and_then(Value::as_str);
        [
            ("userId".to_owned(), message.user_id.as_deref()),
            ("anonymousId".to_owned(), message.anonymous_id.as_deref()),
            ("previousId".to_owned(), message.previous_id.as_deref()),
            (format!("traits.{}", self.email_trait), email),
        ]
        .into_iter()
        .filter_map(|(field, value)| {
            let value = value?;
            self.is_blocked(value).then(|| (field, value.to_owned()))
        })
        .collect()
    }

    /// Whether the message still names a contact once blocked values are
    /// left out (an alias needs both of its ids).
    pub fn names_a_contact(&self, message: &Message) -> bool {
        let usable = |id: &Option<String>| id.as_deref().is_some_and(|v| !self.is_blocked(v));
        match message.kind {
            MessageKind::Alias => usable(&message.user_id) && usable(&message.previous_id),
            _ => usable(&message.user_id) || usable(&message.anonymous_id),
        }
    }

    /// SPEC §7 at ingestion: the warnings `(field, reason)` for the blocked
    /// ids of a message that still names a contact, or the error `(field,
    /// reason)` when no usable id is left.
    pub fn screen_ids(&self, message: &Message) -> Result<Vec<(String, String)>, (String, String)> {
        let blocked = self.blocked_fields(message);
        if !self.names_a_contact(message) {
            let (field, value) = blocked
                .into_iter()
                .next()
                .unwrap_or_else(|| ("userId".to_owned(), String::new()));
            return Err((
                field,
                format!(
                    "{value:?} is a blocked identifier ([identity] blocked_ids) and the \
                     message has no other id to store it under"
                ),
            ));
        }
        Ok(blocked
            .into_iter()
            .map(|(field, value)| {
                let reason = format!(
                    "{value:?} is a blocked identifier ([identity] blocked_ids): ignored, \
                     the message is stored under its other ids"
                );
                (field, reason)
            })
            .collect())
    }

    /// Whether both resolve identities by the same rules. The enrichment
    /// tables are left out: they are data, and what changed in them is
    /// applied at start ([`IdentityGraph::refresh_enrichment`]).
    pub fn same_rules(&self, other: &Self) -> bool {
        let without_tables = |config: &Self| Self {
            enrichment: bellwether_enrich::Enrichment::default(),
            ..config.clone()
        };
        without_tables(self) == without_tables(other)
    }

    /// Whether `value` is a blocked identifier.
    pub fn is_blocked(&self, value: &str) -> bool {
        let value = value.trim();
        self.blocked_ids
            .iter()
            .any(|blocked| blocked.trim().eq_ignore_ascii_case(value))
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            email_trait: "email".to_owned(),
            account_from_email_domain: true,
            extra_free_mail_domains: Vec::new(),
            blocked_ids: DEFAULT_BLOCKED_IDS
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            enrichment: bellwether_enrich::Enrichment::default(),
        }
    }
}

/// A live contact: a person (its user ids) or a cluster's anonymous contact.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct ContactNode {
    user_ids: Vec<String>,
    account: Option<(String, AccountLink)>,
    /// The network that revealed the account (`AccountLink::Ip`).
    revealed_by: Option<String>,
}

/// The in-memory identity graph. It serializes into the engine snapshot
/// ([`crate::snapshot`]) without its configuration, which comes from the
/// config file on restore ([`IdentityGraph::configured`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IdentityGraph {
    #[serde(skip)]
    config: IdentityConfig,
    #[serde(skip)]
    free_mail: HashSet<String>,
    /// User id → its person's live contact.
    users: HashMap<String, ContactId>,
    /// Anonymous id or email → its cluster.
    members: HashMap<(IdKind, String), ClusterId>,
    /// Boxed: a table slot is then one pointer, not a 120-byte cluster
    /// (about two clusters per contact; the table keeps room to grow).
    clusters: HashMap<ClusterId, Box<Cluster>>,
    live: HashMap<ContactId, ContactNode>,
    /// Merged-away contact → where it went.
    merged: HashMap<ContactId, ContactId>,
    /// Account id by the `domain` trait of a grouped account.
    account_by_domain: HashMap<String, String>,
    known_accounts: HashSet<String>,
    next_contact: ContactId,
    next_cluster: ClusterId,
    /// Counted since start-up.
    #[serde(skip)]
    refused_links: u64,
    /// Clusters claimed by more than one person.
    shared: std::collections::BTreeSet<ClusterId>,
    enrichment_state: enrich::EnrichmentState,
}

/// An anonymous id or email that several users claimed (SPEC §7): who held
/// it from when, so an operator spots a shared browser, a team inbox or a
/// broken integration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IdentityConflict {
    pub kind: IdKind,
    pub value: String,
    /// Messages that claimed it.
    pub claims: usize,
    /// Who held it, in time order: a new entry each time the holder changes.
    pub holders: Vec<Holding>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Holding {
    pub user_id: String,
    /// From this instant (ms); the first holder also holds what came before.
    pub from: Millis,
}

/// What the identity graph publishes after each commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityReport {
    /// Links refused since start-up (claims on an identifier another user
    /// had claimed).
    pub refused_links: u64,
    /// Shared identifiers, most claimed first.
    pub conflicts: Vec<IdentityConflict>,
}

/// The identifiers of one message, blocked values left out.
struct Ids {
    user: Option<String>,
    /// Anonymous ids and emails.
    others: Vec<(IdKind, String)>,
    /// An alias from a previous user id.
    alias_of_user: Option<String>,
}

impl IdentityGraph {
    pub fn new(config: IdentityConfig) -> Self {
        Self {
            users: HashMap::new(),
            members: HashMap::new(),
            clusters: HashMap::new(),
            live: HashMap::new(),
            merged: HashMap::new(),
            account_by_domain: HashMap::new(),
            known_accounts: HashSet::new(),
            next_contact: 1,
            next_cluster: 1,
            refused_links: 0,
            shared: std::collections::BTreeSet::new(),
            enrichment_state: enrich::EnrichmentState::default(),
            config: IdentityConfig::default(),
            free_mail: HashSet::new(),
        }
        .configured(config)
    }

    /// The graph resolving by `config` (a graph read from a snapshot gets
    /// its configuration here).
    pub(crate) fn configured(mut self, config: IdentityConfig) -> Self {
        self.free_mail = FREE_MAIL_DOMAINS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .chain(
                config
                    .extra_free_mail_domains
                    .iter()
                    .map(|d| d.to_lowercase()),
            )
            .collect();
        self.config = config;
        self
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    /// The live contact an identifier points at (a shared one: its current
    /// holder).
    pub fn lookup(&self, kind: IdKind, value: &str) -> Option<ContactId> {
        if kind == IdKind::User {
            return self.users.get(value).copied();
        }
        let cluster = self
            .clusters
            .get(self.members.get(&(kind, value.to_owned()))?)?;
        self.cluster_contact(cluster)
    }

    pub fn live_contacts(&self) -> usize {
        self.live.len()
    }

    /// Links refused since start-up (a claim on an identifier another user
    /// had claimed).
    pub fn refused_links(&self) -> u64 {
        self.refused_links
    }

    /// Carries the refused-link count over a rebuild.
    pub fn count_refused(&mut self, earlier: u64) {
        self.refused_links = earlier;
    }

    /// Shared identifiers and refused links, for the API and metrics.
    pub fn report(&self) -> IdentityReport {
        let mut conflicts: Vec<IdentityConflict> = self
            .shared
            .iter()
            .filter_map(|id| self.clusters.get(id))
            .flat_map(|cluster| {
                let mut holders: Vec<Holding> = Vec::new();
                for claim in &cluster.claims {
                    let Some(user) = cluster.user_of(claim) else {
                        continue;
                    };
                    if holders.last().is_some_and(|h| *h.user_id == **user) {
                        continue;
                    }
                    holders.push(Holding {
                        user_id: user.to_string(),
                        from: claim.at,
                    });
                }
                cluster.ids.iter().map(move |member| IdentityConflict {
                    kind: member.kind,
                    value: member.value.clone(),
                    claims: cluster.claims.len(),
                    holders: holders.clone(),
                })
            })
            .collect();
        conflicts.sort_by(|a, b| b.claims.cmp(&a.claims).then_with(|| a.value.cmp(&b.value)));
        IdentityReport {
            refused_links: self.refused_links,
            conflicts,
        }
    }

    /// Resolves `message` (stored as `seq`), updating the graph and
    /// appending the store changes to `ops`. Returns the contact the message
    /// belongs to, if it names one.
    pub fn resolve(
        &mut self,
        message: &Message,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) -> Option<ContactId> {
        let ids = self.ids_of(message);
        let contact = match (&ids.user, &ids.alias_of_user) {
            (Some(user), Some(previous)) => Some(self.alias_users(user, previous, message, ops)),
            (Some(user), None) => Some(self.resolve_user(user, &ids.others, message, ops)),
            (None, _) => self.resolve_userless(&ids.others, message, seq, ops),
        }?;
        if message.kind == MessageKind::Group {
            if let Some(group_id) = &message.group_id {
                self.link_group(contact, group_id, message, seq, ops);
            }
        } else if message.kind == MessageKind::Identify {
            self.link_email_domain(contact, &message.traits, message.timestamp, seq, ops);
        }
        self.reveal_by_ip(self.canonical(contact), message, seq, ops);
        Some(contact)
    }

    fn ids_of(&self, message: &Message) -> Ids {
        let usable = |value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !self.config.is_blocked(v))
                .map(str::to_owned)
        };
        let user = usable(&message.user_id);
        let mut others = Vec::new();
        let mut alias_of_user = None;
        if let Some(anonymous) = usable(&message.anonymous_id) {
            others.push((IdKind::Anonymous, anonymous));
        }
        if message.kind == MessageKind::Alias {
            if let Some(previous) = usable(&message.previous_id) {
                if self.users.contains_key(&previous) && user.is_some() {
                    alias_of_user = Some(previous);
                } else {
                    others.push((IdKind::Anonymous, previous));
                }
            }
        }
        if message.kind == MessageKind::Identify {
            if let Some(email) = self.email_of(&message.traits) {
                others.push((IdKind::Email, email));
            }
        }
        Ids {
            user,
            others,
            alias_of_user,
        }
    }

    /// `alias` from a previous user id: the two users become one person.
    fn alias_users(
        &mut self,
        user: &str,
        previous: &str,
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) -> ContactId {
        let Some(&kept) = self.users.get(previous) else {
            return self.ensure_user(user, None, message.timestamp, ops);
        };
        match self.users.get(user).copied() {
            None => {
                self.link_user(user, kept, message.timestamp, ops);
                kept
            }
            Some(other) if other != kept => {
                let (into, from) = (kept.min(other), kept.max(other));
                self.merge(from, into, message, MergeReason::Alias, ops);
                into
            }
            Some(same) => same,
        }
    }

    /// A message with a user id: it belongs to the user, and claims its
    /// other identifiers.
    fn resolve_user(
        &mut self,
        user: &str,
        others: &[(IdKind, String)],
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) -> ContactId {
        let clusters: Vec<ClusterId> = others
            .iter()
            .map(|(kind, value)| self.ensure_cluster(*kind, value, message.timestamp))
            .collect();
        // A new user takes over the anonymous contact of the only unclaimed
        // cluster it names (today's merge, without a new contact).
        let adoptable = match clusters.as_slice() {
            [only] => self.clusters.get(only).and_then(|c| c.home),
            _ => None,
        };
        let person = self.ensure_user(user, adoptable, message.timestamp, ops);
        for cluster in clusters {
            self.claim(cluster, user, person, message, ops);
        }
        person
    }

    /// `message` of `user` (`person`) claims cluster `id`.
    fn claim(
        &mut self,
        id: ClusterId,
        user: &str,
        person: ContactId,
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) {
        let Some(cluster) = self.clusters.get_mut(&id) else {
            return;
        };
        let claimed_before = !cluster.claims.is_empty();
        let others_before = cluster
            .claimants
            .iter()
            .any(|user| self.users.get(&**user).copied() != Some(person));
        let at = message.timestamp;
        let tie = tie_of(&message.source, &message.message_id);
        let Some(added) = cluster.add_claim(at, tie, user) else {
            return;
        };
        if others_before {
            self.refused_links += 1;
            self.shared.insert(id);
        }
        // Held by this person alone, before and after: nothing moves.
        if claimed_before && !others_before && cluster.home.is_none() {
            return;
        }
        // Only the messages from this claim to the next can change holder
        // (and those before it, when it is the new first claim).
        let from = if added.first { Millis::MIN } else { at };
        let to = added.next_at.unwrap_or(Millis::MAX);
        self.settle(id, message, (from, to), ops);
    }

    /// A message without a (usable) user id: it joins the clusters of its
    /// identifiers and belongs to whoever holds them at its time.
    fn resolve_userless(
        &mut self,
        others: &[(IdKind, String)],
        message: &Message,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) -> Option<ContactId> {
        let mut ids = others
            .iter()
            .map(|(kind, value)| self.ensure_cluster(*kind, value, message.timestamp));
        let first = ids.next()?;
        let rest: Vec<ClusterId> = ids.collect();
        let id = rest
            .into_iter()
            .fold(first, |kept, other| self.unite(kept, other, message, ops));
        let united = id != first || self.clusters.get(&id).is_some_and(|c| c.united);
        let unsettled = self
            .clusters
            .get(&id)
            .is_some_and(|c| c.home.is_none() && c.claims.is_empty());
        if united || unsettled {
            if let Some(cluster) = self.clusters.get_mut(&id) {
                cluster.united = false;
            }
            self.settle(id, message, (Millis::MIN, Millis::MAX), ops);
        }
        let contact = self.contact_at(id, message.timestamp)?;
        let traits = (message.kind == MessageKind::Identify && !message.traits.is_empty())
            .then(|| Arc::new(message.traits.clone()));
        if let Some(cluster) = self.clusters.get_mut(&id) {
            cluster.insert_event(ClusterEvent {
                at: message.timestamp,
                seq,
                contact,
                traits,
            });
        }
        Some(contact)
    }

    /// Who a cluster's message at `at` belongs to.
    fn contact_at(&self, id: ClusterId, at: Millis) -> Option<ContactId> {
        let cluster = self.clusters.get(&id)?;
        match cluster.holder_at(at) {
            Some(user) => self.users.get(&**user).copied(),
            None => cluster.home,
        }
    }

    fn cluster_contact(&self, cluster: &Cluster) -> Option<ContactId> {
        match cluster.current_holder() {
            Some(user) => self.users.get(&**user).copied(),
            None => cluster.home,
        }
    }

    fn canonical(&self, mut contact: ContactId) -> ContactId {
        while let Some(&next) = self.merged.get(&contact) {
            contact = next;
        }
        contact
    }

    fn ensure_cluster(&mut self, kind: IdKind, value: &str, at: Millis) -> ClusterId {
        let key = (kind, value.to_owned());
        if let Some(&id) = self.members.get(&key) {
            if let Some(member) = self.clusters.get_mut(&id).and_then(|c| {
                c.ids
                    .iter_mut()
                    .find(|m| m.kind == kind && m.value == value)
            }) {
                member.first_seen = member.first_seen.min(at);
            }
            return id;
        }
        let id = self.next_cluster;
        self.next_cluster += 1;
        self.members.insert(key, id);
        let mut cluster = Cluster::default();
        cluster.ids.push(Member {
            kind,
            value: value.to_owned(),
            pointer: None,
            first_seen: at,
        });
        self.clusters.insert(id, Box::new(cluster));
        id
    }

    /// Folds two clusters into one (a user-less message tied them).
    fn unite(
        &mut self,
        a: ClusterId,
        b: ClusterId,
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) -> ClusterId {
        if a == b {
            return a;
        }
        let size = |id| self.clusters.get(&id).map_or(0, |c| c.ids.len());
        let (kept, gone) = if size(a) >= size(b) { (a, b) } else { (b, a) };
        let Some(absorbed) = self.clusters.remove(&gone) else {
            return kept;
        };
        for member in &absorbed.ids {
            self.members
                .insert((member.kind, member.value.clone()), kept);
        }
        if self.shared.remove(&gone) {
            self.shared.insert(kept);
        }
        let absorbed_home = absorbed.home;
        let kept_home = self.clusters.get(&kept).and_then(|c| c.home);
        if let Some(cluster) = self.clusters.get_mut(&kept) {
            cluster.absorb(*absorbed);
            cluster.united = true;
        }
        match (kept_home, absorbed_home) {
            (Some(x), Some(y)) => {
                let (into, from) = (x.min(y), x.max(y));
                self.merge(from, into, message, MergeReason::Identify, ops);
                if let Some(cluster) = self.clusters.get_mut(&kept) {
                    cluster.home = Some(into);
                }
            }
            (None, Some(home)) => {
                if let Some(cluster) = self.clusters.get_mut(&kept) {
                    cluster.home = Some(home);
                }
            }
            _ => {}
        }
        kept
    }

    /// Puts every message and identifier of a cluster where its claims say.
    /// Messages are looked at only within `range` (inclusive), where
    /// holders may have changed.
    fn settle(
        &mut self,
        id: ClusterId,
        message: &Message,
        range: (Millis, Millis),
        ops: &mut Vec<WriteOp>,
    ) {
        let Some(cluster) = self.clusters.get(&id) else {
            return;
        };
        let first_claimant = cluster
            .claims
            .first()
            .and_then(|claim| cluster.user_of(claim))
            .and_then(|user| self.users.get(&**user).copied());
        match (first_claimant, cluster.home) {
            (None, None) => {
                let home = self.create_contact(message.timestamp, ops);
                if let Some(cluster) = self.clusters.get_mut(&id) {
                    cluster.home = Some(home);
                }
            }
            (Some(first), Some(home)) => {
                if let Some(cluster) = self.clusters.get_mut(&id) {
                    cluster.home = None;
                }
                if home != first {
                    let reason = match message.kind {
                        MessageKind::Alias => MergeReason::Alias,
                        _ if message.user_id.is_some() => MergeReason::Identify,
                        _ => MergeReason::Email,
                    };
                    self.merge(home, first, message, reason, ops);
                }
                // Every message was the anonymous contact's.
                return self.settle(id, message, (Millis::MIN, Millis::MAX), ops);
            }
            _ => {}
        }
        self.rehome_events(id, range, ops);
        self.repoint_ids(id, ops);
    }

    fn rehome_events(
        &mut self,
        id: ClusterId,
        (from, to): (Millis, Millis),
        ops: &mut Vec<WriteOp>,
    ) {
        let Some(mut cluster) = self.clusters.remove(&id) else {
            return;
        };
        let start = cluster.events.partition_point(|e| e.at < from);
        let end = cluster.events.partition_point(|e| e.at <= to);
        let targets: Vec<Option<ContactId>> = cluster
            .events
            .range(start, end)
            .map(|event| match cluster.holder_at(event.at) {
                Some(user) => self.users.get(&**user).copied(),
                None => cluster.home,
            })
            .collect();
        for (event, target) in cluster.events.range_mut(start, end).zip(targets) {
            let current = self.canonical(event.contact);
            event.contact = current;
            let Some(target) = target.filter(|t| *t != current) else {
                continue;
            };
            ops.push(WriteOp::Rehome {
                seq: event.seq,
                from: current,
                to: target,
                at: event.at,
                traits: event.traits.as_deref().cloned().unwrap_or_default(),
            });
            event.contact = target;
        }
        self.clusters.insert(id, cluster);
    }

    fn repoint_ids(&mut self, id: ClusterId, ops: &mut Vec<WriteOp>) {
        let Some(mut cluster) = self.clusters.remove(&id) else {
            return;
        };
        if let Some(target) = self.cluster_contact(&cluster) {
            for member in &mut cluster.ids {
                if member.pointer.map(|p| self.canonical(p)) == Some(target) {
                    continue;
                }
                member.pointer = Some(target);
                ops.push(WriteOp::Identity {
                    kind: member.kind,
                    value: member.value.clone(),
                    contact: target,
                    first_seen: member.first_seen,
                });
            }
        }
        self.clusters.insert(id, cluster);
    }

    /// The contact of `user`, created (or adopting `adopt`, a cluster's
    /// anonymous contact) when new.
    fn ensure_user(
        &mut self,
        user: &str,
        adopt: Option<ContactId>,
        at: Millis,
        ops: &mut Vec<WriteOp>,
    ) -> ContactId {
        if let Some(&contact) = self.users.get(user) {
            return contact;
        }
        let contact = match adopt {
            Some(home) => home,
            None => self.create_contact(at, ops),
        };
        self.link_user(user, contact, at, ops);
        contact
    }

    fn link_user(&mut self, user: &str, contact: ContactId, at: Millis, ops: &mut Vec<WriteOp>) {
        self.users.insert(user.to_owned(), contact);
        if let Some(node) = self.live.get_mut(&contact) {
            node.user_ids.push(user.to_owned());
        }
        ops.push(WriteOp::Identity {
            kind: IdKind::User,
            value: user.to_owned(),
            contact,
            first_seen: at,
        });
    }

    fn email_of(&self, traits: &serde_json::Map<String, Value>) -> Option<String> {
        if self.config.email_trait.is_empty() {
            return None;
        }
        let email = traits.get(&self.config.email_trait)?.as_str()?.trim();
        (email.contains('@') && !self.config.is_blocked(email)).then(|| email.to_lowercase())
    }

    fn create_contact(&mut self, at: Millis, ops: &mut Vec<WriteOp>) -> ContactId {
        let id = self.next_contact;
        self.next_contact += 1;
        self.live.insert(id, ContactNode::default());
        ops.push(WriteOp::NewContact { id, created_at: at });
        id
    }

    /// Folds `from` into `into` (an alias of two users, two anonymous
    /// contacts tied, or an anonymous contact to its first claimant).
    fn merge(
        &mut self,
        from: ContactId,
        into: ContactId,
        message: &Message,
        reason: MergeReason,
        ops: &mut Vec<WriteOp>,
    ) {
        let absorbed = self.live.remove(&from).unwrap_or_default();
        for user in &absorbed.user_ids {
            self.users.insert(user.clone(), into);
        }
        self.merged.insert(from, into);
        let survivor = self.live.entry(into).or_default();
        survivor.user_ids.extend(absorbed.user_ids);
        let absorbed_link = absorbed.account.as_ref().map(|(_, link)| *link);
        if survivor.account.is_none() {
            survivor.account = absorbed.account;
            survivor.revealed_by = absorbed.revealed_by;
        } else {
            // The absorbed contact's link is gone with it.
            self.count_reveal(absorbed_link, None);
        }
        ops.push(WriteOp::Merge {
            from,
            into,
            at: message.timestamp,
            reason,
            message_id: message.message_id.clone(),
        });
    }

    fn link_group(
        &mut self,
        contact: ContactId,
        group_id: &str,
        message: &Message,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        self.ensure_account(group_id, message.timestamp, ops);
        if let Some(domain) = message.traits.get("domain").and_then(Value::as_str) {
            // `https://www.acme.com/` names the account of `acme.com` emails
            // and of visitors whose network a table gives `acme.com`.
            let domain = bellwether_enrich::normalize_domain(domain)
                .unwrap_or_else(|| domain.to_lowercase());
            self.account_by_domain.insert(domain, group_id.to_owned());
        }
        self.note_group_traits(group_id, message, seq, ops);
        self.set_account(
            contact,
            group_id,
            AccountLink::Group,
            message.timestamp,
            ops,
        );
    }

    fn link_email_domain(
        &mut self,
        contact: ContactId,
        traits: &serde_json::Map<String, Value>,
        at: Millis,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        if !self.config.account_from_email_domain {
            return;
        }
        let has_group = self
            .live
            .get(&contact)
            .and_then(|node| node.account.as_ref())
            .is_some_and(|(_, link)| *link == AccountLink::Group);
        let Some(domain) = self.email_of(traits).and_then(|e| domain_of(&e)) else {
            return;
        };
        if has_group || self.free_mail.contains(&domain) {
            return;
        }
        let group_id = self
            .account_by_domain
            .get(&domain)
            .cloned()
            .unwrap_or_else(|| domain.clone());
        self.ensure_account(&group_id, at, ops);
        if let Some(normalized) = bellwether_enrich::normalize_domain(&domain) {
            self.account_seen(&group_id, &normalized, at, seq, ops);
        }
        self.set_account(contact, &group_id, AccountLink::EmailDomain, at, ops);
    }

    fn ensure_account(&mut self, group_id: &str, at: Millis, ops: &mut Vec<WriteOp>) {
        if self.known_accounts.insert(group_id.to_owned()) {
            ops.push(WriteOp::NewAccount {
                group_id: group_id.to_owned(),
                created_at: at,
            });
        }
    }

    fn set_account(
        &mut self,
        contact: ContactId,
        group_id: &str,
        link: AccountLink,
        at: Millis,
        ops: &mut Vec<WriteOp>,
    ) {
        self.set_account_via(contact, group_id, link, None, at, ops);
    }

    /// Sets the contact's account; `via` is the network of an IP reveal.
    fn set_account_via(
        &mut self,
        contact: ContactId,
        group_id: &str,
        link: AccountLink,
        via: Option<String>,
        at: Millis,
        ops: &mut Vec<WriteOp>,
    ) {
        let Some(node) = self.live.get_mut(&contact) else {
            return;
        };
        let unchanged = node.revealed_by == via
            && node
                .account
                .as_ref()
                .is_some_and(|(current, current_link)| {
                    current == group_id && *current_link == link
                });
        if unchanged {
            return;
        }
        let before = node.account.replace((group_id.to_owned(), link));
        node.revealed_by.clone_from(&via);
        self.count_reveal(before.map(|(_, link)| link), Some(link));
        ops.push(WriteOp::ContactAccount {
            contact,
            group_id: group_id.to_owned(),
            link,
            via,
            at,
        });
    }

    /// The network that revealed a live contact's account, when it joined
    /// it by IP.
    pub fn revealed_by(&self, contact: ContactId) -> Option<&str> {
        self.live.get(&contact)?.revealed_by.as_deref()
    }

    /// The account a live contact currently belongs to.
    pub fn account_of(&self, contact: ContactId) -> Option<&str> {
        self.live
            .get(&contact)?
            .account
            .as_ref()
            .map(|(group_id, _)| group_id.as_str())
    }
}

fn domain_of(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    (!domain.is_empty() && domain.contains('.')).then_some(domain)
}

#[cfg(test)]
mod enrich_tests;
#[cfg(test)]
mod tests;
