//! WAL checkpoints on a thread of their own. SQLite's automatic checkpoint
//! runs inside the commit that crosses the threshold, so that one commit
//! (and every acknowledgement waiting on it) also pays for copying pages
//! back and an extra fsync. Here the writer never checkpoints; this thread
//! runs a passive checkpoint (it never blocks the writer) once a
//! second, and stops when the store is dropped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints what the WAL gained.
const INTERVAL: Duration = Duration::from_millis(1_000);

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
