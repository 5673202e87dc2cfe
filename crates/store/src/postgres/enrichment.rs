//! Enrichment records (`WriteOp::AccountEnrichment`, `EnrichmentAnswer`):
//! written in order within a batch (few per batch), read back at start.

use postgres::types::Json;
use postgres::GenericClient;
use serde_json::{Map, Value};

use bellwether_core::message::Millis;
use bellwether_core::store::{
    AccountEnrichmentRecord, EnrichedTraitRow, EnrichmentAnswerRecord, StoreError,
};

use super::conn::{get, PgConn, Session};
use super::read::map_rows;
use crate::codec;

/// Enrichment's trait changes (marked as its own in the history) and its
/// record of the account.
pub(super) fn record<C: GenericClient>(
    s: &mut Session<'_, C>,
    group_id: &str,
    domain: &str,
    (changes, applied): (&Map<String, Value>, &Map<String, Value>),
    (at, seq): (Millis, i64),
) -> Result<(), StoreError> {
    for (key, value) in changes {
        s.execute(
            "INSERT INTO account_traits (group_id, key, value, at, seq, source)
             VALUES ($1, $2, $3, $4, $5, 'enrichment')",
            &[&group_id, key, &Json(value), &at, &seq],
        )?;
    }
    s.execute(
        "INSERT INTO account_enrichment (group_id, domain, traits, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id)
         DO UPDATE SET domain = EXCLUDED.domain, traits = EXCLUDED.traits, at = EXCLUDED.at",
        &[&group_id, &domain, &codec::object_text(applied)?, &at],
    )?;
    Ok(())
}

pub(super) fn answer<C: GenericClient>(
    s: &mut Session<'_, C>,
    domain: &str,
    traits: &Map<String, Value>,
    fetched_at: Millis,
) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO enrichment_answers (domain, traits, fetched_at) VALUES ($1, $2, $3)
         ON CONFLICT (domain)
         DO UPDATE SET traits = EXCLUDED.traits, fetched_at = EXCLUDED.fetched_at",
        &[&domain, &codec::object_text(traits)?, &fetched_at],
    )?;
    Ok(())
}

pub(super) fn account_enrichments(
    conn: &mut PgConn,
) -> Result<Vec<AccountEnrichmentRecord>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT group_id, domain, traits FROM account_enrichment ORDER BY group_id",
            &[],
        )
    })?;
    map_rows(rows, |row| {
        Ok(AccountEnrichmentRecord {
            group_id: get(row, 0)?,
            domain: get(row, 1)?,
            traits: codec::object_from_text(&get::<String>(row, 2)?, "account_enrichment.traits")?,
        })
    })
}

pub(super) fn enrichment_answers(
    conn: &mut PgConn,
) -> Result<Vec<EnrichmentAnswerRecord>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT domain, traits, fetched_at FROM enrichment_answers ORDER BY domain",
            &[],
        )
    })?;
    map_rows(rows, |row| {
        Ok(EnrichmentAnswerRecord {
            domain: get(row, 0)?,
            traits: codec::object_from_text(&get::<String>(row, 1)?, "enrichment_answers.traits")?,
            fetched_at: get(row, 2)?,
        })
    })
}

pub(super) fn enriched_traits(conn: &mut PgConn) -> Result<Vec<EnrichedTraitRow>, StoreError> {
    let rows = conn.session(|s| {
        s.query(
            "SELECT group_id, key, value, at, seq FROM account_traits WHERE source = 'enrichment'",
            &[],
        )
    })?;
    map_rows(rows, |row| {
        Ok(EnrichedTraitRow {
            group_id: get(row, 0)?,
            key: get(row, 1)?,
            value: get::<Json<Value>>(row, 2)?.0,
            at: get(row, 3)?,
            seq: get(row, 4)?,
        })
    })
}
