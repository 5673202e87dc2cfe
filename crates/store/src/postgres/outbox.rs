//! The outbox: deliveries committed with their changes, their attempts,
//! dead letters, disabled destinations and owner assignments.

use postgres::{GenericClient, Row};

use bellwether_core::message::Millis;
use bellwether_core::subject::SubjectKey;

use crate::codec;
use bellwether_core::store::{
    AssignmentRecord, AttemptOutcome, BackfilledAssignment, Delivery, DeliveryFilter,
    DeliveryState, DigestSentRecord, OutboxRecord, RecordedAssignments, StoreError,
};

use super::conn::{get, Mode, PgConn, Session};
use super::read::map_rows;

macro_rules! select_deliveries {
    ($tail:literal) => {
        concat!(
            "SELECT seq, id, destination, subject_kind, subject_key, label, definition_kind,
                definition, change, at, body, state, attempts, next_attempt_at, last_attempt_at,
                last_status, last_error, delivered_at
             FROM outbox o ",
            $tail
        )
    };
}

pub(super) fn insert<C: GenericClient>(
    s: &mut Session<'_, C>,
    record: &OutboxRecord,
) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO outbox (id, destination, subject_kind, subject_key, label, definition_kind,
             definition, change, at, body, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
         ON CONFLICT (id) DO NOTHING",
        &[
            &record.id,
            &record.destination,
            &record.subject_kind,
            &record.subject_key,
            &record.label,
            &record.definition_kind,
            &record.definition,
            &record.change,
            &record.at,
            &record.body,
        ],
    )?;
    Ok(())
}

pub(super) fn assign<C: GenericClient>(
    s: &mut Session<'_, C>,
    record: &AssignmentRecord,
) -> Result<(), StoreError> {
    end_assignment(s, &record.segment, &record.subject, record.at)?;
    insert_assignment(s, record, None)
}

/// See `WriteOp::BackfilledAssignment`.
pub(super) fn backfilled<C: GenericClient>(
    s: &mut Session<'_, C>,
    record: &BackfilledAssignment,
) -> Result<(), StoreError> {
    insert_assignment(s, &record.assignment, record.ended_at)
}

fn insert_assignment<C: GenericClient>(
    s: &mut Session<'_, C>,
    assignment: &AssignmentRecord,
    ended_at: Option<Millis>,
) -> Result<(), StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(&assignment.subject);
    s.execute(
        "INSERT INTO assignments (segment, subject_kind, subject_key, label, owner, pool,
             round_robin, assigned_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &assignment.segment,
            &subject_kind,
            &subject_key,
            &assignment.label,
            &assignment.owner,
            &assignment.pool,
            &assignment.round_robin,
            &assignment.at,
            &ended_at,
        ],
    )?;
    Ok(())
}

pub(super) fn end_assignment<C: GenericClient>(
    s: &mut Session<'_, C>,
    segment: &str,
    subject: &SubjectKey,
    at: Millis,
) -> Result<(), StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    s.execute(
        "UPDATE assignments SET ended_at = $4
         WHERE segment = $1 AND subject_kind = $2 AND subject_key = $3 AND ended_at IS NULL",
        &[&segment, &subject_kind, &subject_key, &at],
    )?;
    Ok(())
}

/// Keeps the latest period queued per digest.
pub(super) fn digest_sent<C: GenericClient>(
    s: &mut Session<'_, C>,
    record: &DigestSentRecord,
) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO digests_sent (name, period_end, sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET period_end = excluded.period_end,
             sent_at = excluded.sent_at
         WHERE excluded.period_end > digests_sent.period_end",
        &[&record.name, &record.period_end, &record.sent_at],
    )?;
    Ok(())
}

pub(super) fn digests_sent(conn: &mut PgConn) -> Result<Vec<DigestSentRecord>, StoreError> {
    conn.transaction(Mode::Snapshot, |s| {
        let rows = s.query(
            "SELECT name, period_end, sent_at FROM digests_sent ORDER BY name",
            &[],
        )?;
        map_rows(rows, |row| {
            Ok(DigestSentRecord {
                name: get(row, 0)?,
                period_end: get(row, 1)?,
                sent_at: get(row, 2)?,
            })
        })
    })
}

pub(super) fn due(
    conn: &mut PgConn,
    now: Millis,
    skip: &[String],
    limit: usize,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    let limit = limit as i64;
    let rows = conn.session(|s| {
        s.query(
            select_deliveries!(
                "WHERE o.state = 'pending' AND o.next_attempt_at <= $1
                   AND o.destination <> ALL($2::text[])
                   AND o.seq = (SELECT MIN(p.seq) FROM outbox p
                                WHERE p.state = 'pending' AND p.destination = o.destination
                                  AND p.subject_kind = o.subject_kind
                                  AND p.subject_key = o.subject_key)
                 ORDER BY o.seq LIMIT $3"
            ),
            &[&now, &skip, &limit],
        )
    })?;
    map_rows(rows, delivery_row)
}

pub(super) fn record_attempts(
    conn: &mut PgConn,
    attempts: &[(String, AttemptOutcome)],
) -> Result<(), StoreError> {
    if attempts.is_empty() {
        return Ok(());
    }
    conn.transaction(Mode::Write, |s| {
        for (id, outcome) in attempts {
            let (state, at, status, error, next_at, delivered_at) = columns(outcome);
            let status = status.map(i32::from);
            s.execute(
                "UPDATE outbox SET state = $2, attempts = attempts + 1, last_attempt_at = $3,
                     last_status = $4, last_error = $5, next_attempt_at = $6, delivered_at = $7
                 WHERE id = $1 AND state = 'pending'",
                &[
                    id,
                    &state.as_str(),
                    &at,
                    &status,
                    &error,
                    &next_at,
                    &delivered_at,
                ],
            )?;
        }
        Ok(())
    })
}

type Columns<'a> = (
    DeliveryState,
    Millis,
    Option<u16>,
    Option<&'a str>,
    Millis,
    Option<Millis>,
);

/// An outcome as the columns it sets: state, attempted at, status, error,
/// next attempt, delivered at.
fn columns(outcome: &AttemptOutcome) -> Columns<'_> {
    match outcome {
        AttemptOutcome::Delivered { at, status } => (
            DeliveryState::Delivered,
            *at,
            Some(*status),
            None,
            *at,
            Some(*at),
        ),
        AttemptOutcome::Retry {
            at,
            next_at,
            status,
            error,
        } => (
            DeliveryState::Pending,
            *at,
            *status,
            Some(error),
            *next_at,
            None,
        ),
        AttemptOutcome::Dead { at, status, error } => {
            (DeliveryState::Dead, *at, *status, Some(error), *at, None)
        }
    }
}

pub(super) fn list(
    conn: &mut PgConn,
    filter: &DeliveryFilter,
    limit: usize,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    let limit = limit as i64;
    let state = filter.state.map(DeliveryState::as_str);
    let subject_kind = filter.subject.as_ref().map(|(kind, _)| kind.as_str());
    let subject_key = filter.subject.as_ref().map(|(_, key)| key.as_str());
    let rows = conn.session(|s| {
        s.query(
            select_deliveries!(
                "WHERE ($1::text IS NULL OR destination = $1)
                   AND ($2::text IS NULL OR definition = $2)
                   AND ($3::text IS NULL OR state = $3)
                   AND ($4::bigint IS NULL OR seq < $4)
                   AND ($6::text IS NULL OR (subject_kind = $6 AND subject_key = $7))
                 ORDER BY seq DESC LIMIT $5"
            ),
            &[
                &filter.destination,
                &filter.definition,
                &state,
                &filter.before,
                &limit,
                &subject_kind,
                &subject_key,
            ],
        )
    })?;
    map_rows(rows, delivery_row)
}

pub(super) fn replay_dead(
    conn: &mut PgConn,
    ids: Option<&[String]>,
    now: Millis,
) -> Result<usize, StoreError> {
    let ids: Option<Vec<String>> = ids.map(<[String]>::to_vec);
    let changed = conn.session(|s| {
        s.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2
             WHERE state = 'dead' AND ($1::text[] IS NULL OR id = ANY($1::text[]))",
            &[&ids, &now],
        )
    })?;
    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
}

pub(super) fn depth(conn: &mut PgConn) -> Result<Vec<(String, u64, u64)>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT destination, COUNT(*) FILTER (WHERE state = 'pending'),
                    COUNT(*) FILTER (WHERE state = 'dead')
             FROM outbox WHERE state IN ('pending', 'dead')
             GROUP BY destination ORDER BY destination",
            &[],
        )
    })?;
    map_rows(rows, |row| {
        let count = |i| get::<i64>(row, i).map(|n| n.max(0) as u64);
        Ok((get(row, 0)?, count(1)?, count(2)?))
    })
}

pub(super) fn set_disabled(
    conn: &mut PgConn,
    destination: &str,
    disabled: Option<(Millis, &str)>,
) -> Result<(), StoreError> {
    conn.session(|s| match disabled {
        Some((since, reason)) => s.execute(
            "INSERT INTO disabled_destinations (name, since, reason) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET since = excluded.since, reason = excluded.reason",
            &[&destination, &since, &reason],
        ),
        None => s.execute(
            "DELETE FROM disabled_destinations WHERE name = $1",
            &[&destination],
        ),
    })?;
    Ok(())
}

pub(super) fn disabled(conn: &mut PgConn) -> Result<Vec<(String, Millis, String)>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT name, since, reason FROM disabled_destinations ORDER BY name",
            &[],
        )
    })?;
    map_rows(rows, |row| Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?)))
}

pub(super) fn assignments(conn: &mut PgConn) -> Result<RecordedAssignments, StoreError> {
    conn.transaction(Mode::Snapshot, |s| {
        let rows = s.query(
            "SELECT segment, subject_kind, subject_key, label, owner, pool, round_robin,
                    assigned_at
             FROM assignments WHERE ended_at IS NULL ORDER BY id",
            &[],
        )?;
        let current = map_rows(rows, |row| {
            let (kind, key): (String, String) = (get(row, 1)?, get(row, 2)?);
            Ok(AssignmentRecord {
                segment: get(row, 0)?,
                subject: codec::subject("assignments", &kind, &key)?,
                label: get(row, 3)?,
                owner: get(row, 4)?,
                pool: get(row, 5)?,
                round_robin: get(row, 6)?,
                at: get(row, 7)?,
            })
        })?;
        let rows = s.query(
            "SELECT pool, COUNT(*) FROM assignments WHERE round_robin AND pool IS NOT NULL
             GROUP BY pool",
            &[],
        )?;
        let turns = map_rows(rows, |row| {
            Ok((get(row, 0)?, get::<i64>(row, 1)?.max(0) as u64))
        })?;
        Ok(RecordedAssignments { current, turns })
    })
}

fn delivery_row(row: &Row) -> Result<(i64, Delivery), StoreError> {
    let state: String = get(row, 11)?;
    let state = DeliveryState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {state:?}")))?;
    let status: Option<i32> = get(row, 15)?;
    let attempts: i32 = get(row, 12)?;
    let delivery = Delivery {
        record: OutboxRecord {
            id: get(row, 1)?,
            destination: get(row, 2)?,
            subject_kind: get(row, 3)?,
            subject_key: get(row, 4)?,
            label: get(row, 5)?,
            definition_kind: get(row, 6)?,
            definition: get(row, 7)?,
            change: get(row, 8)?,
            at: get(row, 9)?,
            body: get(row, 10)?,
        },
        state,
        attempts: u32::try_from(attempts).unwrap_or(0),
        next_attempt_at: get(row, 13)?,
        last_attempt_at: get(row, 14)?,
        last_status: status.and_then(|s| u16::try_from(s).ok()),
        last_error: get(row, 16)?,
        delivered_at: get(row, 17)?,
    };
    Ok((get(row, 0)?, delivery))
}
