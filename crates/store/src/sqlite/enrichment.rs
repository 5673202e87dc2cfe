//! Enrichment records (`WriteOp::AccountEnrichment`, `EnrichmentAnswer`),
//! read back at start.

use rusqlite::Connection;

use bellwether_core::store::{
    AccountEnrichmentRecord, EnrichedTraitRow, EnrichmentAnswerRecord, StoreError,
};

use super::DbResult;
use crate::codec;

pub(super) fn account_enrichments(
    conn: &Connection,
) -> Result<Vec<AccountEnrichmentRecord>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT group_id, domain, traits FROM account_enrichment ORDER BY group_id")
        .db()?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .db()?;
    let mut records = Vec::new();
    for row in rows {
        let (group_id, domain, traits) = row.db()?;
        records.push(AccountEnrichmentRecord {
            group_id,
            domain,
            traits: codec::object_from_text(&traits, "account_enrichment.traits")?,
        });
    }
    Ok(records)
}

pub(super) fn enrichment_answers(
    conn: &Connection,
) -> Result<Vec<EnrichmentAnswerRecord>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT domain, traits, fetched_at FROM enrichment_answers ORDER BY domain")
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
    let mut records = Vec::new();
    for row in rows {
        let (domain, traits, fetched_at) = row.db()?;
        records.push(EnrichmentAnswerRecord {
            domain,
            traits: codec::object_from_text(&traits, "enrichment_answers.traits")?,
            fetched_at,
        });
    }
    Ok(records)
}

pub(super) fn enriched_traits(conn: &Connection) -> Result<Vec<EnrichedTraitRow>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT group_id, key, value, at, seq FROM account_traits WHERE source = 'enrichment'",
        )
        .db()?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .db()?;
    let mut traits = Vec::new();
    for row in rows {
        let (group_id, key, value, at, seq) = row.db()?;
        traits.push(EnrichedTraitRow {
            group_id,
            key,
            value: codec::json_from_text(&value, "account_traits.value")?,
            at,
            seq,
        });
    }
    Ok(traits)
}
