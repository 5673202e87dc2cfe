//! Applies the embedded PostgreSQL migrations, each in its own transaction
//! under an advisory lock per schema (so two processes do not race).

use bellwether_core::store::StoreError;

use super::conn::{get, Mode, PgConn, Session};
use crate::migrations::{self, Migration};

const LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('bellwether.migrate.' || COALESCE(current_schema(), '')))";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

pub(super) fn run(conn: &mut PgConn) -> Result<(), StoreError> {
    while let Some(migration) = conn.transaction(Mode::Write, apply_next)? {
        tracing::info!(
            backend = "postgres",
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
    }
    Ok(())
}

/// Applies the first pending migration, if any, and says which.
fn apply_next(
    session: &mut Session<'_, postgres::Transaction<'_>>,
) -> Result<Option<&'static Migration>, StoreError> {
    session.batch_execute(LOCK)?;
    session.batch_execute(CREATE_TABLE)?;
    let applied = versions(session)?;
    let Some(migration) = migrations::pending(migrations::POSTGRES, &applied)?
        .first()
        .copied()
    else {
        return Ok(None);
    };
    let failed = |error: StoreError| StoreError::Migration {
        version: migration.version,
        reason: error.to_string(),
    };
    session.batch_execute(migration.sql).map_err(failed)?;
    session
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&i64::from(migration.version), &migration.name],
        )
        .map_err(failed)?;
    Ok(Some(migration))
}

pub(super) fn applied(conn: &mut PgConn) -> Result<Vec<u32>, StoreError> {
    conn.session(versions)
}

fn versions<C: postgres::GenericClient>(
    session: &mut Session<'_, C>,
) -> Result<Vec<u32>, StoreError> {
    session
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|row| {
            let version: i64 = get(row, 0)?;
            u32::try_from(version).map_err(|_| {
                StoreError::Corrupt(format!("schema_migrations.version {version} out of range"))
            })
        })
        .collect()
}
