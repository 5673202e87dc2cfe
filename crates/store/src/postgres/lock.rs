//! The PostgreSQL writer lock: a session-level advisory lock taken by the
//! writer connection, keyed by the schema, so two servers on one database
//! and schema cannot both write. The lock lives as long as the session; a
//! writer that reconnects takes it again or fails its commits.

use std::time::{Duration, Instant};

use bellwether_core::store::StoreError;

use super::conn::{get, PgConn};

/// The advisory lock key of a schema (`None`: the URL's default), a 64-bit
/// FNV-1a hash, stable across versions and processes.
pub(super) fn lock_key(schema: Option<&str>) -> i64 {
    let text = format!("bellwether-writer:{}", schema.unwrap_or(""));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// How long a lock held by another session is retried: a writer killed a
/// moment ago leaves a session that PostgreSQL ends once it notices the
/// closed connection, usually within milliseconds.
const GRACE: Duration = Duration::from_secs(2);

/// Takes the writer lock on `conn`, or names the session holding it.
pub(super) fn take(conn: &mut PgConn, schema: Option<&str>) -> Result<(), StoreError> {
    let key = lock_key(schema);
    let deadline = Instant::now() + GRACE;
    loop {
        let taken: bool = conn.session(|session| {
            let row = session.query_one("SELECT pg_try_advisory_lock($1)", &[&key])?;
            get(&row, 0)
        })?;
        if taken {
            return Ok(());
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // A bigint advisory key shows in pg_locks as classid (high half),
    // objid (low half), objsubid 1.
    let high = (key >> 32) & 0xffff_ffff;
    let low = key & 0xffff_ffff;
    let holder = conn.session(|session| {
        session.query_opt(
            "SELECT a.application_name || ' (postgresql pid ' || a.pid || ', connected from ' \
                    || coalesce(host(a.client_addr), 'a local socket') || ' since ' \
                    || to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ')' \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[&high, &low],
        )
    })?;
    let holder = match holder {
        Some(row) => get::<String>(&row, 0)?,
        None => "another session (gone since)".to_owned(),
    };
    Err(StoreError::Locked {
        store: match schema {
            Some(schema) => format!("the postgresql schema {schema:?}"),
            None => "the postgresql database".to_owned(),
        },
        holder,
    })
}
