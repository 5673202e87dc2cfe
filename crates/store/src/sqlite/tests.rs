//! SQLite-only guarantees the conformance suite cannot see through the trait.

use bellwether_core::store::Store;

use super::SqliteStore;

/// Inserts a bare `track` row numbered `seq` straight through `conn`.
fn insert_event(conn: &rusqlite::Connection, seq: i64) {
    conn.execute(
        "INSERT INTO events (seq, source, message_id, type, timestamp, received_at,
             properties, traits, context)
         VALUES (?1, 'web', 'm' || ?1, 'track', 0, 0, '{}', '{}', '{}')",
        [seq],
    )
    .unwrap();
}

#[test]
fn writer_is_durable_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let writer = store.writer.lock();
    let mode: String = writer
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    let synchronous: i64 = writer
        .query_row("PRAGMA synchronous", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(synchronous, 2, "synchronous=FULL");
}

#[test]
fn reads_proceed_while_a_write_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let writer = store.writer.lock();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO events (seq, source, message_id, type, timestamp, received_at,
                 properties, traits, context)
             VALUES (1, 'web', 'm1', 'track', 0, 0, '{}', '{}', '{}');",
        )
        .unwrap();
    // Same thread, writer locked and mid-transaction: a read that waited
    // for the writer would hang here.
    assert_eq!(
        store.event_count().unwrap(),
        0,
        "uncommitted rows are invisible"
    );
    writer.execute_batch("COMMIT").unwrap();
    drop(writer);
    assert_eq!(store.event_count().unwrap(), 1);
}

#[test]
fn the_database_file_lives_in_the_created_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a").join("b");
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.path(), data.join("bellwether.db"));
    assert!(store.path().exists());
}

#[test]
fn the_writer_truncates_a_wal_past_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let wal_size = || {
        let wal = dir.path().join("bellwether.db-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    let writer = store.writer.lock();
    let bound = super::checkpoint::WalBound::new(store.path(), 64 * 1024);
    for batch in 0..20 {
        writer
            .execute(
                "INSERT INTO events (seq, source, message_id, type, timestamp, received_at,
                     properties, traits, context)
                 VALUES (?1, 'web', ?2, 'track', 0, 0, ?3, '{}', '{}')",
                rusqlite::params![batch, format!("m{batch}"), "x".repeat(16_384)],
            )
            .unwrap();
    }
    assert!(wal_size() > 64 * 1024, "the WAL grew: {}", wal_size());
    bound.after_commit(&writer);
    assert_eq!(wal_size(), 0, "checkpointed and truncated");
    drop(writer);
    assert_eq!(store.event_count().unwrap(), 20, "nothing lost");
}

#[test]
fn the_writing_process_leaves_an_empty_wal_at_close() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("bellwether.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let writer = SqliteStore::open_as_writer(dir.path(), "test").unwrap();
    // A connection that outlives the store, as the checkpoint thread's
    // does: SQLite's own checkpoint at the last close never runs.
    let outliving = rusqlite::Connection::open(writer.path()).unwrap();
    let count_events = || -> i64 {
        outliving
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(count_events(), 0, "the connection has the WAL open");
    insert_event(&writer.writer.lock(), 1);
    assert!(wal_size() > 0, "the commit is in the WAL");
    drop(writer);
    assert_eq!(wal_size(), 0, "checkpointed and truncated at close");
    assert_eq!(count_events(), 1, "nothing lost");
}

/// Whether the `(definition, at)` index of membership changes exists.
fn has_definition_index(store: &SqliteStore) -> bool {
    store
        .writer
        .lock()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
             WHERE type = 'index' AND name = 'membership_changes_definition')",
            [],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn a_bulk_history_write_sets_the_definition_index_aside_and_the_next_writer_builds_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(has_definition_index(&store));
    store.begin_history_bulk_write().unwrap();
    assert!(!has_definition_index(&store));
    store.end_history_bulk_write().unwrap();
    assert!(has_definition_index(&store));
    // A first start that stopped half way: a reader's open leaves it
    // alone, the next writer builds it.
    store.begin_history_bulk_write().unwrap();
    drop(store);
    let reader = SqliteStore::open(dir.path()).unwrap();
    assert!(!has_definition_index(&reader));
    drop(reader);
    let store = SqliteStore::open_as_writer(dir.path(), "test").unwrap();
    assert!(has_definition_index(&store));
}

#[test]
fn releasing_the_write_cache_keeps_the_data_and_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    insert_event(&store.writer.lock(), 1);
    store.release_write_cache().unwrap();
    insert_event(&store.writer.lock(), 2);
    assert_eq!(
        store.event_count().unwrap(),
        2,
        "nothing lost, writes go on"
    );
}
