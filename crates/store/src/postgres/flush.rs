//! One multi-row `INSERT … SELECT FROM UNNEST(…)` per table. Tables whose
//! ids order history (`*_traits`, `merges`, `rejections`) insert `WITH
//! ORDINALITY … ORDER BY` so ids follow the order of the ops.

use bellwether_core::store::MembershipRecord;
use postgres::types::Json;
use postgres::GenericClient;

use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::store::{IdKind, MergeReason, StoreError};

use super::batch::{ContactRow, TraitRows};
use super::conn::Session;
use crate::codec;

type Result = std::result::Result<(), StoreError>;

fn column<T, U>(rows: &[T], field: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(field).collect()
}

pub(super) fn contacts<C: GenericClient>(s: &mut Session<'_, C>, rows: &[ContactRow]) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO contacts (id, created_at, merged_into)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[])",
        &[
            &column(rows, |r| r.id),
            &column(rows, |r| r.created_at),
            &column(rows, |r| r.merged_into),
        ],
    )?;
    Ok(())
}

pub(super) fn accounts<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[(&str, Millis)],
) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO accounts (group_id, created_at)
         SELECT * FROM UNNEST($1::text[], $2::bigint[])
         ON CONFLICT (group_id) DO NOTHING",
        &[&column(rows, |r| r.0), &column(rows, |r| r.1)],
    )?;
    Ok(())
}

pub(super) fn identities<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[(IdKind, &str, ContactId, Millis)],
) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO identities (kind, value, contact, first_seen)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[])
         ON CONFLICT (kind, value)
         DO UPDATE SET contact = EXCLUDED.contact, first_seen = EXCLUDED.first_seen",
        &[
            &column(rows, |r| r.0.as_str()),
            &column(rows, |r| r.1),
            &column(rows, |r| r.2),
            &column(rows, |r| r.3),
        ],
    )?;
    Ok(())
}

pub(super) fn contact_accounts<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[super::batch::ContactAccountRow<'_>],
) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO contact_accounts (contact, group_id, link, via, at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT (contact)
         DO UPDATE SET group_id = EXCLUDED.group_id, link = EXCLUDED.link,
                       via = EXCLUDED.via, at = EXCLUDED.at",
        &[
            &column(rows, |r| r.0),
            &column(rows, |r| r.1),
            &column(rows, |r| r.2.as_str()),
            &column(rows, |r| r.3),
            &column(rows, |r| r.4),
        ],
    )?;
    Ok(())
}

pub(super) fn events<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[(&StoredEvent, Option<ContactId>)],
) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    let text = |field: fn(&StoredEvent) -> Option<&str>| column(rows, |(e, _)| field(e));
    s.execute(
        "INSERT INTO events (seq, source, message_id, type, event, user_id, anonymous_id,
            group_id, previous_id, contact_id, timestamp, received_at, sent_at,
            original_timestamp, properties, traits, context)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[],
            $12::bigint[], $13::bigint[], $14::bigint[], $15::json[], $16::json[], $17::json[])",
        &[
            &column(rows, |(e, _)| e.seq),
            &text(|e| Some(&e.message.source)),
            &text(|e| Some(&e.message.message_id)),
            &text(|e| Some(e.message.kind.as_str())),
            &text(|e| e.message.event.as_deref()),
            &text(|e| e.message.user_id.as_deref()),
            &text(|e| e.message.anonymous_id.as_deref()),
            &text(|e| e.message.group_id.as_deref()),
            &text(|e| e.message.previous_id.as_deref()),
            &column(rows, |(_, contact)| *contact),
            &column(rows, |(e, _)| e.message.timestamp),
            &column(rows, |(e, _)| e.message.received_at),
            &column(rows, |(e, _)| e.message.sent_at),
            &column(rows, |(e, _)| e.message.original_timestamp),
            &column(rows, |(e, _)| Json(&e.message.properties)),
            &column(rows, |(e, _)| Json(&e.message.traits)),
            &column(rows, |(e, _)| Json(&e.message.context)),
        ],
    )?;
    Ok(())
}

pub(super) fn contact_traits<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &TraitRows<'_, ContactId>,
) -> Result {
    if rows.owner.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO contact_traits (contact, key, value, at, seq)
         SELECT o, k, v, a, s
         FROM UNNEST($1::bigint[], $2::text[], $3::json[], $4::bigint[], $5::bigint[])
              WITH ORDINALITY AS t(o, k, v, a, s, n)
         ORDER BY n",
        &[
            &rows.owner,
            &rows.key,
            &column(&rows.value, |v| Json(*v)),
            &rows.at,
            &rows.seq,
        ],
    )?;
    Ok(())
}

pub(super) fn account_traits<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &TraitRows<'_, &str>,
) -> Result {
    if rows.owner.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO account_traits (group_id, key, value, at, seq)
         SELECT o, k, v, a, s
         FROM UNNEST($1::text[], $2::text[], $3::json[], $4::bigint[], $5::bigint[])
              WITH ORDINALITY AS t(o, k, v, a, s, n)
         ORDER BY n",
        &[
            &rows.owner,
            &rows.key,
            &column(&rows.value, |v| Json(*v)),
            &rows.at,
            &rows.seq,
        ],
    )?;
    Ok(())
}

pub(super) fn merges<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[(ContactId, ContactId, Millis, MergeReason, &str)],
) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    s.execute(
        "INSERT INTO merges (from_contact, into_contact, at, reason, message_id)
         SELECT f, i, a, r, m
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])
              WITH ORDINALITY AS t(f, i, a, r, m, n)
         ORDER BY n",
        &[
            &column(rows, |r| r.0),
            &column(rows, |r| r.1),
            &column(rows, |r| r.2),
            &column(rows, |r| r.3.as_str()),
            &column(rows, |r| r.4),
        ],
    )?;
    Ok(())
}

pub(super) fn rejections<C: GenericClient>(s: &mut Session<'_, C>, rows: &[&Rejection]) -> Result {
    if rows.is_empty() {
        return Ok(());
    }
    let index = rows
        .iter()
        .map(|r| codec::batch_index_to_db(r.index))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    s.execute(
        "INSERT INTO rejections (received_at, source, message_id, batch_index, field, reason, excerpt,
                                 warning)
         SELECT r, s, m, i, f, w, e, g
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
              $7::text[], $8::boolean[]) WITH ORDINALITY AS t(r, s, m, i, f, w, e, g, n)
         ORDER BY n",
        &[
            &column(rows, |r| r.received_at),
            &column(rows, |r| r.source.as_deref()),
            &column(rows, |r| r.message_id.as_deref()),
            &index,
            &column(rows, |r| r.field.as_str()),
            &column(rows, |r| r.reason.as_str()),
            &column(rows, |r| r.excerpt.as_str()),
            &column(rows, |r| r.warning),
        ],
    )?;
    Ok(())
}

/// `WriteOp::PruneRejections`.
pub(super) fn prune_rejections<C: GenericClient>(
    s: &mut Session<'_, C>,
    keep_newest: u64,
    before: Millis,
) -> Result {
    let keep = codec::count_to_db(keep_newest);
    s.execute(
        "DELETE FROM rejections
         WHERE id <= (SELECT max(id) FROM rejections) - $1 OR received_at < $2",
        &[&keep, &before],
    )?;
    Ok(())
}

pub(super) fn memberships<C: GenericClient>(
    s: &mut Session<'_, C>,
    rows: &[&MembershipRecord],
    checkpoint: Option<Millis>,
) -> Result {
    if !rows.is_empty() {
        s.execute(
            "INSERT INTO membership_changes
               (at, subject_kind, subject_key, label, change, definition_kind, definition, level)
             SELECT a, k, y, l, c, d, n, v
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                  $7::text[], $8::text[]) WITH ORDINALITY AS t(a, k, y, l, c, d, n, v, o)
             ORDER BY o",
            &[
                &column(rows, |r| r.at),
                &column(rows, |r| r.subject.kind().as_str()),
                &column(rows, |r| r.subject.store_key()),
                &column(rows, |r| r.label.as_str()),
                &column(rows, |r| r.change.as_str()),
                &column(rows, |r| r.definition_kind.as_str()),
                &column(rows, |r| r.definition.as_str()),
                &column(rows, |r| r.level.as_deref()),
            ],
        )?;
    }
    if let Some(at) = checkpoint {
        s.execute(
            "INSERT INTO engine_checkpoint (id, at) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            &[&at],
        )?;
    }
    Ok(())
}
