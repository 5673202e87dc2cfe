//! The outbox: deliveries committed with their changes, their attempts,
//! dead letters, disabled destinations and owner assignments.

use rusqlite::{params, Connection, Row, Transaction, TransactionBehavior};

use bellwether_core::message::Millis;
use bellwether_core::subject::SubjectKey;

use crate::codec;
use bellwether_core::store::{
    AssignmentRecord, AttemptOutcome, BackfilledAssignment, Delivery, DeliveryFilter,
    DeliveryState, DigestSentRecord, OutboxRecord, RecordedAssignments, StoreError,
};

use super::read::query;
use super::DbResult;

const COLUMNS: &str = "seq, id, destination, subject_kind, subject_key, label, definition_kind,
    definition, change, at, body, state, attempts, next_attempt_at, last_attempt_at,
    last_status, last_error, delivered_at";

pub(super) fn insert(tx: &Transaction<'_>, record: &OutboxRecord) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO outbox (id, destination, subject_kind, subject_key, label, definition_kind,
             definition, change, at, body, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)
         ON CONFLICT (id) DO NOTHING",
    )
    .db()?
    .execute(params![
        record.id,
        record.destination,
        record.subject_kind,
        record.subject_key,
        record.label,
        record.definition_kind,
        record.definition,
        record.change,
        record.at,
        record.body,
    ])
    .db()?;
    Ok(())
}

pub(super) fn assign(tx: &Transaction<'_>, record: &AssignmentRecord) -> Result<(), StoreError> {
    end_assignment(tx, &record.segment, &record.subject, record.at)?;
    insert_assignment(tx, record, None)
}

/// The columns of an assignment row as written.
pub(super) const ASSIGNMENT_COLUMNS: &str =
    "segment, subject_kind, subject_key, label, owner, pool, round_robin, assigned_at, ended_at";

/// See `WriteOp::BackfilledAssignment` (most are written many per
/// statement, `history::insert_run`).
pub(super) fn backfilled(
    tx: &Transaction<'_>,
    record: &BackfilledAssignment,
) -> Result<(), StoreError> {
    insert_assignment(tx, &record.assignment, record.ended_at)
}

fn insert_assignment(
    tx: &Transaction<'_>,
    assignment: &AssignmentRecord,
    ended_at: Option<Millis>,
) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))
    .db()?
    .execute(params![
        assignment.segment,
        assignment.subject.kind().as_str(),
        assignment.subject.store_key(),
        assignment.label,
        assignment.owner,
        assignment.pool,
        assignment.round_robin,
        assignment.at,
        ended_at,
    ])
    .db()?;
    Ok(())
}

pub(super) fn end_assignment(
    tx: &Transaction<'_>,
    segment: &str,
    subject: &SubjectKey,
    at: Millis,
) -> Result<(), StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    tx.prepare_cached(
        "UPDATE assignments SET ended_at = ?4
         WHERE segment = ?1 AND subject_kind = ?2 AND subject_key = ?3 AND ended_at IS NULL",
    )
    .db()?
    .execute(params![segment, subject_kind, subject_key, at])
    .db()?;
    Ok(())
}

pub(super) fn due(
    conn: &Connection,
    now: Millis,
    skip: &[String],
    limit: usize,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    let skip = serde_json::to_string(skip).map_err(|e| StoreError::Database(e.to_string()))?;
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM outbox o
             WHERE o.state = 'pending' AND o.next_attempt_at <= ?1
               AND o.destination NOT IN (SELECT value FROM json_each(?2))
               AND o.seq = (SELECT MIN(p.seq) FROM outbox p
                            WHERE p.state = 'pending' AND p.destination = o.destination
                              AND p.subject_kind = o.subject_kind
                              AND p.subject_key = o.subject_key)
             ORDER BY o.seq LIMIT ?3"
        ),
        params![now, skip, limit as i64],
        delivery_row,
    )
}

pub(super) fn record_attempts(
    conn: &mut Connection,
    attempts: &[(String, AttemptOutcome)],
) -> Result<(), StoreError> {
    if attempts.is_empty() {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    {
        let mut update = tx
            .prepare_cached(
                "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_attempt_at = ?3,
                     last_status = ?4, last_error = ?5, next_attempt_at = ?6,
                     delivered_at = ?7
                 WHERE id = ?1 AND state = 'pending'",
            )
            .db()?;
        for (id, outcome) in attempts {
            let row = AttemptRow::of(outcome);
            update
                .execute(params![
                    id,
                    row.state.as_str(),
                    row.at,
                    row.status,
                    row.error,
                    row.next_at,
                    row.delivered_at,
                ])
                .db()?;
        }
    }
    tx.commit().db()
}

/// An outcome as the columns it sets.
struct AttemptRow<'a> {
    state: DeliveryState,
    at: Millis,
    status: Option<u16>,
    error: Option<&'a str>,
    next_at: Millis,
    delivered_at: Option<Millis>,
}

impl<'a> AttemptRow<'a> {
    fn of(outcome: &'a AttemptOutcome) -> Self {
        match outcome {
            AttemptOutcome::Delivered { at, status } => Self {
                state: DeliveryState::Delivered,
                at: *at,
                status: Some(*status),
                error: None,
                next_at: *at,
                delivered_at: Some(*at),
            },
            AttemptOutcome::Retry {
                at,
                next_at,
                status,
                error,
            } => Self {
                state: DeliveryState::Pending,
                at: *at,
                status: *status,
                error: Some(error),
                next_at: *next_at,
                delivered_at: None,
            },
            AttemptOutcome::Dead { at, status, error } => Self {
                state: DeliveryState::Dead,
                at: *at,
                status: *status,
                error: Some(error),
                next_at: *at,
                delivered_at: None,
            },
        }
    }
}

pub(super) fn list(
    conn: &Connection,
    filter: &DeliveryFilter,
    limit: usize,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM outbox
             WHERE (?1 IS NULL OR destination = ?1) AND (?2 IS NULL OR definition = ?2)
               AND (?3 IS NULL OR state = ?3) AND (?4 IS NULL OR seq < ?4)
               AND (?6 IS NULL OR (subject_kind = ?6 AND subject_key = ?7))
             ORDER BY seq DESC LIMIT ?5"
        ),
        params![
            filter.destination,
            filter.definition,
            filter.state.map(DeliveryState::as_str),
            filter.before,
            limit as i64,
            filter.subject.as_ref().map(|(kind, _)| kind),
            filter.subject.as_ref().map(|(_, key)| key),
        ],
        delivery_row,
    )
}

pub(super) fn replay_dead(
    conn: &mut Connection,
    ids: Option<&[String]>,
    now: Millis,
) -> Result<usize, StoreError> {
    let ids = ids
        .map(|ids| serde_json::to_string(ids).map_err(|e| StoreError::Database(e.to_string())))
        .transpose()?;
    let changed = conn
        .prepare_cached(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2
             WHERE state = 'dead' AND (?1 IS NULL OR id IN (SELECT value FROM json_each(?1)))",
        )
        .db()?
        .execute(params![ids, now])
        .db()?;
    Ok(changed)
}

pub(super) fn depth(conn: &Connection) -> Result<Vec<(String, u64, u64)>, StoreError> {
    query(
        conn,
        "SELECT destination, SUM(state = 'pending'), SUM(state = 'dead') FROM outbox
         WHERE state IN ('pending', 'dead') GROUP BY destination ORDER BY destination",
        [],
        |row| {
            let count = |i| row.get::<_, i64>(i).map(|n| n.max(0) as u64).db();
            Ok((row.get(0).db()?, count(1)?, count(2)?))
        },
    )
}

pub(super) fn set_disabled(
    conn: &mut Connection,
    destination: &str,
    disabled: Option<(Millis, &str)>,
) -> Result<(), StoreError> {
    match disabled {
        Some((since, reason)) => conn
            .prepare_cached(
                "INSERT INTO disabled_destinations (name, since, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET since = excluded.since, reason = excluded.reason",
            )
            .db()?
            .execute(params![destination, since, reason]),
        None => conn
            .prepare_cached("DELETE FROM disabled_destinations WHERE name = ?1")
            .db()?
            .execute([destination]),
    }
    .db()?;
    Ok(())
}

pub(super) fn disabled(conn: &Connection) -> Result<Vec<(String, Millis, String)>, StoreError> {
    query(
        conn,
        "SELECT name, since, reason FROM disabled_destinations ORDER BY name",
        [],
        |row| Ok((row.get(0).db()?, row.get(1).db()?, row.get(2).db()?)),
    )
}

pub(super) fn assignments(conn: &Connection) -> Result<RecordedAssignments, StoreError> {
    let current = query(
        conn,
        "SELECT segment, subject_kind, subject_key, label, owner, pool, round_robin, assigned_at
         FROM assignments WHERE ended_at IS NULL ORDER BY id",
        [],
        |row| {
            let kind: String = row.get(1).db()?;
            let key: String = row.get(2).db()?;
            Ok(AssignmentRecord {
                segment: row.get(0).db()?,
                subject: codec::subject("assignments", &kind, &key)?,
                label: row.get(3).db()?,
                owner: row.get(4).db()?,
                pool: row.get(5).db()?,
                round_robin: row.get(6).db()?,
                at: row.get(7).db()?,
            })
        },
    )?;
    let turns = query(
        conn,
        "SELECT pool, COUNT(*) FROM assignments WHERE round_robin AND pool IS NOT NULL
         GROUP BY pool",
        [],
        |row| Ok((row.get(0).db()?, row.get::<_, i64>(1).db()?.max(0) as u64)),
    )?;
    Ok(RecordedAssignments { current, turns })
}

/// Keeps the latest period queued per digest.
pub(super) fn digest_sent(
    tx: &Transaction<'_>,
    record: &DigestSentRecord,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO digests_sent (name, period_end, sent_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET period_end = excluded.period_end,
             sent_at = excluded.sent_at
         WHERE excluded.period_end > digests_sent.period_end",
    )
    .db()?
    .execute(params![record.name, record.period_end, record.sent_at])
    .db()?;
    Ok(())
}

pub(super) fn digests_sent(conn: &Connection) -> Result<Vec<DigestSentRecord>, StoreError> {
    query(
        conn,
        "SELECT name, period_end, sent_at FROM digests_sent ORDER BY name",
        [],
        |row| {
            Ok(DigestSentRecord {
                name: row.get(0).db()?,
                period_end: row.get(1).db()?,
                sent_at: row.get(2).db()?,
            })
        },
    )
}

fn delivery_row(row: &Row<'_>) -> Result<(i64, Delivery), StoreError> {
    let state: String = row.get(11).db()?;
    let state = DeliveryState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {state:?}")))?;
    let status: Option<i64> = row.get(15).db()?;
    let delivery = Delivery {
        record: OutboxRecord {
            id: row.get(1).db()?,
            destination: row.get(2).db()?,
            subject_kind: row.get(3).db()?,
            subject_key: row.get(4).db()?,
            label: row.get(5).db()?,
            definition_kind: row.get(6).db()?,
            definition: row.get(7).db()?,
            change: row.get(8).db()?,
            at: row.get(9).db()?,
            body: row.get(10).db()?,
        },
        state,
        attempts: row.get::<_, i64>(12).db()?.clamp(0, i64::from(u32::MAX)) as u32,
        next_attempt_at: row.get(13).db()?,
        last_attempt_at: row.get(14).db()?,
        last_status: status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.get(16).db()?,
        delivered_at: row.get(17).db()?,
    };
    Ok((row.get(0).db()?, delivery))
}
