//! One PostgreSQL connection with its prepared-statement cache, and the
//! error mapping.

use std::collections::HashMap;
use std::error::Error as _;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction};

use bellwether_core::store::StoreError;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to open a connection: the parsed URL and the schema to work in.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) config: postgres::Config,
    pub(super) schema: Option<String>,
}

impl Settings {
    pub(super) fn parse(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(describe("invalid postgresql url", &e)))?;
        if config.get_application_name().is_none() {
            config.application_name("bellwether");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        Ok(Self {
            config,
            schema: schema.map(str::to_owned),
        })
    }
}

/// `"name"`, quoted for use as an SQL identifier.
pub(super) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) struct PgConn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

/// Whether a transaction may write, or reads one consistent snapshot.
#[derive(Clone, Copy)]
pub(super) enum Mode {
    Write,
    Snapshot,
}

impl PgConn {
    pub(super) fn connect(settings: &Settings) -> Result<Self, StoreError> {
        let mut client = settings
            .config
            .connect(NoTls)
            .map_err(|e| StoreError::Database(describe("cannot connect to postgresql", &e)))?;
        if let Some(schema) = &settings.schema {
            client
                .batch_execute(&format!("SET search_path TO {}", quote_identifier(schema)))
                .pg()?;
        }
        Ok(Self {
            client,
            statements: HashMap::new(),
        })
    }

    /// For the writer: a committed `apply` must survive a crash, so turn
    /// `synchronous_commit` back on when the server default has it off
    /// (`local` and the replica levels are durable enough and kept).
    pub(super) fn require_durable_commits(&mut self) -> Result<(), StoreError> {
        let row = self.client.query_one("SHOW synchronous_commit", &[]).pg()?;
        let setting: String = get(&row, 0)?;
        if setting == "off" {
            tracing::warn!(
                "synchronous_commit is off on the server; bellwether's writer turns it on"
            );
            self.client
                .batch_execute("SET synchronous_commit = on")
                .pg()?;
        }
        Ok(())
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Runs `work` outside any explicit transaction (one statement reads).
    pub(super) fn session<T>(
        &mut self,
        work: impl FnOnce(&mut Session<'_, Client>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        work(&mut Session {
            client: &mut self.client,
            statements: &mut self.statements,
        })
    }

    /// Runs `work` in a transaction that commits when it returns `Ok`.
    pub(super) fn transaction<T>(
        &mut self,
        mode: Mode,
        work: impl FnOnce(&mut Session<'_, Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = match mode {
            Mode::Write => self.client.transaction(),
            Mode::Snapshot => self
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start(),
        }
        .pg()?;
        let out = work(&mut Session {
            client: &mut tx,
            statements: &mut self.statements,
        })?;
        tx.commit().pg()?;
        Ok(out)
    }
}

/// A client or transaction plus the connection's statement cache.
pub(super) struct Session<'a, C> {
    client: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

pub(super) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Session<'_, C> {
    /// The prepared statement for `sql`, prepared once per connection.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).pg()?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params).pg()
    }

    pub(super) fn query(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params).pg()
    }

    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params).pg()
    }

    pub(super) fn query_one(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Row, StoreError> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params).pg()
    }

    /// Statements without parameters or results, not cached (DDL).
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql).pg()
    }
}

/// `postgres` errors as [`StoreError`]s (the orphan rule forbids a `From`).
pub(super) trait PgResult<T> {
    fn pg(self) -> Result<T, StoreError>;
}

impl<T> PgResult<T> for Result<T, postgres::Error> {
    fn pg(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database(describe("postgresql", &e)))
    }
}

/// `context: error: cause`, on one line (the server's DETAIL included).
pub(super) fn describe(context: &str, error: &postgres::Error) -> String {
    let mut text = format!("{context}: {error}");
    if let Some(cause) = error.source() {
        text.push_str(": ");
        text.push_str(&cause.to_string().replace('\n', "; "));
    }
    text
}

/// Reads column `index` of `row`, mapping a type mismatch to corruption.
pub(super) fn get<'r, T: postgres::types::FromSql<'r>>(
    row: &'r Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index)
        .map_err(|e| StoreError::Corrupt(describe("unexpected column value", &e)))
}
