//! Contact deletion, suppressions and the deletion audit log (see
//! `WriteOp::DeleteContact`). Applied after a batch's buffered rows are
//! flushed ([`Pending::flush`](super::batch::Pending::flush)), so rows of
//! the same batch about a deleted contact are written before they are
//! deleted, as sequential application would.

use postgres::GenericClient;

use bellwether_core::message::ContactId;
use bellwether_core::store::{
    ContactDeletion, DeletionCounts, DeletionRecord, IdKind, StoreError, Suppression, WriteOp,
};

use super::conn::{get, Mode, PgConn, Session};
use super::read::map_rows;
use crate::codec;

/// Applies the privacy ops of a batch, in order.
pub(super) fn apply_all<C: GenericClient>(
    s: &mut Session<'_, C>,
    ops: &[&WriteOp],
) -> Result<(), StoreError> {
    for op in ops {
        match op {
            WriteOp::DeleteContact(deletion) => delete_contact(s, deletion)?,
            WriteOp::PurgeContactRecords { deletion, contacts } => purge(s, deletion, contacts)?,
            WriteOp::Unsuppress { value } => {
                s.execute("DELETE FROM suppressions WHERE value = $1", &[value])?;
            }
            WriteOp::ExpireEvents { before, events } => {
                super::retention::expire(s, *before, events)?
            }
            _ => {}
        }
    }
    Ok(())
}

fn texts(contacts: &[ContactId]) -> Vec<String> {
    contacts.iter().map(ContactId::to_string).collect()
}

/// Deletes the score rows of the contacts (their numbers as text);
/// returns the score forms they held (a first start's rows hold a run
/// each).
fn score_forms_deleted<C: GenericClient>(
    s: &mut Session<'_, C>,
    keys: &Vec<String>,
) -> Result<u64, StoreError> {
    let rows = s.query(
        "DELETE FROM score_changes WHERE subject_kind = 'contact' AND subject_key = ANY($1)
         RETURNING earlier",
        &[keys],
    )?;
    let mut forms = 0;
    for row in &rows {
        let earlier: Option<Vec<u8>> = get(row, 0)?;
        forms += codec::score_forms::count(earlier.as_deref())?;
    }
    Ok(forms)
}

/// Deletes the recorded history of the contacts (their numbers as text);
/// returns (memberships, scores, deliveries, assignments) removed.
fn purge_records<C: GenericClient>(
    s: &mut Session<'_, C>,
    keys: &Vec<String>,
) -> Result<[u64; 4], StoreError> {
    Ok([
        s.execute(
            "DELETE FROM membership_changes WHERE subject_kind = 'contact' AND subject_key = ANY($1)",
            &[keys],
        )?,
        score_forms_deleted(s, keys)?,
        s.execute(
            "DELETE FROM outbox WHERE subject_kind = 'contact' AND subject_key = ANY($1)",
            &[keys],
        )?,
        // Kept without the subject: each round-robin turn stays counted.
        s.execute(
            "UPDATE assignments SET subject_key = '', label = '',
                 ended_at = COALESCE(ended_at, assigned_at)
             WHERE subject_kind = 'contact' AND subject_key = ANY($1)",
            &[keys],
        )?,
    ])
}

fn delete_contact<C: GenericClient>(
    s: &mut Session<'_, C>,
    deletion: &ContactDeletion,
) -> Result<(), StoreError> {
    let ids = &deletion.contacts;
    let events = s.execute("DELETE FROM events WHERE contact_id = ANY($1)", &[ids])?;
    let traits = s.execute("DELETE FROM contact_traits WHERE contact = ANY($1)", &[ids])?;
    let identities = s.execute("DELETE FROM identities WHERE contact = ANY($1)", &[ids])?;
    s.execute(
        "DELETE FROM merges WHERE into_contact = ANY($1) OR from_contact = ANY($1)",
        &[ids],
    )?;
    s.execute(
        "DELETE FROM contact_accounts WHERE contact = ANY($1)",
        &[ids],
    )?;
    s.execute(
        "DELETE FROM contacts WHERE id = ANY($1) OR merged_into = ANY($1)",
        &[ids],
    )?;
    let [memberships, scores, deliveries, assignments] = purge_records(s, &texts(ids))?;
    for suppression in &deletion.suppress {
        s.execute(
            "INSERT INTO suppressions (value, kind, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (value) DO NOTHING",
            &[
                &suppression.value,
                &suppression.kind.as_str(),
                &suppression.at,
            ],
        )?;
    }
    let counts: [i64; 7] = [
        events,
        traits,
        identities,
        memberships,
        scores,
        deliveries,
        assignments,
    ]
    .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    s.execute(
        "INSERT INTO deletions (id, at, actor, contacts, events, traits, identities,
             memberships, scores, deliveries, assignments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &deletion.id,
            &deletion.at,
            &deletion.actor,
            ids,
            &counts[0],
            &counts[1],
            &counts[2],
            &counts[3],
            &counts[4],
            &counts[5],
            &counts[6],
        ],
    )?;
    Ok(())
}

fn purge<C: GenericClient>(
    s: &mut Session<'_, C>,
    deletion: &String,
    contacts: &[ContactId],
) -> Result<(), StoreError> {
    let [memberships, scores, deliveries, assignments] =
        purge_records(s, &texts(contacts))?.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    s.execute(
        "UPDATE deletions SET memberships = memberships + $2, scores = scores + $3,
             deliveries = deliveries + $4, assignments = assignments + $5, complete = true
         WHERE id = $1",
        &[deletion, &memberships, &scores, &deliveries, &assignments],
    )?;
    Ok(())
}

pub(super) fn suppressions(conn: &mut PgConn) -> Result<Vec<Suppression>, StoreError> {
    conn.session(|s| {
        let rows = s.query(
            "SELECT value, kind, created_at FROM suppressions ORDER BY created_at, value",
            &[],
        )?;
        map_rows(rows, |row| {
            let kind: String = get(row, 1)?;
            Ok(Suppression {
                value: get(row, 0)?,
                kind: IdKind::parse(&kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown suppression kind {kind:?}"))
                })?,
                at: get(row, 2)?,
            })
        })
    })
}

pub(super) fn deletions(
    conn: &mut PgConn,
    limit: usize,
) -> Result<Vec<DeletionRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.transaction(Mode::Snapshot, |s| {
        let rows = s.query(
            "SELECT id, at, actor, contacts, events, traits, identities, memberships, scores,
                    deliveries, assignments, complete
             FROM deletions ORDER BY at DESC, id DESC LIMIT $1",
            &[&limit],
        )?;
        map_rows(rows, |row| {
            let number = |i: usize| get::<i64>(row, i).map(|n| n.max(0) as u64);
            Ok(DeletionRecord {
                id: get(row, 0)?,
                at: get(row, 1)?,
                actor: get(row, 2)?,
                contacts: get(row, 3)?,
                counts: DeletionCounts {
                    events: number(4)?,
                    traits: number(5)?,
                    identities: number(6)?,
                    memberships: number(7)?,
                    scores: number(8)?,
                    deliveries: number(9)?,
                    assignments: number(10)?,
                },
                complete: get(row, 11)?,
            })
        })
    })
}
