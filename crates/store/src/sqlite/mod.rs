//! The embedded default store: one SQLite file, `bellwether.db`, in the data
//! directory.
//!
//! WAL mode with `synchronous=FULL`, so a committed `apply` survives a
//! `kill -9` and a power loss. One writer connection applies batches (each
//! in one `IMMEDIATE` transaction); a small pool of `query_only` connections
//! answers reads, which WAL lets proceed while a write is open.

mod checkpoint;
mod enrichment;
mod history;
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
use std::path::{Path, PathBuf};
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;

use bellwether_core::message::{ContactId, Millis, Rejection, StoredEvent};
use bellwether_core::store::{
    AccountRecord, ContactRecord, EventParts, IdKind, IdentitySnapshot, MergeRecord, Store,
    StoreError, TraitChange, WriteOp,
};
use bellwether_core::subject::SubjectKey;

use crate::pool::Pool;

const FILE_NAME: &str = "bellwether.db";
const MAX_READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The SQLite [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    /// Held by the one process that writes (`open_as_writer`).
    _lock: Option<crate::lock::DirectoryLock>,
    writer: Mutex<Connection>,
    /// Keeps the WAL bounded when checkpoints fall behind the writer.
    wal: checkpoint::WalBound,
    readers: Pool<Connection>,
    _checkpointer: checkpoint::Checkpointer,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // The writing process leaves an empty WAL for the next start.
        if self._lock.is_some() {
            checkpoint::truncate_on_close(self.writer.get_mut());
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `bellwether.db` in `data_dir`, which is
    /// created too, and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_locked(data_dir, None)
    }

    /// For the one process that writes (`serve`, `import`): like
    /// [`open`](Self::open), but first takes the data directory's lock
    /// (`bellwether.lock`, recording `holder`); if another process holds
    /// it, fails at once with [`StoreError::Locked`] naming that process.
    pub fn open_as_writer(data_dir: &Path, holder: &str) -> Result<Self, StoreError> {
        let lock = crate::lock::lock_directory(data_dir, holder)?;
        Self::open_locked(data_dir, Some(lock))
    }

    fn open_locked(
        data_dir: &Path,
        lock: Option<crate::lock::DirectoryLock>,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Database(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(FILE_NAME);
        let mut writer = open_writer(&path)?;
        migrate::run(&mut writer)?;
        if lock.is_some() {
            // A first start that stopped while its history was written
            // left them set aside (only the writer builds them: another
            // process opening the store must not while a walk writes).
            writer.execute_batch(history::BUILD_INDEXES).db()?;
        }
        let reader_path = path.clone();
        let readers = Pool::new(
            MAX_READERS,
            Box::new(move || open_reader(&reader_path)),
            |_| false,
        );
        tracing::info!(path = %path.display(), "sqlite store open");
        Ok(Self {
            _checkpointer: checkpoint::Checkpointer::start(path.clone()),
            wal: checkpoint::WalBound::new(&path, checkpoint::WAL_LIMIT_BYTES),
            _lock: lock,
            path,
            writer: Mutex::new(writer),
            readers,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Versions recorded in `schema_migrations`, ascending.
    pub fn applied_migrations(&self) -> Result<Vec<u32>, StoreError> {
        self.readers.with(|conn| migrate::applied(conn))
    }
}

/// The writer's page cache, as SQLite's negative KiB.
const WRITER_CACHE_KIB: i64 = -65_536;

fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_connection(path)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .db()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!(
            "cannot enable WAL mode on {} (journal_mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL").db()?;
    // Recorded history lands in random key order in its indexes: with the
    // default 2 MB page cache, a first start's large transactions re-read
    // index pages from disk for most rows. Pages are cached as used.
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)
        .db()?;
    // Checkpoints run on their own thread (see `checkpoint`).
    conn.pragma_update(None, "wal_autocheckpoint", 0).db()?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_connection(path)?;
    conn.pragma_update(None, "query_only", true).db()?;
    Ok(conn)
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}

/// `rusqlite` errors as [`StoreError`]s (the orphan rule forbids a `From`).
pub(super) trait DbResult<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database(e.to_string()))
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn apply(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let mut writer = self.writer.lock();
        write::apply(&mut writer, ops)?;
        self.wal.after_commit(&writer);
        Ok(())
    }

    fn discard_unconfirmed_history(&self) -> Result<u64, StoreError> {
        write::discard_unconfirmed_history(&mut self.writer.lock())
    }

    fn begin_history_bulk_write(&self) -> Result<(), StoreError> {
        self.writer
            .lock()
            .execute_batch(history::SET_ASIDE_INDEXES)
            .db()
    }

    fn end_history_bulk_write(&self) -> Result<(), StoreError> {
        self.writer
            .lock()
            .execute_batch(history::BUILD_INDEXES)
            .db()
    }

    fn release_write_cache(&self) -> Result<(), StoreError> {
        // Frees every page of the writer's cache that is not in use (all of
        // them between transactions); the cache grows back as pages are
        // read again.
        self.writer
            .lock()
            .execute_batch("PRAGMA shrink_memory")
            .db()
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
        self.readers.with(|conn| read::load_identity(conn))
    }

    fn max_seq(&self) -> Result<i64, StoreError> {
        self.readers.with(|conn| read::max_seq(conn))
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
        self.scan_event_parts(after_seq, limit, &EventParts::default())
    }

    fn scan_event_parts(
        &self,
        after_seq: i64,
        limit: usize,
        parts: &EventParts<'_>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.readers
            .with(|conn| read::scan_events(conn, after_seq, limit, parts))
    }

    fn contact_trait_history(&self, contact: ContactId) -> Result<Vec<TraitChange>, StoreError> {
        self.readers
            .with(|conn| read::contact_trait_history(conn, contact))
    }

    fn account_trait_history(&self, group_id: &str) -> Result<Vec<TraitChange>, StoreError> {
        self.readers
            .with(|conn| read::account_trait_history(conn, group_id))
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
        self.readers.with(|conn| enrichment::enriched_traits(conn))
    }

    fn account_enrichments(
        &self,
    ) -> Result<Vec<bellwether_core::store::AccountEnrichmentRecord>, StoreError> {
        self.readers
            .with(|conn| enrichment::account_enrichments(conn))
    }

    fn enrichment_answers(
        &self,
    ) -> Result<Vec<bellwether_core::store::EnrichmentAnswerRecord>, StoreError> {
        self.readers
            .with(|conn| enrichment::enrichment_answers(conn))
    }

    fn events_through(&self, seq: i64) -> Result<u64, StoreError> {
        self.readers.with(|conn| read::events_through(conn, seq))
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        self.readers.with(|conn| read::event_count(conn))
    }

    fn latest_memberships(&self) -> Result<(Vec<MembershipRecord>, Option<Millis>), StoreError> {
        self.readers.with(|conn| read::latest_memberships(conn))
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
        self.readers.with(|conn| scores::latest(conn))
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
        outbox::record_attempts(&mut self.writer.lock(), attempts)
    }

    fn deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: usize,
    ) -> Result<Vec<(i64, Delivery)>, StoreError> {
        self.readers.with(|conn| outbox::list(conn, filter, limit))
    }

    fn replay_dead(&self, ids: Option<&[String]>, now: Millis) -> Result<usize, StoreError> {
        outbox::replay_dead(&mut self.writer.lock(), ids, now)
    }

    fn outbox_depth(&self) -> Result<Vec<(String, u64, u64)>, StoreError> {
        self.readers.with(|conn| outbox::depth(conn))
    }

    fn set_destination_disabled(
        &self,
        destination: &str,
        disabled: Option<(Millis, &str)>,
    ) -> Result<(), StoreError> {
        outbox::set_disabled(&mut self.writer.lock(), destination, disabled)
    }

    fn disabled_destinations(&self) -> Result<Vec<(String, Millis, String)>, StoreError> {
        self.readers.with(|conn| outbox::disabled(conn))
    }

    fn assignments(&self) -> Result<RecordedAssignments, StoreError> {
        self.readers.with(|conn| outbox::assignments(conn))
    }

    fn digests_sent(&self) -> Result<Vec<DigestSentRecord>, StoreError> {
        self.readers.with(|conn| outbox::digests_sent(conn))
    }

    fn suppressions(&self) -> Result<Vec<Suppression>, StoreError> {
        self.readers.with(|conn| privacy::suppressions(conn))
    }

    fn deletions(&self, limit: usize) -> Result<Vec<DeletionRecord>, StoreError> {
        self.readers.with(|conn| privacy::deletions(conn, limit))
    }
}

#[cfg(test)]
mod tests;
