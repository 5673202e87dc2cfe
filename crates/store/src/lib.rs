//! Bellwether's durable storage: the core's [`Store`] trait implemented on
//! SQLite (the embedded default, [`SqliteStore`]) and PostgreSQL
//! ([`PostgresStore`]).
//!
//! Architecture invariant: a store decides nothing. It applies the
//! [`WriteOp`](bellwether_core::store::WriteOp)s the core computed, in order,
//! in one transaction, and answers reads. Both backends pass one conformance
//! suite (`tests/conformance`), so they behave the same.
//!
//! API boundary: [`open_store`], the two store types and their constructors.
//! Schema changes are numbered migrations per backend under `migrations/`,
//! embedded in the binary and applied at open, each in its own transaction.
//!
//! Deliberate choices the trait docs leave open:
//! - A `WriteOp::Event` whose `(source, message_id)` is already stored fails
//!   the whole `apply` (the core dedupes first; a duplicate here is a bug).
//! - `WriteOp::Identity` for a known identifier overwrites its contact and
//!   `first_seen` with the op's values.
//! - A merged-away contact's `merged_into` always names the live survivor:
//!   merging `B` into `C` also repoints every contact merged into `B`.
//!   `Store::contact` of a merged-away id returns the survivor's record.
//! - Merging a contact into itself is an error.
//! - One writer: [`open_store_as_writer`] locks the store; plain
//!   [`open_store`] (reports, `eval`) does not.
//! - JSON is stored as text (SQLite `TEXT`, PostgreSQL `json`, not `jsonb`),
//!   so it reads back exactly as written: key order (the workspace enables
//!   serde_json's `preserve_order`), number spelling, even `\u0000`.
//!   PostgreSQL cannot hold U+0000 in `TEXT` columns (ids, event names, trait
//!   names): the ingestion edge rejects every NUL, and the writer retries a
//!   failed group one request at a time, so a commit is never lost to one
//!   message.

mod codec;
mod lock;
mod migrations;
mod pool;
mod postgres;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use bellwether_core::store::{Store, StoreError};

pub use crate::lock::LOCK_FILE;
pub use crate::postgres::PostgresStore;
pub use crate::sqlite::SqliteStore;

/// Opens the configured store: PostgreSQL when `database` is a
/// `postgres://` or `postgresql://` URL, otherwise SQLite in `data_dir`.
/// A `schema=NAME` query parameter keeps Bellwether's tables in that schema.
pub fn open_store(database: Option<&str>, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        Some(url) if is_postgres_url(url) => match split_schema(url) {
            (url, Some(schema)) => Ok(Arc::new(PostgresStore::connect_with_schema(&url, &schema)?)),
            (url, None) => Ok(Arc::new(PostgresStore::connect(&url)?)),
        },
        _ => Ok(Arc::new(SqliteStore::open(data_dir)?)),
    }
}

/// [`open_store`] for the one process that writes (`serve`, `import`):
/// takes the store's writer lock first (a `flock`ed `bellwether.lock` in
/// `data_dir` for SQLite, a session advisory lock held by the writer
/// connection for PostgreSQL), recording `holder`. A store already held
/// fails at once with [`StoreError::Locked`] naming the holder.
pub fn open_store_as_writer(
    database: Option<&str>,
    data_dir: &Path,
    holder: &str,
) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        Some(url) if is_postgres_url(url) => {
            let (url, schema) = split_schema(url);
            Ok(Arc::new(PostgresStore::connect_as_writer(
                &url,
                schema.as_deref(),
                holder,
            )?))
        }
        _ => Ok(Arc::new(SqliteStore::open_as_writer(data_dir, holder)?)),
    }
}

/// Takes Bellwether's own `schema=` parameter out of a PostgreSQL URL (the
/// driver would refuse it as unknown).
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) if !name.is_empty() => {
                schema = Some(name.to_owned());
                false
            }
            _ => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), schema)
    } else {
        (format!("{base}?{}", rest.join("&")), schema)
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::{is_postgres_url, split_schema};

    #[test]
    fn schema_parameter_is_split_off() {
        assert_eq!(
            split_schema("postgres://h/db"),
            ("postgres://h/db".into(), None)
        );
        assert_eq!(
            split_schema("postgres://h/db?schema=bw"),
            ("postgres://h/db".into(), Some("bw".into()))
        );
        assert_eq!(
            split_schema("postgres://h/db?sslmode=disable&schema=bw&application_name=x"),
            (
                "postgres://h/db?sslmode=disable&application_name=x".into(),
                Some("bw".into())
            )
        );
    }

    #[test]
    fn postgres_is_picked_by_url_scheme_only() {
        assert!(is_postgres_url("postgres://u@host/db"));
        assert!(is_postgres_url("postgresql://host/db"));
        assert!(!is_postgres_url("sqlite://x"));
        assert!(!is_postgres_url("/var/lib/postgres"));
    }
}
