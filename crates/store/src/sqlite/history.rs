//! Recorded history (membership changes, score forms and a first start's
//! owner assignments) written many rows per statement. A first start records a row for about every event of
//! the store, beside the walk that computes them; runs of
//! [`ROWS_PER_INSERT`] rows per statement took a fifth less of the CPU the
//! walk shares with them (1M events: 3.0–3.2 s → 2.4–2.5 s).

use std::sync::LazyLock;

use rusqlite::{Statement, ToSql, Transaction};

use bellwether_core::message::Millis;
use bellwether_core::store::{
    BackfilledAssignment, MembershipRecord, ScoreRecord, ScoreRun, StoreError, WriteOp,
};
use bellwether_core::subject::SubjectKey;

use super::DbResult;
use crate::codec;

/// Indexes of recorded history a first start sets aside while it writes:
/// `(definition, at)` takes each membership change at its instant, at a
/// random place for every subject walked, so each transaction rewrote
/// most of its pages (10M events: 1.8M rows, 46 s of inserts with it
/// against 33 s without it plus 2.3 s to build it after).
pub(super) const SET_ASIDE_INDEXES: &str = "DROP INDEX IF EXISTS membership_changes_definition";

/// Builds what [`SET_ASIDE_INDEXES`] dropped (as migration 0002 made it);
/// nothing when it is there.
pub(super) const BUILD_INDEXES: &str = "CREATE INDEX IF NOT EXISTS membership_changes_definition \
     ON membership_changes (definition, at)";

/// Rows per multi-row `INSERT` (10 parameters each, far below SQLite's
/// limit of 32,766).
pub(super) const ROWS_PER_INSERT: usize = 64;

/// A history row: its table's multi-row insert and its parameters.
trait Row {
    /// `INSERT … VALUES` for [`ROWS_PER_INSERT`] rows ([`insert_sql`]).
    fn statement() -> &'static str;
    /// The row held by `op`, if it is one of this kind.
    fn of(op: &WriteOp) -> Option<&Self>;
    /// Binds the row's values, in the statement's column order.
    fn bind(&self, bind: &mut Binder<'_, '_>) -> Result<(), StoreError>;
}

impl Row for ScoreRecord {
    fn statement() -> &'static str {
        static SQL: LazyLock<String> =
            LazyLock::new(|| insert_sql("score_changes", super::scores::COLUMNS, 10));
        &SQL
    }

    fn of(op: &WriteOp) -> Option<&Self> {
        match op {
            WriteOp::Score(record) => Some(record),
            _ => None,
        }
    }

    fn bind(&self, bind: &mut Binder<'_, '_>) -> Result<(), StoreError> {
        bind.subject(self.at, &self.subject, &self.label)?;
        bind.value(&self.score)?;
        bind.value(&self.value)?;
        bind.value(&self.constant)?;
        bind.value(&self.decaying)?;
        bind.value(&self.anchor)?;
        bind.value(&self.half_life)
    }
}

impl Row for ScoreRun {
    fn statement() -> &'static str {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let columns = format!("{}, earlier", super::scores::COLUMNS);
            insert_sql("score_changes", &columns, 11)
        });
        &SQL
    }

    fn of(op: &WriteOp) -> Option<&Self> {
        match op {
            WriteOp::ScoreRun(run) => Some(run),
            _ => None,
        }
    }

    fn bind(&self, bind: &mut Binder<'_, '_>) -> Result<(), StoreError> {
        self.last().bind(bind)?;
        bind.value(&codec::score_forms::pack(self))
    }
}

impl Row for MembershipRecord {
    fn statement() -> &'static str {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            insert_sql(
                "membership_changes",
                "at, subject_kind, subject_key, label, change, definition_kind, definition, level",
                8,
            )
        });
        &SQL
    }

    fn of(op: &WriteOp) -> Option<&Self> {
        match op {
            WriteOp::Membership(record) => Some(record),
            _ => None,
        }
    }

    fn bind(&self, bind: &mut Binder<'_, '_>) -> Result<(), StoreError> {
        bind.subject(self.at, &self.subject, &self.label)?;
        bind.value(&self.change.as_str())?;
        bind.value(&self.definition_kind.as_str())?;
        bind.value(&self.definition)?;
        bind.value(&self.level)
    }
}

impl Row for BackfilledAssignment {
    fn statement() -> &'static str {
        static SQL: LazyLock<String> =
            LazyLock::new(|| insert_sql("assignments", super::outbox::ASSIGNMENT_COLUMNS, 9));
        &SQL
    }

    fn of(op: &WriteOp) -> Option<&Self> {
        match op {
            WriteOp::BackfilledAssignment(record) => Some(record),
            _ => None,
        }
    }

    fn bind(&self, bind: &mut Binder<'_, '_>) -> Result<(), StoreError> {
        let assignment = &self.assignment;
        bind.value(&assignment.segment)?;
        bind.value(&assignment.subject.kind().as_str())?;
        bind.value(&assignment.subject.store_key())?;
        bind.value(&assignment.label)?;
        bind.value(&assignment.owner)?;
        bind.value(&assignment.pool)?;
        bind.value(&assignment.round_robin)?;
        bind.value(&assignment.at)?;
        bind.value(&self.ended_at)
    }
}

/// `INSERT OR FAIL INTO {table} ({columns}) VALUES (?, …), …` for
/// [`ROWS_PER_INSERT`] rows. `OR FAIL` keeps the rows inserted before a
/// failing one instead of undoing them, so SQLite keeps no statement
/// journal (a page copy per page touched, to a temporary file); a failure
/// still fails `apply`, whose transaction is then rolled back whole.
fn insert_sql(table: &str, columns: &str, count: usize) -> String {
    let row = format!("({})", vec!["?"; count].join(", "));
    let rows = vec![row; ROWS_PER_INSERT].join(", ");
    format!("INSERT OR FAIL INTO {table} ({columns}) VALUES {rows}")
}

/// Inserts the first [`ROWS_PER_INSERT`] ops in one statement when they
/// are all of one kind of history row, and returns how many
/// it inserted: 0 when `ops` does not start with such a run (the caller
/// applies the next op alone). Rows keep their order, so their ids too.
pub(super) fn insert_run(tx: &Transaction<'_>, ops: &[WriteOp]) -> Result<usize, StoreError> {
    let Some(run) = ops.get(..ROWS_PER_INSERT) else {
        return Ok(0);
    };
    if insert_all::<ScoreRun>(tx, run)?
        || insert_all::<ScoreRecord>(tx, run)?
        || insert_all::<MembershipRecord>(tx, run)?
        || insert_all::<BackfilledAssignment>(tx, run)?
    {
        return Ok(ROWS_PER_INSERT);
    }
    Ok(0)
}

/// Inserts `run` in one statement if every op in it is an `R` (checked
/// first: a live commit mixes kinds, and most attempts stop early).
fn insert_all<R: Row>(tx: &Transaction<'_>, run: &[WriteOp]) -> Result<bool, StoreError> {
    if !run.iter().all(|op| R::of(op).is_some()) {
        return Ok(false);
    }
    let mut statement = tx.prepare_cached(R::statement()).db()?;
    let mut bind = Binder {
        statement: &mut statement,
        next: 1,
    };
    for row in run.iter().filter_map(R::of) {
        row.bind(&mut bind)?;
    }
    statement.raw_execute().db()?;
    Ok(true)
}

/// Binds a statement's parameters in order.
struct Binder<'s, 'c> {
    statement: &'s mut Statement<'c>,
    next: usize,
}

impl Binder<'_, '_> {
    fn value(&mut self, value: &dyn ToSql) -> Result<(), StoreError> {
        self.statement.raw_bind_parameter(self.next, value).db()?;
        self.next += 1;
        Ok(())
    }

    /// The columns every history row starts with: `at, subject_kind,
    /// subject_key, label`.
    fn subject(&mut self, at: Millis, subject: &SubjectKey, label: &str) -> Result<(), StoreError> {
        self.value(&at)?;
        self.value(&subject.kind().as_str())?;
        self.value(&subject.store_key())?;
        self.value(&label)
    }
}
