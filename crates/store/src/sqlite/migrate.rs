//! Applies the embedded SQLite migrations, each in its own `IMMEDIATE`
//! transaction (so two processes opening one file do not race).

use rusqlite::{params, Connection, TransactionBehavior};

use bellwether_core::store::StoreError;

use super::DbResult;
use crate::migrations::{self, Migration};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
) STRICT";

pub(super) fn run(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(CREATE_TABLE).db()?;
    let known = migrations::SQLITE;
    for migration in migrations::pending(known, &applied(conn)?)? {
        apply_one(conn, migration)?;
    }
    Ok(())
}

pub(super) fn applied(conn: &Connection) -> Result<Vec<u32>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT version FROM schema_migrations ORDER BY version")
        .db()?;
    let versions = stmt.query_map([], |row| row.get(0)).db()?;
    versions.collect::<rusqlite::Result<Vec<u32>>>().db()
}

fn apply_one(conn: &mut Connection, migration: &Migration) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| StoreError::Migration {
        version: migration.version,
        reason: e.to_string(),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)?;
    let already: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [migration.version],
            |row| row.get(0),
        )
        .map_err(failed)?;
    if already {
        return Ok(());
    }
    tx.execute_batch(migration.sql).map_err(failed)?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
        params![migration.version, migration.name],
    )
    .map_err(failed)?;
    tx.commit().map_err(failed)?;
    tracing::info!(
        backend = "sqlite",
        version = migration.version,
        name = migration.name,
        "migration applied"
    );
    Ok(())
}
