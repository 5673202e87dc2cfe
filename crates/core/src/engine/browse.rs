//! Queries for people browsing the engine's state (the web UI): members
//! ranked by a score with a search, and how many subjects sit at each tier
//! level.

use bellwether_rules::DefKind;

use super::View;
use crate::message::Millis;

/// One segment member with the score it is ranked by.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedMember {
    /// User id (or anonymous id) of a contact, group id of an account.
    pub id: String,
    pub entered_at: Millis,
    /// The ranking score's value now; `None` without a score to rank by.
    pub score: Option<f64>,
}

/// A page of ranked members and how many matched the search in all.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedPage {
    pub members: Vec<RankedMember>,
    pub matched: usize,
}

/// What to list: which score ranks, which ids match, which page.
#[derive(Debug, Clone, Copy)]
pub struct MemberQuery<'a> {
    pub segment: &'a str,
    /// Highest first; ties (and no score) by id.
    pub score: Option<&'a str>,
    /// Case-insensitive substring of the id.
    pub search: Option<&'a str>,
    pub offset: usize,
    pub limit: usize,
    pub now: Millis,
}

impl View {
    /// Members of a segment ranked by a score (highest first), filtered by
    /// a search on their ids, one page of them.
    pub fn ranked_members(&self, query: MemberQuery<'_>) -> RankedPage {
        let Some(members) = self.members.get(query.segment) else {
            return RankedPage {
                members: Vec::new(),
                matched: 0,
            };
        };
        let needle = query
            .search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let mut listed: Vec<RankedMember> = members
            .iter()
            .map(|(key, entered_at)| (self.label(key), key, *entered_at))
            .filter(|(id, _, _)| {
                needle
                    .as_ref()
                    .is_none_or(|n| id.to_lowercase().contains(n.as_str()))
            })
            .map(|(id, key, entered_at)| RankedMember {
                score: query.score.and_then(|name| {
                    let value = self.values.get(key)?.score(name)?;
                    Some(value.at(query.now))
                }),
                id,
                entered_at,
            })
            .collect();
        listed.sort_by(|a, b| {
            let rank = |m: &RankedMember| m.score.unwrap_or(f64::NEG_INFINITY);
            rank(b).total_cmp(&rank(a)).then_with(|| a.id.cmp(&b.id))
        });
        let matched = listed.len();
        let members = listed
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        RankedPage { members, matched }
    }

    /// For every tier (in definition order): how many subjects sit at each
    /// of its levels (in level order) and how many at none.
    pub fn tier_level_counts(&self) -> Vec<TierCounts> {
        let definitions = self.rules.definitions();
        self.rules
            .order()
            .iter()
            .filter(|d| d.kind == DefKind::Tier)
            .filter_map(|d| definitions.tier.iter().find(|t| t.name == *d.name))
            .map(|tier| {
                let mut levels: Vec<(String, usize)> =
                    tier.levels.iter().map(|l| (l.name.clone(), 0)).collect();
                let mut subjects = 0;
                for (key, values) in &self.values {
                    if key.kind() != tier.subject {
                        continue;
                    }
                    subjects += 1;
                    let Some(level) = values.tier(tier.name.as_str()) else {
                        continue;
                    };
                    if let Some(slot) = levels.iter_mut().find(|(name, _)| **name == **level) {
                        slot.1 += 1;
                    }
                }
                let placed: usize = levels.iter().map(|(_, n)| n).sum();
                TierCounts {
                    name: tier.name.clone(),
                    subject: tier.subject.as_str(),
                    levels,
                    unplaced: subjects - placed,
                }
            })
            .collect()
    }
}

/// One tier's level sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct TierCounts {
    pub name: String,
    /// `contact` or `account`.
    pub subject: &'static str,
    /// Each level with its size, in level order.
    pub levels: Vec<(String, usize)>,
    /// Subjects of the tier's kind at no level.
    pub unplaced: usize,
}
