//! Score history: one row per change of a score's closed form, or per
//! run of a first start's forms (`ScoreRun`: the earlier forms packed in
//! `earlier`).

use postgres::{GenericClient, Row};

use bellwether_core::store::{ScoreRecord, StoreError};
use bellwether_core::subject::SubjectKey;

use crate::codec;

use super::conn::{get, PgConn, Session};
use super::read::map_rows;

/// Writes `rows` (each with the packed forms before it, if any) in one
/// statement, keeping their order.
pub(super) fn insert<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows_and_runs: &[(&ScoreRecord, Option<Vec<u8>>)],
) -> Result<(), StoreError> {
    if rows_and_runs.is_empty() {
        return Ok(());
    }
    let rows: Vec<&ScoreRecord> = rows_and_runs.iter().map(|(row, _)| *row).collect();
    let earlier: Vec<Option<&[u8]>> = rows_and_runs
        .iter()
        .map(|(_, earlier)| earlier.as_deref())
        .collect();
    let column = |field: fn(&ScoreRecord) -> f64| rows.iter().map(|r| field(r)).collect::<Vec<_>>();
    s.execute(
        "INSERT INTO score_changes
           (at, subject_kind, subject_key, label, score, value, constant, decaying, anchor,
            half_life, earlier)
         SELECT a, k, y, l, s, v, c, d, n, h, e
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
              $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::bigint[],
              $11::bytea[])
              WITH ORDINALITY AS t(a, k, y, l, s, v, c, d, n, h, e, o)
         ORDER BY o",
        &[
            &rows.iter().map(|r| r.at).collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|r| r.subject.kind().as_str())
                .collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|r| r.subject.store_key())
                .collect::<Vec<_>>(),
            &rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
            &rows.iter().map(|r| r.score.as_str()).collect::<Vec<_>>(),
            &column(|r| r.value),
            &column(|r| r.constant),
            &column(|r| r.decaying),
            &rows.iter().map(|r| r.anchor).collect::<Vec<_>>(),
            &rows.iter().map(|r| r.half_life).collect::<Vec<_>>(),
            &earlier,
        ],
    )?;
    Ok(())
}

/// Every recorded form of `subject`'s scores in recording order, a run's
/// forms where its row is.
pub(super) fn history(
    conn: &mut PgConn,
    subject: &SubjectKey,
) -> Result<Vec<ScoreRecord>, StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    let rows = conn.session(|s| {
        s.query(
            "SELECT at, subject_kind, subject_key, label, score, value, constant, decaying,
                    anchor, half_life, earlier
             FROM score_changes WHERE subject_kind = $1 AND subject_key = $2 ORDER BY id",
            &[&subject_kind, &subject_key],
        )
    })?;
    let runs = map_rows(rows, |row| {
        let earlier: Option<Vec<u8>> = get(row, 10)?;
        codec::score_forms::unpack(earlier.as_deref(), score_row(row)?)
    })?;
    Ok(runs.into_iter().flatten().collect())
}

pub(super) fn latest(conn: &mut PgConn) -> Result<Vec<ScoreRecord>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT DISTINCT ON (subject_kind, subject_key, score)
                    at, subject_kind, subject_key, label, score, value, constant, decaying,
                    anchor, half_life
             FROM score_changes ORDER BY subject_kind, subject_key, score, id DESC",
            &[],
        )
    })?;
    map_rows(rows, score_row)
}

fn score_row(row: &Row) -> Result<ScoreRecord, StoreError> {
    let (kind, key): (String, String) = (get(row, 1)?, get(row, 2)?);
    Ok(ScoreRecord {
        at: get(row, 0)?,
        subject: codec::subject("score_changes", &kind, &key)?,
        label: get(row, 3)?,
        score: get(row, 4)?,
        value: get(row, 5)?,
        constant: get(row, 6)?,
        decaying: get(row, 7)?,
        anchor: get(row, 8)?,
        half_life: get(row, 9)?,
    })
}
