//! Overlap between segments right now: for every pair of segments of the
//! same kind of subject, the members they share and the Jaccard index
//! (shared / in either).

use std::collections::BTreeSet;

use serde::Serialize;

use super::ReportError;
use crate::engine::{SubjectKey, View};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapPair {
    pub a: String,
    pub b: String,
    pub size_a: u64,
    pub size_b: u64,
    pub shared: u64,
    /// shared / (size_a + size_b − shared); `None` when both are empty.
    pub jaccard: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapReport {
    /// Most overlapping first (then by names).
    pub pairs: Vec<OverlapPair>,
}

/// Pairwise overlap of `segments` (every segment when empty).
pub fn overlap(engine: &View, segments: &[String]) -> Result<OverlapReport, ReportError> {
    let names: Vec<String> = match segments.is_empty() {
        true => engine.segment_sizes().into_iter().map(|(n, _)| n).collect(),
        false => segments.to_vec(),
    };
    let mut sets = Vec::with_capacity(names.len());
    for name in &names {
        let subject = engine
            .segment_subject(name)
            .ok_or_else(|| ReportError::UnknownSegment(name.clone()))?;
        let members: BTreeSet<SubjectKey> = engine.member_keys(name).into_iter().collect();
        sets.push((name, subject, members));
    }
    let mut pairs = Vec::new();
    for (i, (a, kind_a, members_a)) in sets.iter().enumerate() {
        for (b, kind_b, members_b) in &sets[i + 1..] {
            if kind_a != kind_b {
                continue;
            }
            let shared = members_a.intersection(members_b).count() as u64;
            let (size_a, size_b) = (members_a.len() as u64, members_b.len() as u64);
            let union = size_a + size_b - shared;
            pairs.push(OverlapPair {
                a: (*a).clone(),
                b: (*b).clone(),
                size_a,
                size_b,
                shared,
                jaccard: (union > 0).then(|| shared as f64 / union as f64),
            });
        }
    }
    pairs.sort_by(|x, y| {
        let (jx, jy) = (x.jaccard.unwrap_or(-1.0), y.jaccard.unwrap_or(-1.0));
        jy.total_cmp(&jx)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    Ok(OverlapReport { pairs })
}
