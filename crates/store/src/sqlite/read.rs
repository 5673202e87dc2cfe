//! Reads, each on a pooled `query_only` connection; the ones made of several
//! queries run in one read transaction, so they see one snapshot.

use bellwether_core::store::MembershipRecord;
use bellwether_core::subject::SubjectKey;
use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension, Params, Row};

use bellwether_core::message::{ContactId, Message, Millis, Rejection, StoredEvent};
use bellwether_core::store::{
    AccountRecord, ContactRecord, EventParts, IdKind, IdentityRow, IdentitySnapshot, MergeRecord,
    StoreError, TraitChange,
};

use super::DbResult;
use crate::codec::{self, IdentityLists};

/// Survivor pointers are kept flat, so one hop suffices; this bounds the walk
/// should a chain exist anyway.
const MAX_MERGE_HOPS: usize = 64;

macro_rules! select_events {
    ($tail:literal) => {
        concat!(
            "SELECT seq, source, message_id, type, event, user_id, anonymous_id, group_id,
                previous_id, contact_id, timestamp, received_at, sent_at, original_timestamp,
                properties, traits, context
             FROM events ",
            $tail
        )
    };
}

/// Runs a cached query and maps every row with `map`.
pub(super) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(row)?);
    }
    Ok(out)
}

pub(super) fn seen_message_ids(
    conn: &Connection,
    source: &str,
    message_ids: &[&str],
) -> Result<HashSet<String>, StoreError> {
    if message_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = serde_json::to_string(message_ids)
        .map_err(|e| StoreError::Database(format!("cannot encode message ids: {e}")))?;
    let found = query(
        conn,
        "SELECT message_id FROM events
         WHERE source = ?1 AND message_id IN (SELECT value FROM json_each(?2))",
        params![source, ids],
        |row| row.get(0).db(),
    )?;
    Ok(found.into_iter().collect())
}

pub(super) fn load_identity(conn: &Connection) -> Result<IdentitySnapshot, StoreError> {
    let tx = conn.unchecked_transaction().db()?;
    let contacts = query(
        &tx,
        "SELECT id, merged_into FROM contacts ORDER BY id",
        [],
        |row| Ok((row.get(0).db()?, row.get(1).db()?)),
    )?;
    let identities = query(
        &tx,
        "SELECT kind, value, contact, first_seen FROM identities
         ORDER BY contact, first_seen, value, kind",
        [],
        |row| {
            Ok(IdentityRow {
                kind: codec::id_kind(&row.get::<_, String>(0).db()?)?,
                value: row.get(1).db()?,
                contact: row.get(2).db()?,
                first_seen: row.get(3).db()?,
            })
        },
    )?;
    let contact_accounts = query(
        &tx,
        "SELECT contact, group_id, link, at FROM contact_accounts ORDER BY contact",
        [],
        |row| {
            let link = codec::account_link(&row.get::<_, String>(2).db()?)?;
            Ok((row.get(0).db()?, row.get(1).db()?, link, row.get(3).db()?))
        },
    )?;
    let accounts = accounts_with_domain(&tx)?;
    let max_seq = max_seq(&tx)?;
    Ok(IdentitySnapshot {
        contacts,
        identities,
        contact_accounts,
        accounts,
        max_seq,
    })
}

/// See `Store::max_seq`.
pub(super) fn max_seq(conn: &Connection) -> Result<i64, StoreError> {
    let max_seq: Option<i64> = conn
        .query_row("SELECT MAX(seq) FROM events", [], |row| row.get(0))
        .db()?;
    Ok(max_seq.unwrap_or(0))
}

fn accounts_with_domain(conn: &Connection) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut domains: HashMap<String, Option<String>> = HashMap::new();
    let rows = query(
        conn,
        "SELECT group_id, value FROM account_traits WHERE key = 'domain'
         ORDER BY group_id, at, seq, id",
        [],
        |row| {
            let value = codec::json_from_text(&row.get::<_, String>(1).db()?, "account_traits")?;
            Ok((row.get::<_, String>(0).db()?, value))
        },
    )?;
    for (group_id, value) in rows {
        domains.insert(group_id, value.as_str().map(str::to_owned));
    }
    query(
        conn,
        "SELECT group_id FROM accounts ORDER BY group_id",
        [],
        |row| {
            let group_id: String = row.get(0).db()?;
            let domain = domains.get(&group_id).cloned().flatten();
            Ok((group_id, domain))
        },
    )
}

pub(super) fn contact_by_identity(
    conn: &Connection,
    kind: IdKind,
    value: &str,
) -> Result<Option<ContactRecord>, StoreError> {
    let tx = conn.unchecked_transaction().db()?;
    let contact: Option<ContactId> = tx
        .prepare_cached(
            "SELECT COALESCE(c.merged_into, i.contact)
             FROM identities i LEFT JOIN contacts c ON c.id = i.contact
             WHERE i.kind = ?1 AND i.value = ?2",
        )
        .db()?
        .query_row(params![kind.as_str(), value], |row| row.get(0))
        .optional()
        .db()?;
    match contact {
        Some(id) => contact_record(&tx, id),
        None => Ok(None),
    }
}

pub(super) fn contact(
    conn: &Connection,
    id: ContactId,
) -> Result<Option<ContactRecord>, StoreError> {
    let tx = conn.unchecked_transaction().db()?;
    contact_record(&tx, id)
}

/// The record of `id`, or of its survivor when merged away.
fn contact_record(conn: &Connection, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
    let mut id = id;
    let mut found = None;
    for _ in 0..MAX_MERGE_HOPS {
        let row: Option<(Millis, Option<ContactId>)> = conn
            .prepare_cached("SELECT created_at, merged_into FROM contacts WHERE id = ?1")
            .db()?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .db()?;
        match row {
            None => return Ok(None),
            Some((_, Some(survivor))) => id = survivor,
            Some((created_at, None)) => {
                found = Some(created_at);
                break;
            }
        }
    }
    let Some(created_at) = found else {
        return Err(StoreError::Corrupt(format!(
            "merge chain from contact {id} is longer than {MAX_MERGE_HOPS}"
        )));
    };
    let mut ids = IdentityLists::default();
    let identities = query(
        conn,
        "SELECT kind, value FROM identities WHERE contact = ?1 ORDER BY first_seen, value, kind",
        [id],
        |row| {
            Ok((
                codec::id_kind(&row.get::<_, String>(0).db()?)?,
                row.get(1).db()?,
            ))
        },
    )?;
    for (kind, value) in identities {
        ids.push(kind, value);
    }
    let account: Option<(String, String, Option<String>)> = conn
        .prepare_cached("SELECT group_id, link, via FROM contact_accounts WHERE contact = ?1")
        .db()?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()
        .db()?;
    let (account_id, account_link, revealed_by) = codec::account_columns(account)?;
    let traits = codec::current_traits(&contact_trait_history(conn, id)?);
    Ok(Some(ContactRecord {
        id,
        created_at,
        user_ids: ids.user_ids,
        anonymous_ids: ids.anonymous_ids,
        emails: ids.emails,
        account_id,
        account_link,
        revealed_by,
        traits,
    }))
}

pub(super) fn account(
    conn: &Connection,
    group_id: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    let tx = conn.unchecked_transaction().db()?;
    let created_at: Option<Millis> = tx
        .prepare_cached("SELECT created_at FROM accounts WHERE group_id = ?1")
        .db()?
        .query_row([group_id], |row| row.get(0))
        .optional()
        .db()?;
    let Some(created_at) = created_at else {
        return Ok(None);
    };
    let traits = codec::current_traits(&account_trait_history(&tx, group_id)?);
    let contact_ids = query(
        &tx,
        "SELECT contact FROM contact_accounts WHERE group_id = ?1 ORDER BY contact",
        [group_id],
        |row| row.get(0).db(),
    )?;
    Ok(Some(AccountRecord {
        group_id: group_id.to_owned(),
        created_at,
        traits,
        contact_ids,
    }))
}

pub(super) fn contact_events(
    conn: &Connection,
    contact: ContactId,
    limit: usize,
    before: Option<(Millis, i64)>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = codec::limit(limit);
    match before {
        None => query(
            conn,
            select_events!("WHERE contact_id = ?1 ORDER BY timestamp DESC, seq DESC LIMIT ?2"),
            params![contact, limit],
            event_from_row,
        ),
        Some((timestamp, seq)) => query(
            conn,
            select_events!(
                "WHERE contact_id = ?1 AND (timestamp, seq) < (?2, ?3)
                 ORDER BY timestamp DESC, seq DESC LIMIT ?4"
            ),
            params![contact, timestamp, seq, limit],
            event_from_row,
        ),
    }
}

pub(super) fn scan_events(
    conn: &Connection,
    after_seq: i64,
    limit: usize,
    parts: &EventParts<'_>,
) -> Result<Vec<StoredEvent>, StoreError> {
    query(
        conn,
        select_events!("WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        params![after_seq, codec::limit(limit)],
        |row| event_parts_from_row(row, parts),
    )
}

fn event_from_row(row: &Row<'_>) -> Result<StoredEvent, StoreError> {
    event_parts_from_row(row, &EventParts::default())
}

/// A stored event with only `parts` of its properties and context decoded
/// (the JSON text is read in place, not copied first).
fn event_parts_from_row(row: &Row<'_>, parts: &EventParts<'_>) -> Result<StoredEvent, StoreError> {
    let text = |index: usize| -> Result<&str, StoreError> {
        row.get_ref(index)
            .db()?
            .as_str()
            .map_err(|e| StoreError::Database(e.to_string()))
    };
    Ok(StoredEvent {
        seq: row.get(0).db()?,
        contact_id: row.get(9).db()?,
        message: Message {
            source: row.get(1).db()?,
            message_id: row.get(2).db()?,
            kind: codec::message_kind(text(3)?)?,
            event: row.get(4).db()?,
            user_id: row.get(5).db()?,
            anonymous_id: row.get(6).db()?,
            group_id: row.get(7).db()?,
            previous_id: row.get(8).db()?,
            timestamp: row.get(10).db()?,
            received_at: row.get(11).db()?,
            sent_at: row.get(12).db()?,
            original_timestamp: row.get(13).db()?,
            properties: codec::object_keeping(text(14)?, "events.properties", parts.properties)?,
            traits: codec::object_from_text(text(15)?, "events.traits")?,
            context: codec::object_keeping(text(16)?, "events.context", parts.context)?,
        },
    })
}

pub(super) fn contact_trait_history(
    conn: &Connection,
    contact: ContactId,
) -> Result<Vec<TraitChange>, StoreError> {
    query(
        conn,
        "SELECT key, value, at, seq FROM contact_traits WHERE contact = ?1 ORDER BY at, seq, id",
        [contact],
        |row| trait_change(row, "contact_traits.value"),
    )
}

pub(super) fn account_trait_history(
    conn: &Connection,
    group_id: &str,
) -> Result<Vec<TraitChange>, StoreError> {
    query(
        conn,
        "SELECT key, value, at, seq FROM account_traits WHERE group_id = ?1 ORDER BY at, seq, id",
        [group_id],
        |row| trait_change(row, "account_traits.value"),
    )
}

fn trait_change(row: &Row<'_>, column: &str) -> Result<TraitChange, StoreError> {
    Ok(TraitChange {
        key: row.get(0).db()?,
        value: codec::json_from_text(&row.get::<_, String>(1).db()?, column)?,
        at: row.get(2).db()?,
        seq: row.get(3).db()?,
    })
}

pub(super) fn merges_into(
    conn: &Connection,
    contact: ContactId,
) -> Result<Vec<MergeRecord>, StoreError> {
    query(
        conn,
        "SELECT from_contact, into_contact, at, reason, message_id FROM merges
         WHERE into_contact = ?1 ORDER BY at, id",
        [contact],
        |row| {
            Ok(MergeRecord {
                from: row.get(0).db()?,
                into: row.get(1).db()?,
                at: row.get(2).db()?,
                reason: codec::merge_reason(&row.get::<_, String>(3).db()?)?,
                message_id: row.get(4).db()?,
            })
        },
    )
}

pub(super) fn recent_rejections(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<Rejection>, StoreError> {
    query(
        conn,
        "SELECT received_at, source, message_id, batch_index, field, reason, excerpt, warning
         FROM rejections ORDER BY received_at DESC, id DESC LIMIT ?1",
        [codec::limit(limit)],
        |row| {
            Ok(Rejection {
                received_at: row.get(0).db()?,
                source: row.get(1).db()?,
                message_id: row.get(2).db()?,
                index: codec::batch_index_from_db(row.get(3).db()?)?,
                field: row.get(4).db()?,
                reason: row.get(5).db()?,
                excerpt: row.get(6).db()?,
                warning: row.get::<_, i64>(7).db()? != 0,
            })
        },
    )
}

/// Counted as all events less those after `seq`: a range of the table
/// itself reads every row's pages (0.7 s at 10M events), while the whole
/// count reads the smallest index and the rest is the short tail after a
/// snapshot's position (0.15 s).
pub(super) fn events_through(conn: &Connection, seq: i64) -> Result<u64, StoreError> {
    let count: i64 = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM events) - (SELECT COUNT(*) FROM events WHERE seq > ?1)",
        )
        .db()?
        .query_row([seq], |row| row.get(0))
        .db()?;
    codec::count(count)
}

pub(super) fn event_count(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM events")
        .db()?
        .query_row([], |row| row.get(0))
        .db()?;
    codec::count(count)
}

pub(super) fn latest_memberships(
    conn: &Connection,
) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError> {
    let records = query(
        conn,
        "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
         FROM membership_changes WHERE id IN
           (SELECT MAX(id) FROM membership_changes
            GROUP BY subject_kind, subject_key, definition_kind, definition)
         ORDER BY id",
        [],
        membership_row,
    )?;
    let checkpoint = query(
        conn,
        "SELECT at FROM engine_checkpoint WHERE id = 1",
        [],
        |row| row.get::<_, i64>(0).db(),
    )?;
    Ok((records, checkpoint.first().copied()))
}

pub(super) fn subject_history(
    conn: &Connection,
    subject: &SubjectKey,
) -> Result<Vec<MembershipRecord>, StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    query(
        conn,
        "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
         FROM membership_changes WHERE subject_kind = ?1 AND subject_key = ?2 ORDER BY id",
        params![subject_kind, subject_key],
        membership_row,
    )
}

pub(super) fn definition_history(
    conn: &Connection,
    definition: &str,
    since: Millis,
) -> Result<Vec<MembershipRecord>, StoreError> {
    query(
        conn,
        "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
         FROM membership_changes WHERE definition = ?1 AND at >= ?2 ORDER BY at, id",
        params![definition, since],
        membership_row,
    )
}

fn membership_row(row: &rusqlite::Row<'_>) -> Result<MembershipRecord, StoreError> {
    const TABLE: &str = "membership_changes";
    let kind: String = row.get(1).db()?;
    let key: String = row.get(2).db()?;
    let change: String = row.get(4).db()?;
    let definition_kind: String = row.get(5).db()?;
    Ok(MembershipRecord {
        at: row.get(0).db()?,
        subject: codec::subject(TABLE, &kind, &key)?,
        label: row.get(3).db()?,
        change: codec::transition(TABLE, &change)?,
        definition_kind: codec::def_kind(TABLE, &definition_kind)?,
        definition: row.get(6).db()?,
        level: row.get(7).db()?,
    })
}
