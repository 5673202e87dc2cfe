//! Retention (`WriteOp::ExpireEvents`): the behavior events past it, found
//! a bounded range of sequence numbers at a time (a primary-key range scan:
//! no index on time to keep up at every insert), and their deletion.

use std::ops::RangeInclusive;

use postgres::GenericClient;

use bellwether_core::message::Millis;
use bellwether_core::store::{ExpiredEvent, StoreError};

use super::conn::{get, PgConn, Session};
use super::read::map_rows;

pub(super) fn expired_events(
    conn: &mut PgConn,
    before: Millis,
    seqs: RangeInclusive<i64>,
) -> Result<Vec<ExpiredEvent>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT seq, contact_id FROM events
             WHERE seq BETWEEN $1 AND $2 AND timestamp < $3
               AND type IN ('track', 'page', 'screen')
             ORDER BY seq",
            &[seqs.start(), seqs.end(), &before],
        )
    })?;
    map_rows(rows, |row| {
        Ok(ExpiredEvent {
            seq: get(row, 0)?,
            contact: get(row, 1)?,
        })
    })
}

/// Deletes the events (only if still past `before`).
pub(super) fn expire<C: GenericClient>(
    s: &mut Session<'_, C>,
    before: Millis,
    events: &[ExpiredEvent],
) -> Result<(), StoreError> {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    s.execute(
        "DELETE FROM events WHERE seq = ANY($1) AND timestamp < $2",
        &[&seqs, &before],
    )?;
    Ok(())
}
