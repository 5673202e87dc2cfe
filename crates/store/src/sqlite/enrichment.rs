//! Enrichment records (`WriteOp::AccountEnrichment`, `EnrichmentAnswer`),
//! read back at start.

use rusqlite::Connection;

use bellwether_core::store::{
    AccountEnrichmentRecord, EnrichedTraitRow, EnrichmentAnswerRecord, StoreError,
};

use super::read::query;
use super::DbResult;
use crate::codec;

pub(super) fn account_enrichments(
    conn: &Connection,
) -> Result<Vec<AccountEnrichmentRecord>, StoreError> {
    query(
        conn,
        "SELECT group_id, domain, traits FROM account_enrichment ORDER BY group_id",
        [],
        |row| {
            Ok(AccountEnrichmentRecord {
                group_id: row.get(0).db()?,
                domain: row.get(1).db()?,
                traits: codec::object_from_text(
                    &row.get::<_, String>(2).db()?,
                    "account_enrichment.traits",
                )?,
            })
        },
    )
}

pub(super) fn enrichment_answers(
    conn: &Connection,
) -> Result<Vec<EnrichmentAnswerRecord>, StoreError> {
    query(
        conn,
        "SELECT domain, traits, fetched_at FROM enrichment_answers ORDER BY domain",
        [],
        |row| {
            Ok(EnrichmentAnswerRecord {
                domain: row.get(0).db()?,
                traits: codec::object_from_text(
                    &row.get::<_, String>(1).db()?,
                    "enrichment_answers.traits",
                )?,
                fetched_at: row.get(2).db()?,
            })
        },
    )
}

pub(super) fn enriched_traits(conn: &Connection) -> Result<Vec<EnrichedTraitRow>, StoreError> {
    query(
        conn,
        "SELECT group_id, key, value, at, seq FROM account_traits WHERE source = 'enrichment'",
        [],
        |row| {
            Ok(EnrichedTraitRow {
                group_id: row.get(0).db()?,
                key: row.get(1).db()?,
                value: codec::json_from_text(
                    &row.get::<_, String>(2).db()?,
                    "account_traits.value",
                )?,
                at: row.get(3).db()?,
                seq: row.get(4).db()?,
            })
        },
    )
}
