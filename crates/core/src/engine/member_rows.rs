//! A segment's members in chunks, for exports that stream every member
//! (`members.csv`): each chunk continues after the last subject of the
//! previous one, so an export holds one chunk of rows however large the
//! segment (the server reads every chunk from one published view).

use std::ops::Bound;

use super::View;
use crate::message::Millis;
use crate::subject::SubjectKey;

/// One member with its scores.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    /// User id (else anonymous id) of a contact, group id of an account.
    pub id: String,
    pub entered_at: Millis,
    /// The requested scores' values now, in the order asked (`None`: the
    /// subject has no such score).
    pub scores: Vec<Option<f64>>,
}

/// One chunk, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberChunk {
    pub rows: Vec<MemberRow>,
    pub next: Option<SubjectKey>,
}

impl View {
    /// Up to `limit` members of `segment` after `after` (in the engine's
    /// subject order: contacts by number, accounts by group id), each with
    /// the values of `scores` at `now`. A segment that does not exist has
    /// no members.
    pub fn member_chunk(
        &self,
        segment: &str,
        after: Option<&SubjectKey>,
        limit: usize,
        scores: &[String],
        now: Millis,
    ) -> MemberChunk {
        let Some(members) = self.members.get(segment) else {
            return MemberChunk {
                rows: Vec::new(),
                next: None,
            };
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut rows = Vec::with_capacity(limit.min(members.len()));
        let mut last = None;
        for (key, entered_at) in members
            .range::<_, SubjectKey>((start, Bound::Unbounded))
            .take(limit)
        {
            rows.push(MemberRow {
                id: self.label(key),
                entered_at: *entered_at,
                scores: scores
                    .iter()
                    .map(|name| self.score_value(key, name, now))
                    .collect(),
            });
            last = Some(key);
        }
        let next = match last {
            Some(key) if rows.len() == limit => Some(key.clone()),
            _ => None,
        };
        MemberChunk { rows, next }
    }
}
