//! The PostgreSQL store, for shared deployments.
//!
//! Uses the synchronous `postgres` client, which drives its own small tokio
//! runtime: call it from a dedicated thread or `spawn_blocking`, never from
//! async code. One writer connection applies batches, multi-row (`UNNEST`)
//! so a batch of thousands of ops takes a handful of round trips; a small
//! pool of connections serves reads. TLS is not supported yet (`NoTls`).

mod batch;
mod conn;
mod enrichment;
mod flush;
mod lock;
mod migrate;
mod outbox;
mod privacy;
mod read;
mod retention;
mod scores;
mod write;

use bellwether_core::store::{
    AttemptOutcome, DeletionRecord, Delivery, DeliveryFilter, DigestSentRecord, ExpiredEvent,
    MembershipRecord, RecordedAssignments, ScoreRecord, Suppression,
};
use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;

use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::store::{
    AccountRecord, ContactRecord, IdKind, IdentitySnapshot, MergeRecord, Store, StoreError,
    TraitChange, WriteOp,
};
use bellwether_core::subject::SubjectKey;

use self::conn::{quote_identifier, PgConn, Settings};
use crate::pool::Pool;

const MAX_READERS: usize = 4;

/// The PostgreSQL [`Store`].
pub struct PostgresStore {
    settings: Arc<Settings>,
    /// The writer connection holds the writer lock (`lock`), and takes it
    /// again when it reconnects.
    exclusive: bool,
    writer: Mutex<Option<PgConn>>,
    readers: Pool<PgConn>,
}

impl std::fmt::Debug for PostgresStore {
    /// Never prints the URL: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.settings.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db?…`), working in the
    /// URL's default schema, and applies pending migrations.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(Settings::parse(url, None)?, None)
    }

    /// Like [`connect`](Self::connect), but every table lives in `schema`,
    /// which is created if missing (used to isolate tests or tenants).
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::open(Self::settings_creating_schema(url, schema)?, None)
    }

    /// For the one process that writes (`serve`, `import`): like
    /// [`connect`](Self::connect) (in `schema` when given), but the writer
    /// connection first takes the store's advisory lock, named `holder` in
    /// `pg_stat_activity`; if another session holds it, fails at once with
    /// [`StoreError::Locked`] naming that session.
    pub fn connect_as_writer(
        url: &str,
        schema: Option<&str>,
        holder: &str,
    ) -> Result<Self, StoreError> {
        let settings = match schema {
            Some(schema) => Self::settings_creating_schema(url, schema)?,
            None => Settings::parse(url, None)?,
        };
        Self::open(settings, Some(holder))
    }

    fn settings_creating_schema(url: &str, schema: &str) -> Result<Settings, StoreError> {
        let settings = Settings::parse(url, Some(schema))?;
        PgConn::connect(&Settings::parse(url, None)?)?.session(|session| {
            session.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_identifier(schema)
            ))
        })?;
        Ok(settings)
    }

    fn open(mut settings: Settings, holder: Option<&str>) -> Result<Self, StoreError> {
        if let Some(holder) = holder {
            // PostgreSQL keeps 63 bytes of it.
            let mut name: String = holder.chars().take(63).collect();
            while name.len() > 63 {
                name.pop();
            }
            settings.config.application_name(&name);
        }
        let settings = Arc::new(settings);
        let exclusive = holder.is_some();
        let mut writer = connect_writer(&settings, exclusive)?;
        migrate::run(&mut writer)?;
        let reader_settings = Arc::clone(&settings);
        let readers = Pool::new(
            MAX_READERS,
            Box::new(move || PgConn::connect(&reader_settings)),
            PgConn::is_closed,
        );
        tracing::info!(schema = ?settings.schema, exclusive, "postgresql store open");
        Ok(Self {
            settings,
            exclusive,
            writer: Mutex::new(Some(writer)),
            readers,
        })
    }

    /// Versions recorded in `schema_migrations`, ascending.
    pub fn applied_migrations(&self) -> Result<Vec<u32>, StoreError> {
        self.readers.with(migrate::applied)
    }
}

impl PostgresStore {
    /// Runs `work` on the writer connection, reconnecting it if it closed.
    fn with_writer<T>(
        &self,
        work: impl FnOnce(&mut PgConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut writer = self.writer.lock();
        if writer.as_ref().is_none_or(PgConn::is_closed) {
            *writer = Some(connect_writer(&self.settings, self.exclusive)?);
        }
        let Some(conn) = writer.as_mut() else {
            return Err(StoreError::Database("no writer connection".to_owned()));
        };
        work(conn)
    }
}

fn connect_writer(settings: &Settings, exclusive: bool) -> Result<PgConn, StoreError> {
    let mut writer = PgConn::connect(settings)?;
    if exclusive {
        lock::take(&mut writer, settings.schema.as_deref())?;
    }
    writer.require_durable_commits()?;
    Ok(writer)
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn apply(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.with_writer(|conn| write::apply(conn, ops))
    }

    fn discard_unconfirmed_history(&self) -> Result<u64, StoreError> {
        self.with_writer(write::discard_unconfirmed_history)
    }

    fn seen_message_ids(
        &self,
        source: &str,
        message_ids: &[&str],
    ) -> Result<HashSet<String>, StoreError> {
        self.readers
            .with(|conn| read::seen_message_ids(conn, source, message_ids))
    }

    fn load_identity(&self) -> Result<IdentitySnapshot, StoreError> {
        self.readers.with(read::load_identity)
    }

    fn max_seq(&self) -> Result<i64, StoreError> {
        self.readers.with(read::max_seq)
    }

    fn contact_by_identity(
        &self,
        kind: IdKind,
        value: &str,
    ) -> Result<Option<ContactRecord>, StoreError> {
        self.readers
            .with(|conn| read::contact_by_identity(conn, kind, value))
    }

    fn contact(&self, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
        self.readers.with(|conn| read::contact(conn, id))
    }

    fn account(&self, group_id: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.readers.with(|conn| read::account(conn, group_id))
    }

    fn contact_events(
        &self,
        contact: ContactId,
        limit: usize,
        before: Option<(Millis, i64)>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.readers
            .with(|conn| read::contact_events(conn, contact, limit, before))
    }

    fn scan_events(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.readers
            .with(|conn| read::scan_events(conn, after_seq, limit))
    }

    fn contact_trait_history(&self, contact: ContactId) -> Result<Vec<TraitChange>, StoreError> {
        self.readers
            .with(|conn| conn.session(|s| read::contact_trait_history(s, contact)))
    }

    fn account_trait_history(&self, group_id: &str) -> Result<Vec<TraitChange>, StoreError> {
        self.readers
            .with(|conn| conn.session(|s| read::account_trait_history(s, group_id)))
    }

    fn merges_into(&self, contact: ContactId) -> Result<Vec<MergeRecord>, StoreError> {
        self.readers.with(|conn| read::merges_into(conn, contact))
    }

    fn recent_rejections(&self, limit: usize) -> Result<Vec<Rejection>, StoreError> {
        self.readers
            .with(|conn| read::recent_rejections(conn, limit))
    }

    fn expired_events(
        &self,
        before: Millis,
        seqs: std::ops::RangeInclusive<i64>,
    ) -> Result<Vec<ExpiredEvent>, StoreError> {
        self.readers
            .with(|conn| retention::expired_events(conn, before, seqs))
    }

    fn enriched_traits(&self) -> Result<Vec<bellwether_core::store::EnrichedTraitRow>, StoreError> {
        self.readers.with(enrichment::enriched_traits)
    }

    fn account_enrichments(
        &self,
    ) -> Result<Vec<bellwether_core::store::AccountEnrichmentRecord>, StoreError> {
        self.readers.with(enrichment::account_enrichments)
    }

    fn enrichment_answers(
        &self,
    ) -> Result<Vec<bellwether_core::store::EnrichmentAnswerRecord>, StoreError> {
        self.readers.with(enrichment::enrichment_answers)
    }

    fn events_through(&self, seq: i64) -> Result<u64, StoreError> {
        self.readers.with(|conn| read::events_through(conn, seq))
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        self.readers.with(read::event_count)
    }

    fn latest_memberships(&self) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError> {
        self.readers.with(read::latest_memberships)
    }

    fn subject_history(&self, subject: &SubjectKey) -> Result<Vec<MembershipRecord>, StoreError> {
        self.readers
            .with(|conn| read::subject_history(conn, subject))
    }

    fn definition_history(
        &self,
        definition: &str,
        since: Millis,
    ) -> Result<Vec<MembershipRecord>, StoreError> {
        self.readers
            .with(|conn| read::definition_history(conn, definition, since))
    }

    fn score_history(&self, subject: &SubjectKey) -> Result<Vec<ScoreRecord>, StoreError> {
        self.readers.with(|conn| scores::history(conn, subject))
    }

    fn latest_scores(&self) -> Result<Vec<ScoreRecord>, StoreError> {
        self.readers.with(scores::latest)
    }

    fn due_deliveries(
        &self,
        now: Millis,
        skip: &[String],
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        self.readers
            .with(|conn| outbox::due(conn, now, skip, limit))
    }

    fn record_attempts(&self, attempts: &[(String, AttemptOutcome)]) -> Result<(), StoreError> {
        self.with_writer(|conn| outbox::record_attempts(conn, attempts))
    }

    fn deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        self.readers.with(|conn| outbox::list(conn, filter, limit))
    }

    fn replay_dead(&self, ids: Option<&[String]>, now: Millis) -> Result<usize, StoreError> {
        self.with_writer(|conn| outbox::replay_dead(conn, ids, now))
    }

    fn outbox_depth(&self) -> Result<Vec<(String, u64, u64)>, StoreError> {
        self.readers.with(outbox::depth)
    }

    fn set_destination_disabled(
        &self,
        destination: &str,
        disabled: Option<(Millis, &str)>,
    ) -> Result<(), StoreError> {
        self.with_writer(|conn| outbox::set_disabled(conn, destination, disabled))
    }

    fn disabled_destinations(&self) -> Result<Vec<(String, Millis, String)>, StoreError> {
        self.readers.with(outbox::disabled)
    }

    fn assignments(&self) -> Result<RecordedAssignments, StoreError> {
        self.readers.with(outbox::assignments)
    }

    fn digests_sent(&self) -> Result<Vec<DigestSentRecord>, StoreError> {
        self.readers.with(outbox::digests_sent)
    }

    fn suppressions(&self) -> Result<Vec<Suppression>, StoreError> {
        self.readers.with(privacy::suppressions)
    }

    fn deletions(&self, limit: usize) -> Result<Vec<DeletionRecord>, StoreError> {
        self.readers.with(|conn| privacy::deletions(conn, limit))
    }
}
