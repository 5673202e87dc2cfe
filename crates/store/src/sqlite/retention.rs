//! Retention (`WriteOp::ExpireEvents`): the behavior events past it, found
//! a bounded range of sequence numbers at a time (a primary-key range scan:
//! no index on time to keep up at every insert), and their deletion.

use std::ops::RangeInclusive;

use rusqlite::{params, Connection, Transaction};

use bellwether_core::message::Millis;
use bellwether_core::store::{ExpiredEvent, StoreError};

use super::DbResult;

pub(super) fn expired_events(
    conn: &Connection,
    before: Millis,
    seqs: RangeInclusive<i64>,
) -> Result<Vec<ExpiredEvent>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT seq, contact_id FROM events
             WHERE seq BETWEEN ?1 AND ?2 AND timestamp < ?3
               AND type IN ('track', 'page', 'screen')
             ORDER BY seq",
        )
        .db()?;
    let rows = statement
        .query_map(params![seqs.start(), seqs.end(), before], |row| {
            Ok(ExpiredEvent {
                seq: row.get(0)?,
                contact: row.get(1)?,
            })
        })
        .db()?;
    rows.collect::<Result<Vec<_>, _>>().db()
}

/// Deletes the events (only if still past `before`: a guard, the writer
/// found them so in the same thread).
pub(super) fn expire(
    tx: &Transaction<'_>,
    before: Millis,
    events: &[ExpiredEvent],
) -> Result<(), StoreError> {
    let mut statement = tx
        .prepare_cached("DELETE FROM events WHERE seq = ?1 AND timestamp < ?2")
        .db()?;
    for event in events {
        statement.execute(params![event.seq, before]).db()?;
    }
    Ok(())
}
