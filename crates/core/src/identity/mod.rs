//! Identity resolution: which contact a message belongs to, when two contacts
//! become one, and which account a contact belongs to.
//!
//! The graph lives in memory, owned by the single writer thread, and mirrors
//! the store exactly after every commit (it is rebuilt from
//! [`IdentitySnapshot`] at start-up and after a failed commit).
//!
//! Merges are unions: any message carrying two identifiers that resolve to
//! different contacts folds them together, so the final partition does not
//! depend on arrival order. The survivor is the contact that has a user id
//! (the known person), else the older contact.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::message::{ContactId, Message, MessageKind, Millis};
use crate::store::{AccountLink, IdKind, IdentitySnapshot, MergeReason, WriteOp};

/// Free-mail domains never become accounts.
const FREE_MAIL_DOMAINS: &str = include_str!("free_mail_domains.txt");

/// How identifiers and accounts are resolved (`[identity]` in the config).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Trait holding an email address that identifies a contact; `""` disables.
    pub email_trait: String,
    /// Attach contacts to an account derived from their email domain when no
    /// `group` call placed them.
    pub account_from_email_domain: bool,
    /// Extra domains to treat as free mail, beside the shipped list.
    pub extra_free_mail_domains: Vec<String>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            email_trait: "email".to_owned(),
            account_from_email_domain: true,
            extra_free_mail_domains: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ContactNode {
    identities: Vec<(IdKind, String)>,
    account: Option<(String, AccountLink)>,
}

impl ContactNode {
    fn has_user_id(&self) -> bool {
        self.identities
            .iter()
            .any(|(kind, _)| *kind == IdKind::User)
    }
}

/// The in-memory identity graph.
#[derive(Debug)]
pub struct IdentityGraph {
    config: IdentityConfig,
    free_mail: HashSet<String>,
    index: HashMap<(IdKind, String), ContactId>,
    live: HashMap<ContactId, ContactNode>,
    /// Account id by the `domain` trait of a grouped account.
    account_by_domain: HashMap<String, String>,
    known_accounts: HashSet<String>,
    next_contact: ContactId,
}

impl IdentityGraph {
    pub fn new(config: IdentityConfig) -> Self {
        let free_mail = FREE_MAIL_DOMAINS
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
        Self {
            config,
            free_mail,
            index: HashMap::new(),
            live: HashMap::new(),
            account_by_domain: HashMap::new(),
            known_accounts: HashSet::new(),
            next_contact: 1,
        }
    }

    /// Rebuilds the graph from what the store holds.
    pub fn from_snapshot(config: IdentityConfig, snapshot: &IdentitySnapshot) -> Self {
        let mut graph = Self::new(config);
        for (id, merged_into) in &snapshot.contacts {
            graph.next_contact = graph.next_contact.max(id + 1);
            if merged_into.is_none() {
                graph.live.insert(*id, ContactNode::default());
            }
        }
        for row in &snapshot.identities {
            graph
                .index
                .insert((row.kind, row.value.clone()), row.contact);
            let node = graph.live.entry(row.contact).or_default();
            node.identities.push((row.kind, row.value.clone()));
        }
        for (contact, group_id, link, _) in &snapshot.contact_accounts {
            if let Some(node) = graph.live.get_mut(contact) {
                node.account = Some((group_id.clone(), *link));
            }
        }
        for (group_id, domain) in &snapshot.accounts {
            graph.known_accounts.insert(group_id.clone());
            if let Some(domain) = domain {
                graph
                    .account_by_domain
                    .insert(domain.to_lowercase(), group_id.clone());
            }
        }
        graph
    }

    /// The live contact an identifier points at.
    pub fn lookup(&self, kind: IdKind, value: &str) -> Option<ContactId> {
        self.index.get(&(kind, value.to_owned())).copied()
    }

    pub fn live_contacts(&self) -> usize {
        self.live.len()
    }

    /// Resolves `message`, updating the graph and appending the store changes
    /// to `ops`. Returns the contact the message belongs to, if it names one.
    pub fn resolve(&mut self, message: &Message, ops: &mut Vec<WriteOp>) -> Option<ContactId> {
        let at = message.timestamp;
        let contact = match message.kind {
            MessageKind::Alias => self.resolve_alias(message, ops),
            _ => self.resolve_ids(message, ops),
        }?;
        let contact = if message.kind == MessageKind::Identify {
            self.resolve_email(contact, message, ops)
        } else {
            contact
        };
        if message.kind == MessageKind::Group {
            if let Some(group_id) = &message.group_id {
                self.link_group(contact, group_id, message, ops);
            }
        } else if message.kind == MessageKind::Identify {
            self.link_email_domain(contact, &message.traits, at, ops);
        }
        Some(contact)
    }

    fn resolve_ids(&mut self, message: &Message, ops: &mut Vec<WriteOp>) -> Option<ContactId> {
        let ids: Vec<(IdKind, &str)> = [
            (IdKind::User, message.user_id.as_deref()),
            (IdKind::Anonymous, message.anonymous_id.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|v| (kind, v)))
        .collect();
        self.unite(&ids, message, MergeReason::Identify, ops)
    }

    fn resolve_alias(&mut self, message: &Message, ops: &mut Vec<WriteOp>) -> Option<ContactId> {
        let previous = message.previous_id.as_deref()?;
        let previous_kind = if self.lookup(IdKind::User, previous).is_some() {
            IdKind::User
        } else {
            IdKind::Anonymous
        };
        let mut ids = Vec::new();
        if let Some(user_id) = message.user_id.as_deref() {
            ids.push((IdKind::User, user_id));
        }
        ids.push((previous_kind, previous));
        self.unite(&ids, message, MergeReason::Alias, ops)
    }

    /// Makes every identifier in `ids` point at one contact, creating or
    /// merging contacts as needed.
    fn unite(
        &mut self,
        ids: &[(IdKind, &str)],
        message: &Message,
        reason: MergeReason,
        ops: &mut Vec<WriteOp>,
    ) -> Option<ContactId> {
        let mut contact: Option<ContactId> = None;
        for (kind, value) in ids {
            if let Some(found) = self.lookup(*kind, value) {
                contact = Some(match contact {
                    Some(current) if current != found => {
                        self.merge(current, found, message, reason, ops)
                    }
                    _ => found,
                });
            }
        }
        let contact = match contact {
            Some(existing) => existing,
            None if ids.is_empty() => return None,
            None => self.create_contact(message.timestamp, ops),
        };
        for (kind, value) in ids {
            if self.lookup(*kind, value).is_none() {
                self.link(*kind, value, contact, message.timestamp, ops);
            }
        }
        Some(contact)
    }

    fn resolve_email(
        &mut self,
        contact: ContactId,
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) -> ContactId {
        let Some(email) = self.email_of(&message.traits) else {
            return contact;
        };
        match self.lookup(IdKind::Email, &email) {
            None => {
                self.link(IdKind::Email, &email, contact, message.timestamp, ops);
                contact
            }
            Some(other) if other != contact => {
                self.merge(contact, other, message, MergeReason::Email, ops)
            }
            Some(_) => contact,
        }
    }

    fn email_of(&self, traits: &serde_json::Map<String, Value>) -> Option<String> {
        if self.config.email_trait.is_empty() {
            return None;
        }
        let email = traits.get(&self.config.email_trait)?.as_str()?.trim();
        email.contains('@').then(|| email.to_lowercase())
    }

    fn create_contact(&mut self, at: Millis, ops: &mut Vec<WriteOp>) -> ContactId {
        let id = self.next_contact;
        self.next_contact += 1;
        self.live.insert(id, ContactNode::default());
        ops.push(WriteOp::NewContact { id, created_at: at });
        id
    }

    fn link(
        &mut self,
        kind: IdKind,
        value: &str,
        contact: ContactId,
        at: Millis,
        ops: &mut Vec<WriteOp>,
    ) {
        self.index.insert((kind, value.to_owned()), contact);
        if let Some(node) = self.live.get_mut(&contact) {
            node.identities.push((kind, value.to_owned()));
        }
        ops.push(WriteOp::Identity {
            kind,
            value: value.to_owned(),
            contact,
            first_seen: at,
        });
    }

    /// Folds one of `a`, `b` into the other; returns the survivor.
    fn merge(
        &mut self,
        a: ContactId,
        b: ContactId,
        message: &Message,
        reason: MergeReason,
        ops: &mut Vec<WriteOp>,
    ) -> ContactId {
        let (into, from) = self.pick_survivor(a, b);
        let absorbed = self.live.remove(&from).unwrap_or_default();
        for (kind, value) in &absorbed.identities {
            self.index.insert((*kind, value.clone()), into);
        }
        let survivor = self.live.entry(into).or_default();
        survivor.identities.extend(absorbed.identities);
        if survivor.account.is_none() {
            survivor.account = absorbed.account;
        }
        ops.push(WriteOp::Merge {
            from,
            into,
            at: message.timestamp,
            reason,
            message_id: message.message_id.clone(),
        });
        into
    }

    fn pick_survivor(&self, a: ContactId, b: ContactId) -> (ContactId, ContactId) {
        let known = |id| self.live.get(&id).is_some_and(ContactNode::has_user_id);
        match (known(a), known(b)) {
            (true, false) => (a, b),
            (false, true) => (b, a),
            _ => (a.min(b), a.max(b)),
        }
    }

    fn link_group(
        &mut self,
        contact: ContactId,
        group_id: &str,
        message: &Message,
        ops: &mut Vec<WriteOp>,
    ) {
        self.ensure_account(group_id, message.timestamp, ops);
        if let Some(domain) = message.traits.get("domain").and_then(Value::as_str) {
            self.account_by_domain
                .insert(domain.to_lowercase(), group_id.to_owned());
        }
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
            .unwrap_or(domain);
        self.ensure_account(&group_id, at, ops);
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
        let Some(node) = self.live.get_mut(&contact) else {
            return;
        };
        let unchanged = node
            .account
            .as_ref()
            .is_some_and(|(current, current_link)| current == group_id && *current_link == link);
        if unchanged {
            return;
        }
        node.account = Some((group_id.to_owned(), link));
        ops.push(WriteOp::ContactAccount {
            contact,
            group_id: group_id.to_owned(),
            link,
            at,
        });
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
mod tests;
