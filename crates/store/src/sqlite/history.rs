//! Recorded history (membership changes and score forms) written many rows
//! per statement. A first start records a row for about every event of
//! the store, beside the walk that computes them: one statement run per
//! row cost twice the CPU of the same rows inserted in runs of
//! [`ROWS_PER_INSERT`], and that CPU is taken from the walk.

use std::sync::LazyLock;

use rusqlite::{Statement, ToSql, Transaction};

use bellwether_core::store::{MembershipRecord, ScoreRecord, StoreError, WriteOp};

use super::DbResult;

/// Rows per multi-row `INSERT` (10 parameters each, far below SQLite's
/// limit of 32,766).
pub(super) const ROWS_PER_INSERT: usize = 64;

static SCORES: LazyLock<String> = LazyLock::new(|| {
    insert_sql(
        "score_changes (at, subject_kind, subject_key, label, score, value, constant, decaying,
                        anchor, half_life)",
        10,
    )
});

static MEMBERSHIPS: LazyLock<String> = LazyLock::new(|| {
    insert_sql(
        "membership_changes
           (at, subject_kind, subject_key, label, change, definition_kind, definition, level)",
        8,
    )
});

/// `INSERT OR FAIL INTO {table} VALUES (?, …), …` for
/// [`ROWS_PER_INSERT`] rows. `OR FAIL` keeps the rows inserted before a
/// failing one instead of undoing them, so SQLite keeps no statement
/// journal (a page copy per page touched, to a temporary file); a failure
/// still fails `apply`, whose transaction is then rolled back whole.
fn insert_sql(table: &str, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    let rows = vec![row; ROWS_PER_INSERT].join(", ");
    format!("INSERT OR FAIL INTO {table} VALUES {rows}")
}

/// Inserts the first [`ROWS_PER_INSERT`] ops in one statement when they
/// are all score forms or all membership changes, and returns how many
/// it inserted: 0 when `ops` does not start with such a run (the caller
/// applies the next op alone). Rows keep their order, so their ids too.
pub(super) fn insert_run(tx: &Transaction<'_>, ops: &[WriteOp]) -> Result<usize, StoreError> {
    let Some(run) = ops.get(..ROWS_PER_INSERT) else {
        return Ok(0);
    };
    if run.iter().all(|op| matches!(op, WriteOp::Score(_))) {
        let mut statement = tx.prepare_cached(&SCORES).db()?;
        let mut bind = Binder::new(&mut statement);
        for record in run.iter().filter_map(score) {
            bind.value(&record.at)?;
            bind.value(&record.subject.kind().as_str())?;
            bind.value(&record.subject.store_key())?;
            bind.value(&record.label)?;
            bind.value(&record.score)?;
            bind.value(&record.value)?;
            bind.value(&record.constant)?;
            bind.value(&record.decaying)?;
            bind.value(&record.anchor)?;
            bind.value(&record.half_life)?;
        }
        statement.raw_execute().db()?;
        return Ok(ROWS_PER_INSERT);
    }
    if run.iter().all(|op| matches!(op, WriteOp::Membership(_))) {
        let mut statement = tx.prepare_cached(&MEMBERSHIPS).db()?;
        let mut bind = Binder::new(&mut statement);
        for record in run.iter().filter_map(membership) {
            bind.value(&record.at)?;
            bind.value(&record.subject.kind().as_str())?;
            bind.value(&record.subject.store_key())?;
            bind.value(&record.label)?;
            bind.value(&record.change.as_str())?;
            bind.value(&record.definition_kind.as_str())?;
            bind.value(&record.definition)?;
            bind.value(&record.level)?;
        }
        statement.raw_execute().db()?;
        return Ok(ROWS_PER_INSERT);
    }
    Ok(0)
}

fn score(op: &WriteOp) -> Option<&ScoreRecord> {
    match op {
        WriteOp::Score(record) => Some(record),
        _ => None,
    }
}

fn membership(op: &WriteOp) -> Option<&MembershipRecord> {
    match op {
        WriteOp::Membership(record) => Some(record),
        _ => None,
    }
}

/// Binds a statement's parameters in order.
struct Binder<'s, 'c> {
    statement: &'s mut Statement<'c>,
    next: usize,
}

impl<'s, 'c> Binder<'s, 'c> {
    fn new(statement: &'s mut Statement<'c>) -> Self {
        Self { statement, next: 1 }
    }

    fn value(&mut self, value: &dyn ToSql) -> Result<(), StoreError> {
        self.statement.raw_bind_parameter(self.next, value).db()?;
        self.next += 1;
        Ok(())
    }
}
