//! `apply`: every op of a batch, in order, in one `IMMEDIATE` transaction,
//! through cached prepared statements (one statement execution per row,
//! except runs of recorded history: `history`).

use rusqlite::{params, Connection, ErrorCode, Params, Transaction, TransactionBehavior};
use serde_json::{Map, Value};

use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::store::{StoreError, WriteOp};

use super::DbResult;
use crate::codec;

pub(super) fn apply(conn: &mut Connection, ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    let mut next = 0;
    while let Some(op) = ops.get(next) {
        next += match super::history::insert_run(&tx, &ops[next..])? {
            0 => apply_op(&tx, op).map(|()| 1)?,
            inserted => inserted,
        };
    }
    tx.commit().db()
}

/// See `Store::discard_unconfirmed_history`.
pub(super) fn discard_unconfirmed_history(conn: &mut Connection) -> Result<u64, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    let confirmed: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM engine_checkpoint)",
            [],
            |row| row.get(0),
        )
        .db()?;
    if confirmed {
        return Ok(0);
    }
    let memberships = tx.execute("DELETE FROM membership_changes", []).db()?;
    let scores = tx.execute("DELETE FROM score_changes", []).db()?;
    tx.commit().db()?;
    Ok((memberships + scores) as u64)
}

fn apply_op(tx: &Transaction<'_>, op: &WriteOp) -> Result<(), StoreError> {
    match op {
        WriteOp::NewContact { id, created_at } => execute(
            tx,
            "INSERT INTO contacts (id, created_at) VALUES (?1, ?2)",
            params![id, created_at],
        ),
        WriteOp::Identity {
            kind,
            value,
            contact,
            first_seen,
        } => execute(
            tx,
            "INSERT INTO identities (kind, value, contact, first_seen) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, value)
             DO UPDATE SET contact = excluded.contact, first_seen = excluded.first_seen",
            params![kind.as_str(), value, contact, first_seen],
        ),
        WriteOp::Merge {
            from,
            into,
            at,
            reason,
            message_id,
        } => {
            merge(tx, *from, *into)?;
            execute(
                tx,
                "INSERT INTO merges (from_contact, into_contact, at, reason, message_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![from, into, at, reason.as_str(), message_id],
            )
        }
        WriteOp::Event(event) => insert_event(tx, event),
        WriteOp::Detach { seq, from, .. } => {
            execute(
                tx,
                "UPDATE events SET contact_id = NULL WHERE seq = ?1 AND contact_id = ?2",
                params![seq, from],
            )?;
            execute(
                tx,
                "DELETE FROM contact_traits WHERE seq = ?1 AND contact = ?2",
                params![seq, from],
            )
        }
        WriteOp::Rehome { seq, from, to, .. } => {
            execute(
                tx,
                "UPDATE events SET contact_id = ?3 WHERE seq = ?1 AND contact_id = ?2",
                params![seq, from, to],
            )?;
            execute(
                tx,
                "UPDATE contact_traits SET contact = ?3 WHERE seq = ?1 AND contact = ?2",
                params![seq, from, to],
            )
        }
        WriteOp::ContactTraits {
            contact,
            traits,
            at,
            seq,
        } => insert_traits(
            tx,
            "INSERT INTO contact_traits (contact, key, value, at, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
            contact,
            traits,
            (*at, *seq),
        ),
        WriteOp::NewAccount {
            group_id,
            created_at,
        } => execute(
            tx,
            "INSERT INTO accounts (group_id, created_at) VALUES (?1, ?2)
             ON CONFLICT (group_id) DO NOTHING",
            params![group_id, created_at],
        ),
        WriteOp::AccountTraits {
            group_id,
            traits,
            at,
            seq,
        } => insert_traits(
            tx,
            "INSERT INTO account_traits (group_id, key, value, at, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
            group_id,
            traits,
            (*at, *seq),
        ),
        WriteOp::ContactAccount {
            contact,
            group_id,
            link,
            via,
            at,
        } => execute(
            tx,
            "INSERT INTO contact_accounts (contact, group_id, link, via, at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (contact)
             DO UPDATE SET group_id = excluded.group_id, link = excluded.link,
                           via = excluded.via, at = excluded.at",
            params![contact, group_id, link.as_str(), via, at],
        ),
        WriteOp::AccountEnrichment {
            group_id,
            domain,
            changes,
            applied,
            at,
            seq,
        } => {
            insert_traits(
                tx,
                "INSERT INTO account_traits (group_id, key, value, at, seq, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'enrichment')",
                group_id,
                changes,
                (*at, *seq),
            )?;
            execute(
                tx,
                "INSERT INTO account_enrichment (group_id, domain, traits, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (group_id)
                 DO UPDATE SET domain = excluded.domain, traits = excluded.traits, at = excluded.at",
                params![group_id, domain, codec::object_text(applied)?, at],
            )
        }
        WriteOp::EnrichmentAnswer {
            domain,
            traits,
            fetched_at,
        } => execute(
            tx,
            "INSERT INTO enrichment_answers (domain, traits, fetched_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (domain)
             DO UPDATE SET traits = excluded.traits, fetched_at = excluded.fetched_at",
            params![domain, codec::object_text(traits)?, fetched_at],
        ),
        WriteOp::Rejection(rejection) => insert_rejection(tx, rejection),
        WriteOp::PruneRejections {
            keep_newest,
            before,
        } => execute(
            tx,
            "DELETE FROM rejections
             WHERE id <= (SELECT max(id) FROM rejections) - ?1 OR received_at < ?2",
            params![codec::count_to_db(*keep_newest), before],
        ),
        WriteOp::Membership(record) => execute(
            tx,
            "INSERT INTO membership_changes
               (at, subject_kind, subject_key, label, change, definition_kind, definition, level)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                record.at,
                record.subject.kind().as_str(),
                record.subject.store_key(),
                record.label,
                record.change.as_str(),
                record.definition_kind.as_str(),
                record.definition,
                record.level,
            ],
        ),
        WriteOp::Score(record) => super::scores::insert(tx, record, None),
        WriteOp::ScoreRun(run) => {
            super::scores::insert(tx, run.last(), codec::score_forms::pack(run).as_deref())
        }
        WriteOp::Checkpoint { at } => execute(
            tx,
            "INSERT INTO engine_checkpoint (id, at) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            params![at],
        ),
        WriteOp::Outbox(record) => super::outbox::insert(tx, record),
        WriteOp::Assign(record) => super::outbox::assign(tx, record),
        WriteOp::BackfilledAssignment(record) => super::outbox::backfilled(tx, record),
        WriteOp::DigestSent(record) => super::outbox::digest_sent(tx, record),
        WriteOp::Unassign {
            segment,
            subject,
            at,
        } => super::outbox::end_assignment(tx, segment, subject, *at),
        WriteOp::DeleteContact(deletion) => super::privacy::delete_contact(tx, deletion),
        WriteOp::PurgeContactRecords { deletion, contacts } => {
            super::privacy::purge(tx, deletion, contacts)
        }
        WriteOp::Unsuppress { value } => super::privacy::unsuppress(tx, value),
        WriteOp::ExpireEvents { before, events } => super::retention::expire(tx, *before, events),
    }
}

fn execute(tx: &Transaction<'_>, sql: &str, params: impl Params) -> Result<(), StoreError> {
    tx.prepare_cached(sql).db()?.execute(params).db()?;
    Ok(())
}

/// Re-homes everything of `from` to `into`; see `WriteOp::Merge`.
fn merge(tx: &Transaction<'_>, from: ContactId, into: ContactId) -> Result<(), StoreError> {
    if from == into {
        return Err(StoreError::Database(format!(
            "cannot merge contact {from} into itself"
        )));
    }
    let statements = [
        "UPDATE identities SET contact = ?2 WHERE contact = ?1",
        "UPDATE events SET contact_id = ?2 WHERE contact_id = ?1",
        "UPDATE contact_traits SET contact = ?2 WHERE contact = ?1",
        // `into` keeps its own account link; it takes `from`'s only if it has none.
        "UPDATE contact_accounts SET contact = ?2 WHERE contact = ?1
         AND NOT EXISTS (SELECT 1 FROM contact_accounts WHERE contact = ?2)",
        "UPDATE contacts SET merged_into = ?2 WHERE id = ?1 OR merged_into = ?1",
    ];
    for sql in statements {
        execute(tx, sql, params![from, into])?;
    }
    execute(
        tx,
        "DELETE FROM contact_accounts WHERE contact = ?1",
        [from],
    )
}

fn insert_event(tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), StoreError> {
    let message = &event.message;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO events (seq, source, message_id, type, event, user_id, anonymous_id,
                group_id, previous_id, contact_id, timestamp, received_at, sent_at,
                original_timestamp, properties, traits, context)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .db()?;
    let inserted = stmt.execute(params![
        event.seq,
        message.source,
        message.message_id,
        message.kind.as_str(),
        message.event,
        message.user_id,
        message.anonymous_id,
        message.group_id,
        message.previous_id,
        event.contact_id,
        message.timestamp,
        message.received_at,
        message.sent_at,
        message.original_timestamp,
        codec::object_text(&message.properties)?,
        codec::object_text(&message.traits)?,
        codec::object_text(&message.context)?,
    ]);
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::Database(format!(
                "duplicate event (seq {}, source {:?}, message_id {:?}): {error}",
                event.seq, message.source, message.message_id
            )))
        }
        Err(error) => Err(StoreError::Database(error.to_string())),
    }
}

/// One history row per key; `owner` is the contact id or group id.
fn insert_traits(
    tx: &Transaction<'_>,
    sql: &str,
    owner: &dyn rusqlite::ToSql,
    traits: &Map<String, Value>,
    (at, seq): (Millis, i64),
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(sql).db()?;
    for (key, value) in traits {
        stmt.execute(params![owner, key, codec::value_text(value)?, at, seq])
            .db()?;
    }
    Ok(())
}

fn insert_rejection(tx: &Transaction<'_>, rejection: &Rejection) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO rejections
           (received_at, source, message_id, batch_index, field, reason, excerpt, warning)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            rejection.received_at,
            rejection.source,
            rejection.message_id,
            codec::batch_index_to_db(rejection.index)?,
            rejection.field,
            rejection.reason,
            rejection.excerpt,
            rejection.warning,
        ],
    )
}
