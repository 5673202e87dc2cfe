//! The backends under test, each able to open its store again on the same
//! data (to test durability and migrations across reopen).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bellwether_core::store::Store;
use bellwether_store::{PostgresStore, SqliteStore};

pub(crate) trait Harness {
    /// The `Store::backend` name expected.
    fn backend(&self) -> &'static str;
    /// Opens the store under test; every call sees the same data.
    fn open(&self) -> Arc<dyn Store>;
    /// Opens it and lists the applied migration versions.
    fn applied_migrations(&self) -> Vec<u32>;
}

pub(crate) struct Sqlite {
    dir: tempfile::TempDir,
}

pub(crate) fn sqlite() -> Sqlite {
    Sqlite {
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Sqlite {
    fn data_dir(&self) -> std::path::PathBuf {
        // A directory the store must create itself.
        self.dir.path().join("data")
    }
}

impl Harness for Sqlite {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.data_dir()).unwrap())
    }

    fn applied_migrations(&self) -> Vec<u32> {
        SqliteStore::open(&self.data_dir())
            .unwrap()
            .applied_migrations()
            .unwrap()
    }
}

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub(crate) fn pg_url() -> String {
    std::env::var("BELLWETHER_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

/// A PostgreSQL connection for test setup, failing loudly when unreachable.
pub(crate) fn pg_admin() -> postgres::Client {
    let url = pg_url();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|error| {
        let shown = if std::env::var("BELLWETHER_TEST_PG_URL").is_ok() {
            "the URL in BELLWETHER_TEST_PG_URL".to_owned()
        } else {
            DEFAULT_PG_URL.to_owned()
        };
        panic!(
            "PostgreSQL is unreachable at {shown}: {error:?}. The PostgreSQL conformance tests \
             are never skipped: start PostgreSQL or point BELLWETHER_TEST_PG_URL at one."
        )
    })
}

/// A unique schema name for one test.
pub(crate) fn unique_schema(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// One test's schema in the shared test database; dropped with the harness.
pub(crate) struct Postgres {
    url: String,
    schema: String,
}

pub(crate) fn postgres() -> Postgres {
    let schema = unique_schema("bw_test");
    pg_admin()
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    Postgres {
        url: pg_url(),
        schema,
    }
}

impl Postgres {
    fn connect(&self) -> PostgresStore {
        PostgresStore::connect_with_schema(&self.url, &self.schema).unwrap()
    }
}

impl Harness for Postgres {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn open(&self) -> Arc<dyn Store> {
        Arc::new(self.connect())
    }

    fn applied_migrations(&self) -> Vec<u32> {
        self.connect().applied_migrations().unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let dropped =
            pg_admin().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        if let Err(error) = dropped {
            if !std::thread::panicking() {
                panic!("cannot drop test schema {}: {error}", self.schema);
            }
        }
    }
}
