//! Start-up: the graph is rebuilt by replaying every stored message in
//! commit order, then compared with what the store holds. A store written
//! under the same rules compares equal; one written under older rules (two
//! users merged through a shared anonymous id or email, junk ids fusing
//! contacts) gets the writes that split it: new contacts, messages re-homed,
//! identifiers re-pointed, account links set.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{ContactNode, IdentityConfig, IdentityGraph};
use crate::event_pages::{self, PageReceiver};
use crate::message::{ContactId, MessageKind};
use crate::progress::Progress;
use crate::store::{IdKind, IdentitySnapshot, MergeReason, Store, StoreError, WriteOp};

/// One stored message: where the store has it, where the replay put it.
/// One is held per stored event until the replay ends (10M events: 10M of
/// them), so the rare traits (an `identify`'s) are boxed.
struct Placed {
    seq: i64,
    at: i64,
    stored: Option<ContactId>,
    replayed: Option<ContactId>,
    traits: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

const _: () = assert!(std::mem::size_of::<Placed>() == 56);

impl IdentityGraph {
    /// Replays the store's messages; returns the graph (numbered like the
    /// store) and the writes that bring the store in line with it (empty
    /// when it already is). The messages are read and decoded on a thread
    /// of their own.
    pub fn rebuild(
        config: IdentityConfig,
        store: &dyn Store,
        progress: &mut dyn Progress,
    ) -> Result<(Self, Vec<WriteOp>), StoreError> {
        // Identity reads a message's ids and traits, and of its context
        // only the address (`reveal_by_ip`).
        let address = |key: &str| key == "ip";
        event_pages::read_beside(store, &|_: &str| false, &address, None, |[pages]| {
            Self::rebuild_from(config, store, pages, progress)
        })
    }

    /// [`IdentityGraph::rebuild`] from pages of every stored message that
    /// another thread reads (with at least `context.ip`): a start that
    /// reads the whole store shares one read with the subjects load.
    pub fn rebuild_from(
        config: IdentityConfig,
        store: &dyn Store,
        pages: PageReceiver,
        progress: &mut dyn Progress,
    ) -> Result<(Self, Vec<WriteOp>), StoreError> {
        let snapshot = store.load_identity()?;
        let total = store.event_count()?;
        let stored_home = stored_canonical(&snapshot);
        let mut graph = Self::new(config);
        let mut placed = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut scratch = Vec::new();
        for page in pages {
            for event in page.iter() {
                scratch.clear();
                let replayed = graph.resolve(&event.message, event.seq, &mut scratch);
                let traits = (event.message.kind == MessageKind::Identify
                    && !event.message.traits.is_empty())
                .then(|| Box::new(event.message.traits.clone()));
                placed.push(Placed {
                    seq: event.seq,
                    at: event.message.timestamp,
                    stored: event.contact_id.map(&stored_home),
                    replayed,
                    traits,
                });
            }
            progress.advanced(placed.len() as u64, total);
        }
        graph.settle_placements(&mut placed);
        let renumber = graph.number_like_store(&placed, &snapshot);
        graph.renumber(&renumber);
        // New contacts never take a stored number, even one the replay
        // left unused.
        let stored_max = snapshot
            .contacts
            .iter()
            .map(|(id, _)| *id)
            .max()
            .unwrap_or(0);
        graph.next_contact = graph.next_contact.max(stored_max + 1);
        let ops = graph.corrections(&placed, &renumber, &snapshot, &stored_home);
        graph.refused_links = 0;
        Ok((graph, ops))
    }

    /// Final replayed contact of every message: a user-less one where its
    /// cluster put it last, the others where they were resolved.
    fn settle_placements(&self, placed: &mut [Placed]) {
        let mut by_cluster: HashMap<i64, ContactId> = HashMap::new();
        for cluster in self.clusters.values() {
            for event in &cluster.events {
                by_cluster.insert(event.seq, event.contact);
            }
        }
        for item in placed.iter_mut() {
            let contact = by_cluster.get(&item.seq).copied().or(item.replayed);
            item.replayed = contact.map(|c| self.canonical(c));
        }
    }

    /// Replayed contact → store contact: each live replayed contact keeps
    /// the stored contact of its earliest message unless another took it
    /// first; the rest get new numbers after every stored one.
    fn number_like_store(
        &self,
        placed: &[Placed],
        snapshot: &IdentitySnapshot,
    ) -> BTreeMap<ContactId, (ContactId, bool)> {
        let mut next = snapshot
            .contacts
            .iter()
            .map(|(id, _)| *id)
            .max()
            .unwrap_or(0)
            .max(self.next_contact - 1)
            + 1;
        let mut taken = HashSet::new();
        let mut numbers = BTreeMap::new();
        for item in placed {
            let (Some(replayed), Some(stored)) = (item.replayed, item.stored) else {
                continue;
            };
            if numbers.contains_key(&replayed) || taken.contains(&stored) {
                continue;
            }
            taken.insert(stored);
            numbers.insert(replayed, (stored, false));
        }
        let mut live: Vec<ContactId> = self.live.keys().copied().collect();
        live.sort_unstable();
        for contact in live {
            numbers.entry(contact).or_insert_with(|| {
                next += 1;
                (next - 1, true)
            });
        }
        numbers
    }

    /// Renames every live contact; merged-away ones are resolved first.
    fn renumber(&mut self, numbers: &BTreeMap<ContactId, (ContactId, bool)>) {
        let rename = |graph: &Self, contact: ContactId| {
            let live = graph.canonical(contact);
            numbers.get(&live).map_or(live, |(n, _)| *n)
        };
        let users: HashMap<String, ContactId> = self
            .users
            .iter()
            .map(|(user, c)| (user.clone(), rename(self, *c)))
            .collect();
        let mut clusters = std::mem::take(&mut self.clusters);
        for cluster in clusters.values_mut() {
            cluster.home = cluster.home.map(|c| rename(self, c));
            for event in &mut cluster.events {
                event.contact = rename(self, event.contact);
            }
            for member in &mut cluster.ids {
                member.pointer = member.pointer.map(|c| rename(self, c));
            }
        }
        let live: HashMap<ContactId, ContactNode> = self
            .live
            .drain()
            .map(|(c, node)| (numbers.get(&c).map_or(c, |(n, _)| *n), node))
            .collect();
        self.clusters = clusters;
        self.users = users;
        self.live = live;
        self.merged.clear();
        self.next_contact = numbers
            .values()
            .map(|(n, _)| *n + 1)
            .max()
            .unwrap_or(1)
            .max(self.next_contact);
    }

    /// The writes that make the store hold what the replay decided.
    fn corrections(
        &mut self,
        placed: &[Placed],
        numbers: &BTreeMap<ContactId, (ContactId, bool)>,
        snapshot: &IdentitySnapshot,
        stored_home: &dyn Fn(ContactId) -> ContactId,
    ) -> Vec<WriteOp> {
        let mut ops = Vec::new();
        for (replayed, (number, new)) in numbers {
            if *new {
                let created_at = placed
                    .iter()
                    .find(|p| p.replayed == Some(*replayed))
                    .map_or(0, |p| p.at);
                ops.push(WriteOp::NewContact {
                    id: *number,
                    created_at,
                });
            }
        }
        let mut emptied: HashMap<ContactId, ContactId> = HashMap::new();
        for item in placed {
            let Some(stored) = item.stored else {
                continue;
            };
            let Some(replayed) = item.replayed else {
                // Only blocked ids: it names no contact any more.
                ops.push(WriteOp::Detach {
                    seq: item.seq,
                    from: stored,
                    at: item.at,
                    traits: item.traits.as_deref().cloned().unwrap_or_default(),
                });
                continue;
            };
            let to = numbers.get(&replayed).map_or(replayed, |(n, _)| *n);
            if to == stored {
                continue;
            }
            emptied.entry(stored).or_insert(to);
            ops.push(WriteOp::Rehome {
                seq: item.seq,
                from: stored,
                to,
                at: item.at,
                traits: item.traits.as_deref().cloned().unwrap_or_default(),
            });
        }
        // A stored contact the replay left empty is folded into the one
        // that took its first message.
        for (stored, to) in emptied {
            if !self.live.contains_key(&stored) && self.live.contains_key(&to) {
                ops.push(WriteOp::Merge {
                    from: stored,
                    into: to,
                    at: 0,
                    reason: MergeReason::Identify,
                    message_id: "identity-rebuild".to_owned(),
                });
            }
        }
        self.identity_corrections(snapshot, stored_home, &mut ops);
        self.account_corrections(snapshot, &mut ops);
        ops
    }

    fn identity_corrections(
        &self,
        snapshot: &IdentitySnapshot,
        stored_home: &dyn Fn(ContactId) -> ContactId,
        ops: &mut Vec<WriteOp>,
    ) {
        let stored: HashMap<(IdKind, &str), (ContactId, i64)> = snapshot
            .identities
            .iter()
            .map(|row| {
                (
                    (row.kind, row.value.as_str()),
                    (stored_home(row.contact), row.first_seen),
                )
            })
            .collect();
        let mut wanted: Vec<(IdKind, String, ContactId)> = self
            .users
            .iter()
            .map(|(user, c)| (IdKind::User, user.clone(), *c))
            .collect();
        for cluster in self.clusters.values() {
            for member in &cluster.ids {
                if let Some(pointer) = member.pointer {
                    wanted.push((member.kind, member.value.clone(), pointer));
                }
            }
        }
        wanted.sort();
        for (kind, value, contact) in wanted {
            let first_seen = match stored.get(&(kind, value.as_str())) {
                Some((current, _)) if *current == contact => continue,
                Some((_, first_seen)) => *first_seen,
                None => 0,
            };
            ops.push(WriteOp::Identity {
                kind,
                value,
                contact,
                first_seen,
            });
        }
    }

    fn account_corrections(&self, snapshot: &IdentitySnapshot, ops: &mut Vec<WriteOp>) {
        let stored: HashMap<ContactId, (&str, crate::store::AccountLink)> = snapshot
            .contact_accounts
            .iter()
            .map(|(contact, group_id, link, _)| (*contact, (group_id.as_str(), *link)))
            .collect();
        let mut accounts: HashSet<&str> = snapshot
            .accounts
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        let mut contacts: Vec<&ContactId> = self.live.keys().collect();
        contacts.sort_unstable();
        for contact in contacts {
            let Some((group_id, link)) = self.live.get(contact).and_then(|n| n.account.as_ref())
            else {
                continue;
            };
            if stored.get(contact) == Some(&(group_id.as_str(), *link)) {
                continue;
            }
            // An account only a changed IP table reveals is new to the store.
            if accounts.insert(group_id.as_str()) {
                ops.push(WriteOp::NewAccount {
                    group_id: group_id.clone(),
                    created_at: 0,
                });
            }
            ops.push(WriteOp::ContactAccount {
                contact: *contact,
                group_id: group_id.clone(),
                link: *link,
                via: self.live.get(contact).and_then(|n| n.revealed_by.clone()),
                at: 0,
            });
        }
    }
}

/// A stored contact's live survivor (the store keeps `merged_into`
/// pointing at a live contact).
fn stored_canonical(snapshot: &IdentitySnapshot) -> impl Fn(ContactId) -> ContactId {
    let merged: HashMap<ContactId, ContactId> = snapshot
        .contacts
        .iter()
        .filter_map(|(id, into)| into.map(|into| (*id, into)))
        .collect();
    move |contact| merged.get(&contact).copied().unwrap_or(contact)
}
