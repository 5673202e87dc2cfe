//! The resolved event log `bellwether_events` (SPEC §7 "Scale-out SQL"):
//! one row per stored identify, track, page, screen and group message, with
//! the contact it resolved to, as the engine loads them.
//!
//! What the engine derives from a message is written into the row so that
//! SQL over the table reads what the evaluator reads:
//! - `contact_id` is the contact's label (its first user id, else its first
//!   anonymous id), `account_id` its current account;
//! - for a `group` row, `account_id` is the group's id: the account whose
//!   traits the message sets (the contact's current account unless it moved);
//! - page fields (`path`, `url`, `title`, `referrer`, `search`) missing from
//!   a page's properties are taken from `context.page`, as rules read them;
//! - `seq` is the store's sequence number: it orders events that share a
//!   millisecond, as the engine's timelines do;
//! - the account traits enrichment wrote (SPEC §7 "Enrichment": no
//!   message carries them) are `group` rows with no contact, one per
//!   write, at its instant and after the message it followed;
//! - an account no message names (a work-email domain account whose
//!   contacts all moved to a group) is one `group` row with no contact and
//!   no traits, after the messages: the engine still evaluates it.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::message::{ContactId, MessageKind, Millis, StoredEvent};
use crate::store::{IdKind, Store, StoreError};

/// Page fields that fall back to `context.page`.
const PAGE_FIELDS: &[&str] = &["path", "url", "title", "referrer", "search"];

/// Events read from the store per page.
const PAGE: usize = 10_000;

/// One row of `bellwether_events`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    /// The contact's id as the API shows it.
    pub contact_id: Option<String>,
    /// The contact's current account (a group row: the group's id).
    pub account_id: Option<String>,
    /// `identify`, `track`, `page`, `screen` or `group`.
    pub kind: MessageKind,
    /// Track event name; page or screen name.
    pub event: Option<String>,
    /// Properties (with page fields from `context.page`), `{}` when none.
    pub properties: Map<String, Value>,
    /// Traits of identify and group calls, `{}` otherwise.
    pub traits: Map<String, Value>,
    /// The corrected event time, ms since the epoch.
    pub ts: Millis,
    /// The store's sequence number.
    pub seq: i64,
}

/// Who each live contact is: its label and current account.
struct Contacts {
    label: HashMap<ContactId, String>,
    account: HashMap<ContactId, String>,
    /// Every account the store knows.
    accounts: Vec<String>,
}

fn contacts(store: &dyn Store) -> Result<Contacts, StoreError> {
    let snapshot = store.load_identity()?;
    let mut label: HashMap<ContactId, (bool, String)> = snapshot
        .contacts
        .iter()
        .filter(|(_, merged_into)| merged_into.is_none())
        .map(|(id, _)| (*id, (false, String::new())))
        .collect();
    // The engine's naming: the earliest user id, else the earliest anonymous id.
    let mut rows: Vec<_> = snapshot.identities.iter().collect();
    rows.sort_by(|a, b| (a.first_seen, &a.value).cmp(&(b.first_seen, &b.value)));
    for row in rows {
        let Some((has_user, name)) = label.get_mut(&row.contact) else {
            continue;
        };
        let better = match row.kind {
            IdKind::User => !*has_user,
            IdKind::Anonymous => name.is_empty(),
            IdKind::Email => false,
        };
        if better {
            *name = row.value.clone();
            *has_user |= row.kind == IdKind::User;
        }
    }
    let account = snapshot
        .contact_accounts
        .iter()
        .map(|(contact, group_id, _, _)| (*contact, group_id.clone()))
        .collect();
    Ok(Contacts {
        label: label
            .into_iter()
            .map(|(id, (_, name))| (id, name))
            .collect(),
        account,
        accounts: snapshot.accounts.iter().map(|(id, _)| id.clone()).collect(),
    })
}

/// Every row, in store order, handed to `write`; `progress` is told how
/// many messages were read so far. Returns the number of rows written.
pub fn export_events<E: From<StoreError>>(
    store: &dyn Store,
    mut write: impl FnMut(&EventRow) -> Result<(), E>,
    mut progress: impl FnMut(u64),
) -> Result<u64, E> {
    let contacts = contacts(store)?;
    let (mut after, mut read, mut written) = (0, 0u64, 0u64);
    let mut named: HashSet<String> = HashSet::new();
    let mut latest = (0, 0);
    loop {
        let page = store.scan_events(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        read += page.len() as u64;
        for stored in &page {
            if let Some(row) = row(stored, &contacts) {
                named.extend(row.account_id.iter().cloned());
                latest = latest.max((row.ts, row.seq));
                write(&row)?;
                written += 1;
            }
        }
        progress(read);
    }
    for row in enrichment_rows(store)? {
        named.extend(row.account_id.iter().cloned());
        latest = latest.max((row.ts, row.seq));
        write(&row)?;
        written += 1;
    }
    for account in contacts.accounts.iter().filter(|a| !named.contains(*a)) {
        latest.1 += 1;
        write(&EventRow {
            contact_id: None,
            account_id: Some(account.clone()),
            kind: MessageKind::Group,
            event: None,
            properties: Map::new(),
            traits: Map::new(),
            ts: latest.0,
            seq: latest.1,
        })?;
        written += 1;
    }
    Ok(written)
}

/// Enrichment's trait writes as contact-less `group` rows, one per
/// (account, instant, message it followed), in that order.
fn enrichment_rows(store: &dyn Store) -> Result<Vec<EventRow>, StoreError> {
    let mut writes: std::collections::BTreeMap<(String, Millis, i64), Map<String, Value>> =
        std::collections::BTreeMap::new();
    for row in store.enriched_traits()? {
        writes
            .entry((row.group_id, row.at, row.seq))
            .or_default()
            .insert(row.key, row.value);
    }
    Ok(writes
        .into_iter()
        .map(|((group_id, at, seq), traits)| EventRow {
            contact_id: None,
            account_id: Some(group_id),
            kind: MessageKind::Group,
            event: None,
            properties: Map::new(),
            traits,
            ts: at,
            seq,
        })
        .collect())
}

/// The row of one stored message; `None` for alias calls and messages of
/// contacts merged away (the engine does not load them either).
fn row(stored: &StoredEvent, contacts: &Contacts) -> Option<EventRow> {
    let message = &stored.message;
    let live = stored
        .contact_id
        .and_then(|id| Some((id, contacts.label.get(&id)?)));
    let (contact_id, account_id) = match (message.kind, live) {
        (MessageKind::Alias, _) => return None,
        (MessageKind::Group, live) => (
            live.map(|(_, label)| label.clone()),
            message.group_id.clone(),
        ),
        (_, Some((id, label))) => (Some(label.clone()), contacts.account.get(&id).cloned()),
        (_, None) => return None,
    };
    let mut properties = if message.kind.is_behavior() {
        message.properties.clone()
    } else {
        Map::new()
    };
    if message.kind == MessageKind::Page {
        if let Some(Value::Object(page)) = message.context.get("page") {
            for field in PAGE_FIELDS {
                if let (false, Some(value)) = (properties.contains_key(*field), page.get(*field)) {
                    properties.insert((*field).to_owned(), value.clone());
                }
            }
        }
    }
    let traits = match message.kind {
        MessageKind::Identify | MessageKind::Group => message.traits.clone(),
        _ => Map::new(),
    };
    Some(EventRow {
        contact_id,
        account_id,
        kind: message.kind,
        event: message.event.clone(),
        properties,
        traits,
        ts: message.timestamp,
        seq: stored.seq,
    })
}
