//! The directory of subjects: contacts or accounts found by a search on
//! their ids, email, name or domain, filtered by a segment or a tier level,
//! ordered by id or by a score (highest first), one keyset page at a time.
//!
//! Reads only the engine's memory (labels, current traits, values), so a
//! page over 100,000 contacts costs one pass over them and a bounded heap of
//! `limit` entries: no sort of everything, no store query.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use bellwether_rules::{SubjectKind, Traits};

use super::values::Values;
use super::View;
use crate::message::Millis;
use crate::subject::SubjectKey;

/// How a directory page is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryOrder<'a> {
    /// By id (user id, else anonymous id, of a contact; group id of an
    /// account), ascending.
    Id,
    /// By this score's value now, highest first (subjects without it
    /// last), then by id.
    Score(&'a str),
}

/// Where a page starts: strictly after this subject in the page's order.
/// Built from the last entry of the previous page.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryPosition {
    /// The score the subject was ordered by (only for a score order).
    pub score: Option<f64>,
    pub id: String,
    /// The store key (contact number or group id): ties between equal ids.
    pub key: String,
}

/// Which subjects to list.
#[derive(Debug, Clone)]
pub struct DirectoryQuery<'a> {
    pub kind: SubjectKind,
    /// Case-insensitive substring of the id, email, name or domain.
    pub search: Option<&'a str>,
    /// Only members of this segment (of the same kind of subject).
    pub segment: Option<&'a str>,
    /// Only subjects at this level of this tier: `(tier, level)`.
    pub tier: Option<(&'a str, &'a str)>,
    pub order: DirectoryOrder<'a>,
    pub after: Option<DirectoryPosition>,
    pub limit: usize,
    pub now: Millis,
}

/// One listed subject, with what a directory row shows.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub key: SubjectKey,
    pub id: String,
    /// A contact's `email` trait.
    pub email: Option<String>,
    /// The `name` trait (else first and last names).
    pub name: Option<String>,
    /// A contact's account, or an account's `domain` trait.
    pub domain: Option<String>,
    /// The score ordered by, now.
    pub score: Option<f64>,
    pub values: Values,
}

impl DirectoryEntry {
    /// Where the page after this entry starts.
    pub fn position(&self) -> DirectoryPosition {
        DirectoryPosition {
            score: self.score,
            id: self.id.clone(),
            key: self.key.store_key(),
        }
    }
}

/// One page, and how many subjects matched the search and filters in all.
#[derive(Debug, Clone)]
pub struct DirectoryPage {
    pub entries: Vec<DirectoryEntry>,
    /// Whether more match after the last entry.
    pub more: bool,
    pub matched: usize,
}

/// A candidate's place in the order; `Ord` puts earlier entries first.
/// Borrows the id, so ranking every subject allocates nothing.
#[derive(Debug, Clone, PartialEq)]
struct Rank<'a> {
    score: Option<f64>,
    id: &'a str,
    key: SubjectKey,
}

impl Eq for Rank<'_> {}

impl Ord for Rank<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Higher scores first, no score last, then id and key ascending.
        let by_score = match (self.score, other.score) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_score
            .then_with(|| self.id.cmp(other.id))
            .then_with(|| self.key.cmp(&other.key))
    }
}

impl PartialOrd for Rank<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a search reads of one subject.
struct Described<'a> {
    id: &'a str,
    traits: &'a Traits,
    /// A contact's account id (accounts: none, their id is `id`).
    account: Option<&'a str>,
}

impl View {
    /// One page of the directory (see [`DirectoryQuery`]).
    pub fn directory(&self, query: &DirectoryQuery<'_>) -> DirectoryPage {
        let needle = query
            .search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let after = match &query.after {
            None => None,
            Some(p) => match SubjectKey::from_store(query.kind, &p.key) {
                Some(key) => Some(Rank {
                    score: p.score,
                    id: &p.id,
                    key,
                }),
                // Not a key of this kind: nothing comes after it.
                None => {
                    return DirectoryPage {
                        entries: Vec::new(),
                        more: false,
                        matched: 0,
                    }
                }
            },
        };
        let keep = query.limit.saturating_add(1);
        // The `keep` earliest candidates after the cursor, latest on top.
        let mut heap: BinaryHeap<Rank<'_>> = BinaryHeap::with_capacity(keep + 1);
        let mut matched = 0;
        for (key, described) in self.directory_candidates(query) {
            if !self.passes_filters(&key, query)
                || !needle
                    .as_deref()
                    .is_none_or(|n| matches_search(&described, query.now, n))
            {
                continue;
            }
            matched += 1;
            let score = match query.order {
                DirectoryOrder::Id => None,
                DirectoryOrder::Score(name) => self.score_value(&key, name, query.now),
            };
            let rank = Rank {
                score,
                id: described.id,
                key,
            };
            if after.as_ref().is_some_and(|after| rank <= *after) {
                continue;
            }
            if heap.len() == keep {
                match heap.peek() {
                    Some(latest) if rank < *latest => {
                        heap.pop();
                    }
                    _ => continue,
                }
            }
            heap.push(rank);
        }
        let mut ranked = heap.into_sorted_vec();
        let more = ranked.len() > query.limit;
        ranked.truncate(query.limit);
        let entries = ranked
            .into_iter()
            .filter_map(|rank| self.directory_entry(rank, query.now))
            .collect();
        DirectoryPage {
            entries,
            more,
            matched,
        }
    }

    /// The subjects a query may list, with what a search reads of them: a
    /// segment's members, or every subject of the kind (read in place).
    fn directory_candidates<'s>(
        &'s self,
        query: &DirectoryQuery<'_>,
    ) -> Box<dyn Iterator<Item = (SubjectKey, Described<'s>)> + 's> {
        if let Some(segment) = query.segment {
            let kind = query.kind;
            let members = self.members.get(segment).into_iter().flat_map(|m| m.keys());
            return Box::new(
                members
                    .filter(move |key| key.kind() == kind)
                    .filter_map(|key| Some((key.clone(), self.described(key)?))),
            );
        }
        match query.kind {
            SubjectKind::Contact => Box::new(self.state.contacts.iter().map(|(id, contact)| {
                let described = Described {
                    id: &contact.label,
                    traits: &contact.traits,
                    account: contact.account.as_deref(),
                };
                (SubjectKey::Contact(*id), described)
            })),
            SubjectKind::Account => Box::new(self.state.accounts.iter().map(|(id, account)| {
                let described = Described {
                    id,
                    traits: &account.traits,
                    account: None,
                };
                (SubjectKey::Account(id.clone()), described)
            })),
        }
    }

    fn passes_filters(&self, key: &SubjectKey, query: &DirectoryQuery<'_>) -> bool {
        let Some((tier, level)) = query.tier else {
            return true;
        };
        self.values
            .get(key)
            .and_then(|values| values.tier(tier))
            .is_some_and(|at| &**at == level)
    }

    fn described(&self, key: &SubjectKey) -> Option<Described<'_>> {
        match key {
            SubjectKey::Contact(id) => {
                let contact = self.state.contacts.get(id)?;
                Some(Described {
                    id: &contact.label,
                    traits: &contact.traits,
                    account: contact.account.as_deref(),
                })
            }
            SubjectKey::Account(group_id) => {
                let (id, account) = self.state.accounts.get_key_value(group_id)?;
                Some(Described {
                    id,
                    traits: &account.traits,
                    account: None,
                })
            }
        }
    }

    fn directory_entry(&self, rank: Rank<'_>, now: Millis) -> Option<DirectoryEntry> {
        let key = rank.key;
        let described = self.described(&key)?;
        let domain = match &key {
            SubjectKey::Contact(_) => described.account.map(str::to_owned),
            SubjectKey::Account(_) => text_trait(described.traits, "domain", now),
        };
        Some(DirectoryEntry {
            email: text_trait(described.traits, "email", now),
            name: name_of(described.traits, now),
            domain,
            score: rank.score,
            id: rank.id.to_owned(),
            values: self.values.get(&key).cloned().unwrap_or_default(),
            key,
        })
    }
}

/// Whether the subject's id, email, name or domain contains `needle`
/// (already lowercase).
fn matches_search(described: &Described<'_>, now: Millis, needle: &str) -> bool {
    let traits = described.traits;
    let text = |key: &str| traits.get_at(key, now).and_then(|v| v.as_str());
    let found = |key: &str| text(key).is_some_and(|value| contains_folded(value, needle));
    contains_folded(described.id, needle)
        || described
            .account
            .is_some_and(|account| contains_folded(account, needle))
        || ["email", "domain", "website"].into_iter().any(found)
        || match text("name") {
            Some(name) => contains_folded(name, needle),
            // First and last names are read only without a full name.
            None => ["firstName", "lastName", "first_name", "last_name"]
                .into_iter()
                .any(found),
        }
}

/// Case-insensitive `contains` without allocating for ASCII text (the
/// common case: ids, emails, domains).
fn contains_folded(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let (hay, pin) = (haystack.as_bytes(), needle.as_bytes());
        return pin.is_empty()
            || hay
                .windows(pin.len())
                .any(|window| window.eq_ignore_ascii_case(pin));
    }
    haystack.to_lowercase().contains(needle)
}

fn text_trait(traits: &Traits, key: &str, now: Millis) -> Option<String> {
    traits
        .get_at(key, now)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// The `name` trait, else first and last names joined.
fn name_of(traits: &Traits, now: Millis) -> Option<String> {
    if let Some(name) = text_trait(traits, "name", now) {
        return Some(name);
    }
    let first =
        text_trait(traits, "firstName", now).or_else(|| text_trait(traits, "first_name", now));
    let last = text_trait(traits, "lastName", now).or_else(|| text_trait(traits, "last_name", now));
    match (first, last) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (first, last) => first.or(last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_contains_ignores_ascii_case_and_handles_unicode() {
        assert!(contains_folded("Ada@Example.COM", "example.com"));
        assert!(!contains_folded("ada@example.com", "bob"));
        assert!(contains_folded("Zoë Ünal", "ünal"));
        assert!(contains_folded("x", ""));
    }

    #[test]
    fn ranks_put_high_scores_first_and_missing_scores_last() {
        let rank = |score: Option<f64>, id: &'static str| Rank {
            score,
            id,
            key: SubjectKey::Contact(1),
        };
        let mut ranks = [
            rank(None, "a"),
            rank(Some(1.0), "c"),
            rank(Some(5.0), "d"),
            rank(Some(1.0), "b"),
        ];
        ranks.sort();
        let ids: Vec<&str> = ranks.iter().map(|r| r.id).collect();
        assert_eq!(ids, ["d", "b", "c", "a"]);
    }
}
