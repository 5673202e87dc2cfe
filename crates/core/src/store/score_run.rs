//! A first start's score history, one row per run of forms instead of
//! one per form.

use super::ScoreRecord;

/// One subject's consecutive forms of one score under one label, oldest
/// first: what a first start's walk writes as one row (the last form in
/// the row's columns, the earlier ones packed beside it). A row per form
/// made 80 % of the rows a first start wrote and about a third of its time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRun {
    /// One subject, score and label as `last`.
    earlier: Vec<ScoreRecord>,
    last: ScoreRecord,
}

impl ScoreRun {
    /// Forms in one run at most, so that no row grows without bound (a
    /// contact with years of scoring events gets several).
    pub const MAX_FORMS: usize = 4096;

    /// Splits records into runs. Each subject's forms of one score keep
    /// their order, so its last run holds its last form.
    pub fn split(mut records: Vec<ScoreRecord>) -> Vec<ScoreRun> {
        // Stable: the forms of one subject and score stay in order.
        records.sort_by(|a, b| (&a.subject, &a.score).cmp(&(&b.subject, &b.score)));
        let mut runs: Vec<ScoreRun> = Vec::new();
        for record in records {
            match runs.last_mut() {
                Some(run) if run.continues_with(&record) => {
                    let previous = std::mem::replace(&mut run.last, record);
                    run.earlier.push(previous);
                }
                _ => runs.push(ScoreRun {
                    earlier: Vec::new(),
                    last: record,
                }),
            }
        }
        runs
    }

    fn continues_with(&self, record: &ScoreRecord) -> bool {
        self.earlier.len() + 1 < Self::MAX_FORMS && self.holds(record)
    }

    /// Whether `form` is of this run's subject, score and label.
    fn holds(&self, form: &ScoreRecord) -> bool {
        let last = &self.last;
        form.subject == last.subject && form.score == last.score && form.label == last.label
    }

    /// The newest form.
    pub fn last(&self) -> &ScoreRecord {
        &self.last
    }

    /// The forms before [`ScoreRun::last`], oldest first.
    pub fn earlier(&self) -> &[ScoreRecord] {
        &self.earlier
    }

    /// Every form, oldest first.
    pub fn into_records(self) -> Vec<ScoreRecord> {
        let mut forms = self.earlier;
        forms.push(self.last);
        forms
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::subject::SubjectKey;

    fn form(subject: u8, score: u8, label: u8, at: i64) -> ScoreRecord {
        ScoreRecord {
            at,
            subject: SubjectKey::Contact(i64::from(subject)),
            label: format!("user-{label}"),
            score: format!("score-{score}"),
            value: at as f64,
            constant: 1.0,
            decaying: 0.0,
            anchor: at,
            half_life: None,
        }
    }

    proptest! {
        #[test]
        fn runs_hold_each_subjects_forms_of_a_score_in_order(
            forms in proptest::collection::vec((0u8..3, 0u8..2, 0u8..2), 0..60),
        ) {
            let records: Vec<_> = forms
                .iter()
                .enumerate()
                .map(|(at, &(subject, score, label))| form(subject, score, label, at as i64))
                .collect();
            let runs = ScoreRun::split(records.clone());
            for run in &runs {
                prop_assert!(run.earlier().iter().all(|f| run.holds(f)));
            }
            // Each (subject, score): its runs, read in order, are its forms.
            let key = |r: &ScoreRecord| (r.subject.clone(), r.score.clone());
            let mut keys: Vec<_> = records.iter().map(key).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let of = |r: &&ScoreRecord| key(r) == k;
                let read: Vec<ScoreRecord> = runs
                    .iter()
                    .filter(|run| key(run.last()) == k)
                    .flat_map(|run| run.clone().into_records())
                    .collect();
                let recorded: Vec<ScoreRecord> = records.iter().filter(of).cloned().collect();
                prop_assert_eq!(read, recorded);
            }
            // A new run only where the label changes.
            let label_changes = records
                .iter()
                .map(key)
                .zip(&records)
                .fold((std::collections::BTreeMap::new(), 0), |(mut last, mut n), (k, r)| {
                    if last.insert(k, r.label.clone()).is_none_or(|was| was != r.label) {
                        n += 1;
                    }
                    (last, n)
                })
                .1;
            prop_assert_eq!(runs.len(), label_changes);
        }
    }

    #[test]
    fn a_long_run_is_split_at_its_bound() {
        let records: Vec<_> = (0..ScoreRun::MAX_FORMS as i64 * 2 + 1)
            .map(|at| form(1, 1, 1, at))
            .collect();
        let runs = ScoreRun::split(records);
        let lengths: Vec<_> = runs.iter().map(|run| run.earlier().len() + 1).collect();
        assert_eq!(lengths, [ScoreRun::MAX_FORMS, ScoreRun::MAX_FORMS, 1]);
        assert_eq!(runs[2].last().at, ScoreRun::MAX_FORMS as i64 * 2);
    }
}
