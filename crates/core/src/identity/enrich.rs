//! Enrichment in the identity graph (SPEC §7 "Enrichment"): an account
//! seen with a domain gets the company traits the `[[enrichment]]` tables
//! give that domain, and a visitor whose `context.ip` lies in a listed
//! network joins that domain's account until it gives an email or group of
//! its own.
//!
//! What enrichment gave each account is kept here (and in the store, as
//! `WriteOp::AccountEnrichment`), so a reload writes only the difference,
//! and the customer's own traits always win: a key the customer sent is
//! never written by enrichment again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::IdentityGraph;
use crate::message::{ContactId, Message, Millis};
use crate::store::{AccountEnrichmentRecord, AccountLink, WriteOp};

/// The graph's enrichment state. Serialized into the engine snapshot.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct EnrichmentState {
    /// Account → the domain it is enriched by: an email-domain account's
    /// own id, a grouped account's `domain` (or `website`) trait.
    domains: HashMap<String, String>,
    /// Account → trait keys its `group` calls set (they win).
    customer_keys: HashMap<String, BTreeSet<String>>,
    /// Account → the traits enrichment gave it, as stored.
    applied: HashMap<String, Map<String, Value>>,
    /// Accounts whose domain no table lists (as of their last enrichment).
    missed: HashSet<String>,
    /// Live contacts in an account by IP (kept as links change, so the
    /// coverage published after every commit costs nothing to count).
    revealed: usize,
    /// Messages whose `context.ip` matched no network, since start-up.
    #[serde(skip)]
    ip_misses: u64,
}

/// Coverage, for `GET /api/v1/enrichment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EnrichmentCoverage {
    /// Accounts with a known domain.
    pub accounts_with_domain: usize,
    /// Accounts holding at least one enriched trait.
    pub accounts_enriched: usize,
    /// Accounts with a domain no table lists.
    pub domain_misses: usize,
    /// Contacts currently in an account by IP.
    pub visitors_revealed: usize,
    /// Messages since start-up with a `context.ip` no network holds (from
    /// contacts without an account of their own).
    pub ip_misses: u64,
}

/// The account and network an address reveals.
struct Revealed {
    group_id: String,
    domain: String,
    network: String,
}

impl IdentityGraph {
    /// A `group` call's traits: its keys become the customer's, and a
    /// `domain` (or `website`) trait names the account's domain.
    pub(super) fn note_group_traits(
        &mut self,
        group_id: &str,
        message: &Message,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        if message.traits.is_empty() {
            return;
        }
        let keys = self
            .enrichment_state
            .customer_keys
            .entry(group_id.to_owned())
            .or_default();
        keys.extend(message.traits.keys().cloned());
        // Keys the customer now sets are theirs: enrichment lets go of them
        // (the customer's values land in the same commit).
        let mut released = false;
        if let Some(applied) = self.enrichment_state.applied.get_mut(group_id) {
            for key in message.traits.keys() {
                released |= applied.remove(key).is_some();
            }
        }
        let domain = ["domain", "website"]
            .iter()
            .filter_map(|key| message.traits.get(*key)?.as_str())
            .find_map(bellwether_enrich::normalize_domain);
        if let Some(domain) = domain {
            self.account_seen(group_id, &domain, message.timestamp, seq, ops);
        }
        if released {
            self.record_enrichment(group_id, Map::new(), message.timestamp, seq, ops);
        }
    }

    /// An account seen with `domain`: enriched when its domain is new.
    pub(super) fn account_seen(
        &mut self,
        group_id: &str,
        domain: &str,
        at: Millis,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        let known = self.enrichment_state.domains.get(group_id);
        if known.is_some_and(|d| d == domain) {
            return;
        }
        self.enrichment_state
            .domains
            .insert(group_id.to_owned(), domain.to_owned());
        if !self.config.enrichment.is_configured() {
            return;
        }
        self.enrich(group_id, at, seq, ops);
        self.config.enrichment.want(domain);
    }

    /// Writes what the tables give `group_id` now, where it differs from
    /// what enrichment gave it before: new and changed values, and `null`
    /// for a trait a table no longer lists.
    fn enrich(&mut self, group_id: &str, at: Millis, seq: i64, ops: &mut Vec<WriteOp>) {
        let Some(domain) = self.enrichment_state.domains.get(group_id) else {
            return;
        };
        let listed = self.config.enrichment.traits_for(domain);
        if listed.is_none() {
            self.enrichment_state.missed.insert(group_id.to_owned());
        } else {
            self.enrichment_state.missed.remove(group_id);
        }
        let mut wanted = listed.unwrap_or_default();
        if let Some(keys) = self.enrichment_state.customer_keys.get(group_id) {
            wanted.retain(|key, _| !keys.contains(key));
        }
        let before = self.enrichment_state.applied.get(group_id);
        let mut changes: Map<String, Value> = wanted
            .iter()
            .filter(|(key, value)| before.and_then(|b| b.get(*key)) != Some(value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if let Some(before) = before {
            for key in before.keys().filter(|key| !wanted.contains_key(*key)) {
                changes.insert(key.clone(), Value::Null);
            }
        }
        if changes.is_empty() {
            return;
        }
        if wanted.is_empty() {
            self.enrichment_state.applied.remove(group_id);
        } else {
            self.enrichment_state
                .applied
                .insert(group_id.to_owned(), wanted);
        }
        self.record_enrichment(group_id, changes, at, seq, ops);
    }

    /// The store's record of what enrichment gives `group_id`, with the
    /// trait `changes` that brought it there.
    fn record_enrichment(
        &self,
        group_id: &str,
        changes: Map<String, Value>,
        at: Millis,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        let state = &self.enrichment_state;
        ops.push(WriteOp::AccountEnrichment {
            group_id: group_id.to_owned(),
            domain: state.domains.get(group_id).cloned().unwrap_or_default(),
            changes,
            applied: state.applied.get(group_id).cloned().unwrap_or_default(),
            at,
            seq,
        });
    }

    /// Re-applies the tables to the accounts whose domain is in `only`
    /// (the domains a reload changed, the one the provider answered for),
    /// or to every account with a domain (at start, when what changed
    /// while stopped is unknown): writes only what differs from what
    /// enrichment gave before, at `at`, ordered after message `seq`.
    pub fn refresh_enrichment(
        &mut self,
        only: Option<&HashSet<String>>,
        at: Millis,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        let mut accounts: Vec<String> = self
            .enrichment_state
            .domains
            .iter()
            .filter(|(_, domain)| only.is_none_or(|only| only.contains(domain.as_str())))
            .map(|(group_id, _)| group_id.clone())
            .collect();
        accounts.sort_unstable();
        for group_id in accounts {
            self.enrich(&group_id, at, seq, ops);
        }
    }

    /// What enrichment gave each account, as the store holds it: it
    /// replaces the graph's own record at start (the store is the truth).
    pub fn set_applied_enrichment(&mut self, applied: Vec<AccountEnrichmentRecord>) {
        self.enrichment_state.applied.clear();
        for AccountEnrichmentRecord {
            group_id,
            domain,
            traits,
        } in applied
        {
            if !domain.is_empty() {
                self.enrichment_state
                    .domains
                    .entry(group_id.clone())
                    .or_insert(domain);
            }
            if !traits.is_empty() {
                self.enrichment_state.applied.insert(group_id, traits);
            }
        }
    }

    /// The account a visitor's address reveals, when the contact has no
    /// account of its own (one by group or email).
    pub(super) fn reveal_by_ip(
        &mut self,
        contact: ContactId,
        message: &Message,
        seq: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        let Some(ip) = message.context.get("ip").and_then(Value::as_str) else {
            return;
        };
        if !self.config.enrichment.has_ip_tables() {
            return;
        }
        let own_account = self
            .live
            .get(&contact)
            .and_then(|node| node.account.as_ref())
            .is_some_and(|(_, link)| *link != AccountLink::Ip);
        if own_account {
            return;
        }
        // Not an address (a placeholder, a redacted value): nothing to look up.
        let Ok(ip) = ip.trim().parse::<IpAddr>() else {
            return;
        };
        let Some(revealed) = self.revealed(ip) else {
            self.enrichment_state.ip_misses += 1;
            return;
        };
        let at = message.timestamp;
        self.ensure_account(&revealed.group_id, at, ops);
        self.account_seen(&revealed.group_id, &revealed.domain, at, seq, ops);
        self.set_account_via(
            contact,
            &revealed.group_id,
            AccountLink::Ip,
            Some(revealed.network),
            at,
            ops,
        );
    }

    fn revealed(&self, ip: IpAddr) -> Option<Revealed> {
        let reveal = self.config.enrichment.reveal(ip)?;
        let group_id = self
            .account_by_domain
            .get(&reveal.domain)
            .cloned()
            .unwrap_or_else(|| reveal.domain.clone());
        Some(Revealed {
            group_id,
            domain: reveal.domain,
            network: reveal.network,
        })
    }

    /// Coverage of the enrichment tables over the graph's accounts.
    pub fn enrichment_coverage(&self) -> EnrichmentCoverage {
        let state = &self.enrichment_state;
        EnrichmentCoverage {
            accounts_with_domain: state.domains.len(),
            accounts_enriched: state.applied.len(),
            domain_misses: state.missed.len(),
            visitors_revealed: state.revealed,
            ip_misses: state.ip_misses,
        }
    }

    /// Keeps the count of contacts in an account by IP as a contact's link
    /// goes from `before` to `after` (`None`: no account, or the contact
    /// is gone).
    pub(super) fn count_reveal(&mut self, before: Option<AccountLink>, after: Option<AccountLink>) {
        let revealed = &mut self.enrichment_state.revealed;
        match (
            before == Some(AccountLink::Ip),
            after == Some(AccountLink::Ip),
        ) {
            (false, true) => *revealed += 1,
            (true, false) => *revealed = revealed.saturating_sub(1),
            _ => {}
        }
    }
}
