//! Who owns whom: each subject's current owner in each segment that gave it
//! one. Kept compact because it lives as long as the server and covers most
//! subjects: a subject has one to a few owners, and the same dozen segment
//! and owner names recur across every subject, so names are interned and
//! each subject holds one exact-size slice (a map per subject cost about
//! 550 bytes each).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::names::Names;
use crate::subject::SubjectKey;

/// (segment, owner), names shared.
type Owned = (Arc<str>, Arc<str>);

#[derive(Debug, Default)]
pub(super) struct Owners {
    by_subject: HashMap<SubjectKey, Box<[Owned]>>,
    names: Names,
}

impl Owners {
    /// `owner` now owns `subject` in `segment` (replacing any owner there).
    pub(super) fn insert(&mut self, segment: &str, subject: SubjectKey, owner: &str) {
        let owned = (self.names.intern(segment), self.names.intern(owner));
        let current = self.by_subject.remove(&subject).unwrap_or_default();
        let mut owners: Vec<Owned> = current
            .into_vec()
            .into_iter()
            .filter(|(s, _)| **s != *segment)
            .collect();
        owners.push(owned);
        self.by_subject.insert(subject, owners.into_boxed_slice());
    }

    /// Ends `subject`'s assignment in `segment`; returns its owner there.
    pub(super) fn remove(&mut self, segment: &str, subject: &SubjectKey) -> Option<String> {
        let current = self.by_subject.remove(subject)?;
        let (ended, kept): (Vec<Owned>, Vec<Owned>) = current
            .into_vec()
            .into_iter()
            .partition(|(s, _)| **s == *segment);
        if !kept.is_empty() {
            self.by_subject
                .insert(subject.clone(), kept.into_boxed_slice());
        }
        ended.first().map(|(_, owner)| owner.to_string())
    }

    /// A subject that is gone owns nothing.
    pub(super) fn forget(&mut self, subject: &SubjectKey) {
        self.by_subject.remove(subject);
    }

    /// Every current owner of `subject`: segment → owner.
    pub(super) fn of(&self, subject: &SubjectKey) -> BTreeMap<String, String> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flat_map(|owners| owners.iter())
            .map(|(segment, owner)| (segment.to_string(), owner.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners_of(owners: &Owners, subject: &SubjectKey) -> Vec<(String, String)> {
        owners.of(subject).into_iter().collect()
    }

    #[test]
    fn owners_are_kept_replaced_and_ended_per_segment() {
        let (ann, acme) = (SubjectKey::Contact(1), SubjectKey::Account("acme".into()));
        let mut owners = Owners::default();
        owners.insert("hot", ann.clone(), "dana");
        owners.insert("churn", ann.clone(), "eli");
        owners.insert("hot", ann.clone(), "finn");
        owners.insert("hot", acme.clone(), "dana");
        assert_eq!(
            owners_of(&owners, &ann),
            [
                ("churn".into(), "eli".into()),
                ("hot".into(), "finn".into())
            ]
        );
        assert_eq!(owners.remove("hot", &ann), Some("finn".into()));
        assert_eq!(owners.remove("hot", &ann), None);
        assert_eq!(owners_of(&owners, &ann), [("churn".into(), "eli".into())]);
        assert_eq!(owners.remove("churn", &ann), Some("eli".into()));
        assert!(owners.of(&ann).is_empty());
        assert!(!owners.by_subject.contains_key(&ann), "no empty entry left");
        owners.forget(&acme);
        assert!(owners.of(&acme).is_empty());
    }

    #[test]
    fn names_are_shared_between_subjects() {
        let mut owners = Owners::default();
        for id in 1..=3 {
            owners.insert("hot", SubjectKey::Contact(id), "dana");
        }
        let first = &owners.by_subject[&SubjectKey::Contact(1)][0];
        let third = &owners.by_subject[&SubjectKey::Contact(3)][0];
        assert!(Arc::ptr_eq(&first.0, &third.0) && Arc::ptr_eq(&first.1, &third.1));
        assert_eq!(owners.names.len(), 2);
    }
}
