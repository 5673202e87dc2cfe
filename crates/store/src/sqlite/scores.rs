//! Score history: one row per change of a score's closed form, or per
//! run of a first start's forms (`ScoreRun`: the earlier forms packed in
//! `earlier`).

use rusqlite::{params, Connection, Row, Transaction};

use bellwether_core::store::{ScoreRecord, StoreError};
use bellwether_core::subject::SubjectKey;

use crate::codec;

use super::read::query;
use super::DbResult;

pub(super) const COLUMNS: &str =
    "at, subject_kind, subject_key, label, score, value, constant, decaying,
                       anchor, half_life";

/// Inserts `record`, with the packed forms before it if it ends a run.
pub(super) fn insert(
    tx: &Transaction<'_>,
    record: &ScoreRecord,
    earlier: Option<&[u8]>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO score_changes
           (at, subject_kind, subject_key, label, score, value, constant, decaying, anchor,
            half_life, earlier)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .db()?
    .execute(params![
        record.at,
        record.subject.kind().as_str(),
        record.subject.store_key(),
        record.label,
        record.score,
        record.value,
        record.constant,
        record.decaying,
        record.anchor,
        record.half_life,
        earlier,
    ])
    .db()?;
    Ok(())
}

/// Every recorded form of `subject`'s scores in recording order, a run's
/// forms where its row is.
pub(super) fn history(
    conn: &Connection,
    subject: &SubjectKey,
) -> Result<Vec<ScoreRecord>, StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    let rows = query(
        conn,
        &format!(
            "SELECT {COLUMNS}, earlier FROM score_changes
             WHERE subject_kind = ?1 AND subject_key = ?2 ORDER BY id"
        ),
        params![subject_kind, subject_key],
        |row| {
            let earlier: Option<Vec<u8>> = row.get(10).db()?;
            codec::score_forms::unpack(earlier.as_deref(), score_row(row)?)
        },
    )?;
    Ok(rows.into_iter().flatten().collect())
}

pub(super) fn latest(conn: &Connection) -> Result<Vec<ScoreRecord>, StoreError> {
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM score_changes WHERE id IN
               (SELECT MAX(id) FROM score_changes GROUP BY subject_kind, subject_key, score)
             ORDER BY id"
        ),
        [],
        score_row,
    )
}

fn score_row(row: &Row<'_>) -> Result<ScoreRecord, StoreError> {
    let kind: String = row.get(1).db()?;
    let key: String = row.get(2).db()?;
    Ok(ScoreRecord {
        at: row.get(0).db()?,
        subject: codec::subject("score_changes", &kind, &key)?,
        label: row.get(3).db()?,
        score: row.get(4).db()?,
        value: row.get(5).db()?,
        constant: row.get(6).db()?,
        decaying: row.get(7).db()?,
        anchor: row.get(8).db()?,
        half_life: row.get(9).db()?,
    })
}
