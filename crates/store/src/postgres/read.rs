//! Reads on pooled connections; the ones made of several queries run in one
//! read-only `REPEATABLE READ` transaction, so they see one snapshot.

use bellwether_core::store::MembershipRecord;
use bellwether_core::subject::SubjectKey;
use std::collections::{HashMap, HashSet};

use postgres::{GenericClient, Row};
use serde_json::Value;

use bellwether_core::message::{ContactId, Message, Millis, Rejection, StoredEvent};
use bellwether_core::store::{
    AccountRecord, ContactRecord, IdKind, IdentityRow, IdentitySnapshot, MergeRecord, StoreError,
    TraitChange,
};

use super::conn::{get, Mode, PgConn, Session};
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

pub(super) fn map_rows<T>(
    rows: Vec<Row>,
    map: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(map).collect()
}

pub(super) fn seen_message_ids(
    conn: &mut PgConn,
    source: &str,
    message_ids: &[&str],
) -> Result<HashSet<String>, StoreError> {
    if message_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = conn.session(|s| {
        s.query(
            "SELECT message_id FROM events WHERE source = $1 AND message_id = ANY($2::text[])",
            &[&source, &message_ids],
        )
    })?;
    rows.iter().map(|row| get(row, 0)).collect()
}

pub(super) fn load_identity(conn: &mut PgConn) -> Result<IdentitySnapshot, StoreError> {
    conn.transaction(Mode::Snapshot, |s| {
        let contacts = map_rows(
            s.query("SELECT id, merged_into FROM contacts ORDER BY id", &[])?,
            |row| Ok((get(row, 0)?, get(row, 1)?)),
        )?;
        let identities = map_rows(
            s.query(
                "SELECT kind, value, contact, first_seen FROM identities
                 ORDER BY contact, first_seen, value, kind",
                &[],
            )?,
            |row| {
                Ok(IdentityRow {
                    kind: codec::id_kind(get(row, 0)?)?,
                    value: get(row, 1)?,
                    contact: get(row, 2)?,
                    first_seen: get(row, 3)?,
                })
            },
        )?;
        let contact_accounts = map_rows(
            s.query(
                "SELECT contact, group_id, link, at FROM contact_accounts ORDER BY contact",
                &[],
            )?,
            |row| {
                let link = codec::account_link(get(row, 2)?)?;
                Ok((get(row, 0)?, get(row, 1)?, link, get(row, 3)?))
            },
        )?;
        let accounts = accounts_with_domain(s)?;
        let max_seq = max_seq_in(s)?;
        Ok(IdentitySnapshot {
            contacts,
            identities,
            contact_accounts,
            accounts,
            max_seq,
        })
    })
}

/// See `Store::max_seq`.
pub(super) fn max_seq(conn: &mut PgConn) -> Result<i64, StoreError> {
    // The function itself is not general over the transaction's lifetime.
    #[allow(clippy::redundant_closure)]
    conn.transaction(Mode::Snapshot, |s| max_seq_in(s))
}

fn max_seq_in<C: GenericClient>(s: &mut Session<'_, C>) -> Result<i64, StoreError> {
    let max_seq: Option<i64> = get(&s.query_one("SELECT MAX(seq) FROM events", &[])?, 0)?;
    Ok(max_seq.unwrap_or(0))
}

fn accounts_with_domain<C: GenericClient>(
    s: &mut Session<'_, C>,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut domains: HashMap<String, Option<String>> = HashMap::new();
    let rows = s.query(
        "SELECT group_id, value FROM account_traits WHERE key = 'domain'
         ORDER BY group_id, at, seq, id",
        &[],
    )?;
    for row in &rows {
        let value: Value = get(row, 1)?;
        domains.insert(get(row, 0)?, value.as_str().map(str::to_owned));
    }
    map_rows(
        s.query("SELECT group_id FROM accounts ORDER BY group_id", &[])?,
        |row| {
            let group_id: String = get(row, 0)?;
            let domain = domains.get(&group_id).cloned().flatten();
            Ok((group_id, domain))
        },
    )
}

pub(super) fn contact_by_identity(
    conn: &mut PgConn,
    kind: IdKind,
    value: &str,
) -> Result<Option<ContactRecord>, StoreError> {
    conn.transaction(Mode::Snapshot, |s| {
        let row = s.query_opt(
            "SELECT COALESCE(c.merged_into, i.contact)
             FROM identities i LEFT JOIN contacts c ON c.id = i.contact
             WHERE i.kind = $1 AND i.value = $2",
            &[&kind.as_str(), &value],
        )?;
        match row {
            Some(row) => contact_record(s, get(&row, 0)?),
            None => Ok(None),
        }
    })
}

pub(super) fn contact(
    conn: &mut PgConn,
    id: ContactId,
) -> Result<Option<ContactRecord>, StoreError> {
    conn.transaction(Mode::Snapshot, |s| contact_record(s, id))
}

/// The record of `id`, or of its survivor when merged away.
fn contact_record<C: GenericClient>(
    s: &mut Session<'_, C>,
    id: ContactId,
) -> Result<Option<ContactRecord>, StoreError> {
    let mut id = id;
    let mut found = None;
    for _ in 0..MAX_MERGE_HOPS {
        let row = s.query_opt(
            "SELECT created_at, merged_into FROM contacts WHERE id = $1",
            &[&id],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        match get::<Option<ContactId>>(&row, 1)? {
            Some(survivor) => id = survivor,
            None => {
                found = Some(get::<Millis>(&row, 0)?);
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
    let rows = s.query(
        "SELECT kind, value FROM identities WHERE contact = $1 ORDER BY first_seen, value, kind",
        &[&id],
    )?;
    for row in &rows {
        ids.push(codec::id_kind(get(row, 0)?)?, get(row, 1)?);
    }
    let account: Option<(String, String, Option<String>)> = s
        .query_opt(
            "SELECT group_id, link, via FROM contact_accounts WHERE contact = $1",
            &[&id],
        )?
        .map(|row| Ok::<_, StoreError>((get(&row, 0)?, get(&row, 1)?, get(&row, 2)?)))
        .transpose()?;
    let (account_id, account_link, revealed_by) = codec::account_columns(account)?;
    let traits = codec::current_traits(&contact_trait_history(s, id)?);
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
    conn: &mut PgConn,
    group_id: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    conn.transaction(Mode::Snapshot, |s| {
        let Some(row) = s.query_opt(
            "SELECT created_at FROM accounts WHERE group_id = $1",
            &[&group_id],
        )?
        else {
            return Ok(None);
        };
        let traits = codec::current_traits(&account_trait_history(s, group_id)?);
        let contact_ids = map_rows(
            s.query(
                "SELECT contact FROM contact_accounts WHERE group_id = $1 ORDER BY contact",
                &[&group_id],
            )?,
            |row| get(row, 0),
        )?;
        Ok(Some(AccountRecord {
            group_id: group_id.to_owned(),
            created_at: get(&row, 0)?,
            traits,
            contact_ids,
        }))
    })
}

pub(super) fn contact_events(
    conn: &mut PgConn,
    contact: ContactId,
    limit: usize,
    before: Option<(Millis, i64)>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = codec::limit(limit);
    let rows = conn.session(|s| match before {
        None => s.query(
            select_events!("WHERE contact_id = $1 ORDER BY timestamp DESC, seq DESC LIMIT $2"),
            &[&contact, &limit],
        ),
        Some((timestamp, seq)) => s.query(
            select_events!(
                "WHERE contact_id = $1 AND (timestamp, seq) < ($2::bigint, $3::bigint)
                 ORDER BY timestamp DESC, seq DESC LIMIT $4"
            ),
            &[&contact, &timestamp, &seq, &limit],
        ),
    })?;
    map_rows(rows, event_from_row)
}

pub(super) fn scan_events(
    conn: &mut PgConn,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            select_events!("WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&after_seq, &codec::limit(limit)],
        )
    })?;
    map_rows(rows, event_from_row)
}

fn event_from_row(row: &Row) -> Result<StoredEvent, StoreError> {
    let json = |index: usize, column: &str| codec::into_object(get(row, index)?, column);
    Ok(StoredEvent {
        seq: get(row, 0)?,
        contact_id: get(row, 9)?,
        message: Message {
            source: get(row, 1)?,
            message_id: get(row, 2)?,
            kind: codec::message_kind(get(row, 3)?)?,
            event: get(row, 4)?,
            user_id: get(row, 5)?,
            anonymous_id: get(row, 6)?,
            group_id: get(row, 7)?,
            previous_id: get(row, 8)?,
            timestamp: get(row, 10)?,
            received_at: get(row, 11)?,
            sent_at: get(row, 12)?,
            original_timestamp: get(row, 13)?,
            properties: json(14, "events.properties")?,
            traits: json(15, "events.traits")?,
            context: json(16, "events.context")?,
        },
    })
}

pub(super) fn contact_trait_history<C: GenericClient>(
    s: &mut Session<'_, C>,
    contact: ContactId,
) -> Result<Vec<TraitChange>, StoreError> {
    map_rows(
        s.query(
            "SELECT key, value, at, seq FROM contact_traits WHERE contact = $1 ORDER BY at, seq, id",
            &[&contact],
        )?,
        trait_change,
    )
}

pub(super) fn account_trait_history<C: GenericClient>(
    s: &mut Session<'_, C>,
    group_id: &str,
) -> Result<Vec<TraitChange>, StoreError> {
    map_rows(
        s.query(
            "SELECT key, value, at, seq FROM account_traits WHERE group_id = $1 ORDER BY at, seq, id",
            &[&group_id],
        )?,
        trait_change,
    )
}

fn trait_change(row: &Row) -> Result<TraitChange, StoreError> {
    Ok(TraitChange {
        key: get(row, 0)?,
        value: get(row, 1)?,
        at: get(row, 2)?,
        seq: get(row, 3)?,
    })
}

pub(super) fn merges_into(
    conn: &mut PgConn,
    contact: ContactId,
) -> Result<Vec<MergeRecord>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT from_contact, into_contact, at, reason, message_id FROM merges
             WHERE into_contact = $1 ORDER BY at, id",
            &[&contact],
        )
    })?;
    map_rows(rows, |row| {
        Ok(MergeRecord {
            from: get(row, 0)?,
            into: get(row, 1)?,
            at: get(row, 2)?,
            reason: codec::merge_reason(get(row, 3)?)?,
            message_id: get(row, 4)?,
        })
    })
}

pub(super) fn recent_rejections(
    conn: &mut PgConn,
    limit: usize,
) -> Result<Vec<Rejection>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT received_at, source, message_id, batch_index, field, reason, excerpt, warning
             FROM rejections ORDER BY received_at DESC, id DESC LIMIT $1",
            &[&codec::limit(limit)],
        )
    })?;
    map_rows(rows, |row| {
        Ok(Rejection {
            received_at: get(row, 0)?,
            source: get(row, 1)?,
            message_id: get(row, 2)?,
            index: codec::batch_index_from_db(get(row, 3)?)?,
            field: get(row, 4)?,
            reason: get(row, 5)?,
            excerpt: get(row, 6)?,
            warning: get(row, 7)?,
        })
    })
}

pub(super) fn events_through(conn: &mut PgConn, seq: i64) -> Result<u64, StoreError> {
    let row =
        conn.session(|s| s.query_one("SELECT COUNT(*) FROM events WHERE seq <= $1", &[&seq]))?;
    codec::count(get(&row, 0)?)
}

pub(super) fn event_count(conn: &mut PgConn) -> Result<u64, StoreError> {
    let row = conn.session(|s| s.query_one("SELECT COUNT(*) FROM events", &[]))?;
    codec::count(get(&row, 0)?)
}

pub(super) fn latest_memberships(
    conn: &mut PgConn,
) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError> {
    let (rows, checkpoint) = conn.session(|s| {
        let rows = s.query(
            "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
             FROM (SELECT DISTINCT ON (subject_kind, subject_key, definition_kind, definition) *
                   FROM membership_changes
                   ORDER BY subject_kind, subject_key, definition_kind, definition, id DESC) latest
             ORDER BY id",
            &[],
        )?;
        let checkpoint = s.query_opt("SELECT at FROM engine_checkpoint WHERE id = 1", &[])?;
        Ok((rows, checkpoint))
    })?;
    let records = map_rows(rows, membership_row)?;
    let checkpoint = checkpoint.map(|row| get::<i64>(&row, 0)).transpose()?;
    Ok((records, checkpoint))
}

pub(super) fn subject_history(
    conn: &mut PgConn,
    subject: &SubjectKey,
) -> Result<Vec<MembershipRecord>, StoreError> {
    let (subject_kind, subject_key) = codec::subject_columns(subject);
    let rows = conn.session(|s| {
        s.query(
            "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
             FROM membership_changes WHERE subject_kind = $1 AND subject_key = $2 ORDER BY id",
            &[&subject_kind, &subject_key],
        )
    })?;
    map_rows(rows, membership_row)
}

pub(super) fn definition_history(
    conn: &mut PgConn,
    definition: &str,
    since: Millis,
) -> Result<Vec<MembershipRecord>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT at, subject_kind, subject_key, label, change, definition_kind, definition, level
             FROM membership_changes WHERE definition = $1 AND at >= $2 ORDER BY at, id",
            &[&definition, &since],
        )
    })?;
    map_rows(rows, membership_row)
}

fn membership_row(row: &postgres::Row) -> Result<MembershipRecord, StoreError> {
    const TABLE: &str = "membership_changes";
    let (kind, key): (String, String) = (get(row, 1)?, get(row, 2)?);
    let (change, definition_kind): (String, String) = (get(row, 4)?, get(row, 5)?);
    Ok(MembershipRecord {
        at: get(row, 0)?,
        subject: codec::subject(TABLE, &kind, &key)?,
        label: get(row, 3)?,
        change: codec::transition(TABLE, &change)?,
        definition_kind: codec::def_kind(TABLE, &definition_kind)?,
        definition: get(row, 6)?,
        level: get(row, 7)?,
    })
}
