//! Score history: one row per change of a score's closed form.

use postgres::{GenericClient, Row};

use bellwether_core::store::{ScoreRecord, StoreError};
use bellwether_core::subject::SubjectKey;

use crate::codec;

use super::conn::{get, PgConn, Session};
use super::read::map_rows;

/// Writes `rows` in one statement, keeping their order.
pub(super) fn insert<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[&ScoreRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let column = |field: fn(&ScoreRecord) -> f64| rows.iter().map(|r| field(r)).collect::<Vec<_>>();
    s.execute(
        "INSERT INTO score_changes
           (at, subject_kind, subject_key, label, score, value, constant, decaying, anchor,
            half_life)
         SELECT a, k, y, l, s, v, c, d, n, h
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
              $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::bigint[])
              WITH ORDINALITY AS t(a, k, y, l, s, v, c, d, n, h, o)
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
        ],
    )?;
    Ok(())
}

pub(super) fn history(
    conn: &mut PgConn,
    subject: &SubjectKey,
) -> Result<Vec<ScoreRecord>, StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    let rows = conn.session(|s| {
        s.query(
            "SELECT at, subject_kind, subject_key, label, score, value, constant, decaying,
                    anchor, half_life
             FROM score_changes WHERE subject_kind = $1 AND subject_key = $2 ORDER BY id",
            &[&subject_kind, &subject_key],
        )
    })?;
    map_rows(rows, score_row)
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
