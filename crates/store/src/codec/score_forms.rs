//! The earlier forms of a score run (`ScoreRun`) packed into one column
//! beside its last form: 34 bytes a form at 10M events, where a row of its
//! own took 126 with its index entry (930 MB for 7.36M forms).
//!
//! Layout: a format byte, then per form, oldest first: its instant as the
//! difference from the form before it (the first: from the last form's),
//! zigzag LEB128; value, constant and decaying part as `f64` LE; the
//! anchor as the difference from the form's instant, zigzag LEB128; the
//! half-life plus one, LEB128 (0: no decay). Subject, label and score are
//! the row's.

use bellwether_core::store::{ScoreRecord, ScoreRun, StoreError};

const FORMAT: u8 = 1;

/// The column of a run's earlier forms; `None` when it has none (a row of
/// one form, as live recording writes).
pub(crate) fn pack(run: &ScoreRun) -> Option<Vec<u8>> {
    let earlier = run.earlier();
    if earlier.is_empty() {
        return None;
    }
    let mut bytes = Vec::with_capacity(1 + earlier.len() * 32);
    bytes.push(FORMAT);
    let mut previous = run.last().at;
    for form in earlier {
        put_signed(&mut bytes, form.at.wrapping_sub(previous));
        for part in [form.value, form.constant, form.decaying] {
            bytes.extend_from_slice(&part.to_le_bytes());
        }
        put_signed(&mut bytes, form.anchor.wrapping_sub(form.at));
        put_unsigned(
            &mut bytes,
            form.half_life.map_or(0, |h| (h as u64).wrapping_add(1)),
        );
        previous = form.at;
    }
    Some(bytes)
}

/// Every form of a row, oldest first: those packed in `earlier`, then
/// `last` (the row's own columns).
pub(crate) fn unpack(
    earlier: Option<&[u8]>,
    last: ScoreRecord,
) -> Result<Vec<ScoreRecord>, StoreError> {
    let Some(bytes) = earlier else {
        return Ok(vec![last]);
    };
    let mut reader = Reader::start(bytes)?;
    let mut forms = Vec::new();
    let mut previous = last.at;
    while !reader.done() {
        let form = reader.form(previous)?;
        previous = form.at;
        forms.push(ScoreRecord {
            at: form.at,
            subject: last.subject.clone(),
            label: last.label.clone(),
            score: last.score.clone(),
            value: form.value,
            constant: form.constant,
            decaying: form.decaying,
            anchor: form.anchor,
            half_life: form.half_life,
        });
    }
    forms.push(last);
    Ok(forms)
}

/// How many forms a row holds: those packed in `earlier`, and its own.
pub(crate) fn count(earlier: Option<&[u8]>) -> Result<u64, StoreError> {
    let Some(bytes) = earlier else {
        return Ok(1);
    };
    let mut reader = Reader::start(bytes)?;
    let mut forms = 1;
    while !reader.done() {
        reader.form(0)?;
        forms += 1;
    }
    Ok(forms)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("score_changes.earlier: {what}"))
}

fn put_unsigned(bytes: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        bytes.push((n as u8) | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
}

fn put_signed(bytes: &mut Vec<u8>, n: i64) {
    put_unsigned(bytes, ((n << 1) ^ (n >> 63)) as u64);
}

/// One packed form: a `ScoreRecord` without what the row gives.
struct Form {
    at: i64,
    value: f64,
    constant: f64,
    decaying: f64,
    anchor: i64,
    half_life: Option<i64>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader past the format byte, which must be [`FORMAT`].
    fn start(bytes: &'a [u8]) -> Result<Self, StoreError> {
        let mut reader = Reader { bytes, at: 0 };
        match reader.byte()? {
            FORMAT => Ok(reader),
            other => Err(corrupt(&format!("unknown format {other}"))),
        }
    }

    /// The next form, its instant following `previous`'s.
    fn form(&mut self, previous: i64) -> Result<Form, StoreError> {
        let at = previous.wrapping_add(self.signed()?);
        let value = self.float()?;
        let constant = self.float()?;
        let decaying = self.float()?;
        let anchor = at.wrapping_add(self.signed()?);
        let half_life = match self.unsigned()? {
            0 => None,
            plus_one => Some((plus_one - 1) as i64),
        };
        Ok(Form {
            at,
            value,
            constant,
            decaying,
            anchor,
            half_life,
        })
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn byte(&mut self) -> Result<u8, StoreError> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| corrupt("truncated"))?;
        self.at += 1;
        Ok(byte)
    }

    fn unsigned(&mut self) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(corrupt("integer longer than 64 bits"))
    }

    fn signed(&mut self) -> Result<i64, StoreError> {
        let n = self.unsigned()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn float(&mut self) -> Result<f64, StoreError> {
        let end = self.at + 8;
        let bytes = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| corrupt("truncated"))?;
        self.at = end;
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        Ok(f64::from_le_bytes(word))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn form(at: i64, value: f64, anchor: i64, half_life: Option<i64>) -> ScoreRecord {
        ScoreRecord {
            at,
            subject: SubjectKey::Account("acme".into()),
            label: "acme".into(),
            score: "intent".into(),
            value,
            constant: value / 3.0,
            decaying: -value,
            anchor,
            half_life,
        }
    }

    use bellwether_core::subject::SubjectKey;

    proptest! {
        #[test]
        fn a_run_reads_back_as_written(
            forms in proptest::collection::vec(
                (any::<i64>(), any::<f64>(), any::<i64>(), proptest::option::of(0..i64::MAX)),
                1..20,
            ),
        ) {
            let records: Vec<_> = forms
                .into_iter()
                .map(|(at, value, anchor, half_life)| form(at, value, anchor, half_life))
                .collect();
            let runs = ScoreRun::split(records.clone());
            prop_assert_eq!(runs.len(), 1);
            let run = &runs[0];
            let packed = pack(run);
            prop_assert_eq!(packed.is_none(), records.len() == 1);
            prop_assert_eq!(count(packed.as_deref())?, records.len() as u64);
            let read = unpack(packed.as_deref(), run.last().clone())?;
            // Bit for bit (NaN included).
            let bits = |r: &[ScoreRecord]| {
                r.iter()
                    .map(|f| (f.at, f.value.to_bits(), f.constant.to_bits(), f.decaying.to_bits(), f.anchor, f.half_life))
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(bits(&read), bits(&records));
            prop_assert!(read.iter().all(|f| f.subject == records[0].subject && f.label == "acme"));
        }

        #[test]
        fn damaged_bytes_are_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(read) = unpack(Some(&bytes), form(0, 1.0, 0, None)) {
                prop_assert_eq!(read.last().map(|f| f.at), Some(0));
            }
        }
    }

    #[test]
    fn a_truncated_column_names_what_is_wrong() {
        let run = &ScoreRun::split(vec![form(1, 1.0, 1, None), form(2, 2.0, 2, Some(7))])[0];
        let packed = pack(run).expect("one earlier form");
        let error = unpack(Some(&packed[..packed.len() - 3]), run.last().clone()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "stored data is corrupt: score_changes.earlier: truncated"
        );
        let error = unpack(Some(&[9]), run.last().clone()).unwrap_err();
        assert!(error.to_string().contains("unknown format 9"), "{error}");
    }
}
