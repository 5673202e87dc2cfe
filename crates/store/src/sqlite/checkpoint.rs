//! WAL checkpoints on a thread of their own. SQLite's automatic checkpoint
//! runs inside the commit that crosses the threshold, so that one commit
//! (and every acknowledgement waiting on it) also pays for copying pages
//! back and an extra fsync. Here the writer does not checkpoint while the
//! WAL stays small; this thread runs a passive checkpoint (it never blocks
//! the writer) once a second, and stops when the store is dropped.
//!
//! A passive checkpoint never empties a WAL the writer keeps appending to
//! faster than it is copied back (a first start writing tens of millions
//! of history rows in back-to-back transactions): the WAL is only rewound
//! once everything in it is checkpointed, so it grew without bound (26 GB
//! at 30M events, until the disk was full). [`WalBound`] is the writer's
//! own backstop: past [`WAL_LIMIT_BYTES`], it checkpoints and truncates
//! the WAL itself after its commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints what the WAL gained.
const INTERVAL: Duration = Duration::from_millis(1_000);

/// The WAL size past which the writer checkpoints itself.
pub(super) const WAL_LIMIT_BYTES: u64 = 1 << 30;

/// The writer's bound on the WAL file (see the module comment).
pub(super) struct WalBound {
    wal: PathBuf,
    limit: u64,
}

impl WalBound {
    pub(super) fn new(database: &Path, limit: u64) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: PathBuf::from(wal),
            limit,
        }
    }

    /// After a commit on `writer`: when the WAL has grown past the limit,
    /// copies it back and truncates it (waiting up to the busy timeout for
    /// readers of old pages; if they outlast it, the next commit tries
    /// again). Costs one `stat` otherwise.
    pub(super) fn after_commit(&self, writer: &Connection) {
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size <= self.limit {
            return;
        }
        let result = writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        });
        match result {
            Ok(0) => tracing::info!(
                wal_bytes = size,
                "WAL checkpointed and truncated by the writer"
            ),
            Ok(_) => tracing::debug!(
                wal_bytes = size,
                "WAL not truncated: readers hold old pages"
            ),
            Err(error) => tracing::warn!(%error, "checkpoint failed"),
        }
    }
}

/// How long the closing writer waits for another process's readers.
const CLOSING_WAIT: Duration = Duration::from_millis(500);

/// Copies the WAL back and empties it as the writing process closes the
/// store. SQLite does this itself at the last connection's close, but the
/// checkpoint thread's connection outlives the store: without it, the
/// next start recovered the whole WAL (270 MB after importing 1M
/// messages), read through it, and copied it back while it walked the
/// history.
pub(super) fn truncate_on_close(writer: &Connection) {
    if let Err(error) = writer.busy_timeout(CLOSING_WAIT) {
        tracing::warn!(%error, "cannot set the closing busy timeout");
    }
    match writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(0) => tracing::debug!("WAL checkpointed and truncated at close"),
        Ok(_) => tracing::info!("WAL left for the next start: readers hold old pages"),
        Err(error) => tracing::warn!(%error, "checkpoint at close failed"),
    }
}

pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    pub(super) fn start(path: PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("bellwether-checkpoint".into())
            .spawn(move || run(&path, &stopping));
        if let Err(error) = spawned {
            tracing::warn!(%error, "no checkpoint thread; the WAL grows until the next start");
        }
        Self { stop }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(path: &PathBuf, stop: &AtomicBool) {
    let conn = match Connection::open(path) {
        Ok(conn) => conn,
        Err(error) => {
            tracing::warn!(%error, "checkpoint thread cannot open the database");
            return;
        }
    };
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(INTERVAL);
        // (busy, pages in the WAL, pages checkpointed)
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match result {
            Ok((wal, done)) if done < wal => {
                tracing::debug!(wal, done, "checkpoint behind: readers hold old pages");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "checkpoint failed"),
        }
    }
}
