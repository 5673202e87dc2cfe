//! Contact deletion, suppressions and the deletion audit log (see
//! `WriteOp::DeleteContact`). Contact sets travel as JSON arrays read with
//! `json_each`, like dead-letter ids.

use rusqlite::{params, Connection, Transaction};

use bellwether_core::message::ContactId;
use bellwether_core::store::{
    ContactDeletion, DeletionCounts, DeletionRecord, IdKind, StoreError, Suppression,
};

use super::DbResult;
use crate::codec;

/// The contact numbers as a JSON array of numbers and of strings (the
/// recorded history keys contacts by their number as text).
fn keys(contacts: &[ContactId]) -> Result<(String, String), StoreError> {
    let texts: Vec<String> = contacts.iter().map(ContactId::to_string).collect();
    let encode =
        |value: serde_json::Result<String>| value.map_err(|e| StoreError::Database(e.to_string()));
    Ok((
        encode(serde_json::to_string(contacts))?,
        encode(serde_json::to_string(&texts))?,
    ))
}

fn count(tx: &Transaction<'_>, sql: &str, ids: &str) -> Result<u64, StoreError> {
    Ok(tx.prepare_cached(sql).db()?.execute(params![ids]).db()? as u64)
}

/// Runs a `DELETE … RETURNING earlier` of score rows; returns the score
/// forms they held (a first start's rows hold a run each).
fn score_forms_deleted(tx: &Transaction<'_>, sql: &str, ids: &str) -> Result<u64, StoreError> {
    let mut statement = tx.prepare_cached(sql).db()?;
    let mut rows = statement.query(params![ids]).db()?;
    let mut forms = 0;
    while let Some(row) = rows.next().db()? {
        let earlier: Option<Vec<u8>> = row.get(0).db()?;
        forms += codec::score_forms::count(earlier.as_deref())?;
    }
    Ok(forms)
}

/// Deletes the recorded history of `contacts`; returns (memberships,
/// scores, deliveries, assignments) removed.
fn purge_records(tx: &Transaction<'_>, texts: &str) -> Result<[u64; 4], StoreError> {
    const IN: &str =
        "subject_kind = 'contact' AND subject_key IN (SELECT value FROM json_each(?1))";
    Ok([
        count(
            tx,
            &format!("DELETE FROM membership_changes WHERE {IN}"),
            texts,
        )?,
        score_forms_deleted(
            tx,
            &format!("DELETE FROM score_changes WHERE {IN} RETURNING earlier"),
            texts,
        )?,
        count(tx, &format!("DELETE FROM outbox WHERE {IN}"), texts)?,
        // Kept without the subject: each round-robin turn stays counted.
        count(
            tx,
            &format!(
                "UPDATE assignments SET subject_key = '', label = '',
                     ended_at = COALESCE(ended_at, assigned_at) WHERE {IN}"
            ),
            texts,
        )?,
    ])
}

pub(super) fn delete_contact(
    tx: &Transaction<'_>,
    deletion: &ContactDeletion,
) -> Result<(), StoreError> {
    let (numbers, texts) = keys(&deletion.contacts)?;
    const IN: &str = "IN (SELECT value FROM json_each(?1))";
    let events = count(
        tx,
        &format!("DELETE FROM events WHERE contact_id {IN}"),
        &numbers,
    )?;
    let traits = count(
        tx,
        &format!("DELETE FROM contact_traits WHERE contact {IN}"),
        &numbers,
    )?;
    let identities = count(
        tx,
        &format!("DELETE FROM identities WHERE contact {IN}"),
        &numbers,
    )?;
    count(
        tx,
        &format!("DELETE FROM merges WHERE into_contact {IN} OR from_contact {IN}"),
        &numbers,
    )?;
    count(
        tx,
        &format!("DELETE FROM contact_accounts WHERE contact {IN}"),
        &numbers,
    )?;
    count(
        tx,
        &format!("DELETE FROM contacts WHERE id {IN} OR merged_into {IN}"),
        &numbers,
    )?;
    let [memberships, scores, deliveries, assignments] = purge_records(tx, &texts)?;
    for suppression in &deletion.suppress {
        tx.prepare_cached(
            "INSERT INTO suppressions (value, kind, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (value) DO NOTHING",
        )
        .db()?
        .execute(params![
            suppression.value,
            suppression.kind.as_str(),
            suppression.at
        ])
        .db()?;
    }
    tx.prepare_cached(
        "INSERT INTO deletions (id, at, actor, contacts, events, traits, identities,
             memberships, scores, deliveries, assignments)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .db()?
    .execute(params![
        deletion.id,
        deletion.at,
        deletion.actor,
        numbers,
        events as i64,
        traits as i64,
        identities as i64,
        memberships as i64,
        scores as i64,
        deliveries as i64,
        assignments as i64,
    ])
    .db()?;
    Ok(())
}

/// See `WriteOp::PurgeContactRecords`: what the engine recorded before it
/// forgot the contacts goes too, counted into the deletion's log entry.
pub(super) fn purge(
    tx: &Transaction<'_>,
    deletion: &str,
    contacts: &[ContactId],
) -> Result<(), StoreError> {
    let (_, texts) = keys(contacts)?;
    let [memberships, scores, deliveries, assignments] = purge_records(tx, &texts)?;
    tx.prepare_cached(
        "UPDATE deletions SET memberships = memberships + ?2, scores = scores + ?3,
             deliveries = deliveries + ?4, assignments = assignments + ?5, complete = 1
         WHERE id = ?1",
    )
    .db()?
    .execute(params![
        deletion,
        memberships as i64,
        scores as i64,
        deliveries as i64,
        assignments as i64
    ])
    .db()?;
    Ok(())
}

pub(super) fn unsuppress(tx: &Transaction<'_>, value: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM suppressions WHERE value = ?1")
        .db()?
        .execute(params![value])
        .db()?;
    Ok(())
}

pub(super) fn suppressions(conn: &Connection) -> Result<Vec<Suppression>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT value, kind, created_at FROM suppressions ORDER BY created_at, value",
        )
        .db()?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .db()?;
    let mut found = Vec::new();
    for row in rows {
        let (value, kind, at) = row.db()?;
        let kind = IdKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown suppression kind {kind:?}")))?;
        found.push(Suppression { value, kind, at });
    }
    Ok(found)
}

pub(super) fn deletions(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<DeletionRecord>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT id, at, actor, contacts, events, traits, identities, memberships, scores,
                    deliveries, assignments, complete
             FROM deletions ORDER BY at DESC, id DESC LIMIT ?1",
        )
        .db()?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement
        .query_map(params![limit], |row| {
            let number = |i: usize| row.get::<_, i64>(i).map(|n| n.max(0) as u64);
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                DeletionCounts {
                    events: number(4)?,
                    traits: number(5)?,
                    identities: number(6)?,
                    memberships: number(7)?,
                    scores: number(8)?,
                    deliveries: number(9)?,
                    assignments: number(10)?,
                },
                row.get::<_, i64>(11)? != 0,
            ))
        })
        .db()?;
    let mut found = Vec::new();
    for row in rows {
        let (id, at, actor, contacts, counts, complete) = row.db()?;
        let contacts: Vec<ContactId> = serde_json::from_str(&contacts)
            .map_err(|e| StoreError::Corrupt(format!("deletion {id}: {e}")))?;
        found.push(DeletionRecord {
            id,
            at,
            actor,
            contacts,
            counts,
            complete,
        });
    }
    Ok(found)
}
