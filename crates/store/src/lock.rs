//! One writer per store (SPEC section 7, "One writer"): `serve` and
//! `import` take an exclusive lock before they open a store, and a second
//! one exits at once naming the holder.
//!
//! SQLite: `flock` on `bellwether.lock` in the data directory, which holds
//! the holder's description; the kernel releases it when the process dies,
//! even by `kill -9`. PostgreSQL: a session-level advisory lock held by the
//! writer connection (see `postgres::lock`), released when that session
//! ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use bellwether_core::store::StoreError;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "bellwether.lock";

/// Holds a data directory's writer lock until dropped.
#[derive(Debug)]
pub(crate) struct DirectoryLock {
    _file: File,
}

/// Takes the writer lock of `data_dir` (created if missing), recording
/// `holder` in the lock file, or says who holds it.
pub(crate) fn lock_directory(data_dir: &Path, holder: &str) -> Result<DirectoryLock, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        StoreError::Database(format!(
            "cannot create data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let path = data_dir.join(LOCK_FILE);
    let cannot =
        |e: std::io::Error| StoreError::Database(format!("cannot lock {}: {e}", path.display()));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(cannot)?;
            file.seek(SeekFrom::Start(0)).map_err(cannot)?;
            file.write_all(format!("{holder}\n").as_bytes())
                .map_err(cannot)?;
            Ok(DirectoryLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => {
            let mut recorded = String::new();
            let _ = file.read_to_string(&mut recorded);
            let recorded = recorded.trim();
            Err(StoreError::Locked {
                store: format!("the data directory {}", data_dir.display()),
                holder: if recorded.is_empty() {
                    "another process (still starting)".to_owned()
                } else {
                    recorded.to_owned()
                },
            })
        }
        Err(TryLockError::Error(error)) => Err(cannot(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_directory(dir.path(), "bellwether serve, pid 1 on a").unwrap();
        let error = lock_directory(dir.path(), "bellwether import, pid 2 on b").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("bellwether serve, pid 1 on a"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        drop(first);
        let _second = lock_directory(dir.path(), "bellwether import, pid 2 on b").unwrap();
        let recorded = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(recorded.trim(), "bellwether import, pid 2 on b");
    }
}
