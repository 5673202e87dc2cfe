"""Runs SQL statements in DuckDB or ClickHouse (chDB: ClickHouse in
process) over bellwether_events loaded from the CSV (or, in DuckDB, the Parquet
file) that `bellwether export` writes, and writes each result as CSV with a header. Used by the
differential tests (PostgreSQL is driven from Rust).

    python run_sql.py duckdb|clickhouse EVENTS.csv STATEMENT.sql OUT.csv [STATEMENT.sql OUT.csv ...]

The session time zone is set away from UTC: results must not depend on it.
"""

import csv
import sys

COLUMNS = [
    ("contact_id", "VARCHAR", "Nullable(String)"),
    ("account_id", "VARCHAR", "Nullable(String)"),
    ("type", "VARCHAR", "String"),
    ("event", "VARCHAR", "Nullable(String)"),
    ("properties", "VARCHAR", "String"),
    ("traits", "VARCHAR", "String"),
    ("ts", "TIMESTAMPTZ", "DateTime64(3, 'UTC')"),
    ("seq", "BIGINT", "Int64"),
]


def statement(path):
    with open(path) as f:
        return f.read().rstrip().rstrip(";")


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        for row in rows:
            out.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row])


def duckdb_run(events, jobs):
    import duckdb

    db = duckdb.connect()
    db.execute("SET TimeZone = 'America/New_York'")
    columns = ", ".join(f"'{name}': '{duck}'" for name, duck, _ in COLUMNS)
    if events.endswith(".parquet"):
        db.execute("CREATE TABLE bellwether_events AS SELECT * FROM read_parquet(?)", [events])
    else:
        db.execute(
            f"CREATE TABLE bellwether_events AS SELECT * FROM read_csv(?, header = true, "
            f"allow_quoted_nulls = false, columns = {{{columns}}})",
            [events],
        )
    for sql, out in jobs:
        cursor = db.execute(statement(sql))
        write(out, [d[0] for d in cursor.description], cursor.fetchall())


def clickhouse_run(events, jobs):
    from chdb import session

    db = session.Session()
    db.query("SET session_timezone = 'Asia/Tokyo'")
    columns = ", ".join(f"{name} {ch}" for name, _, ch in COLUMNS)
    db.query(f"CREATE TABLE bellwether_events ({columns}) ENGINE = Memory")
    db.query(
        f"INSERT INTO bellwether_events SELECT * FROM file('{events}', CSVWithNames, "
        f"'{columns.replace(chr(39), chr(92) + chr(39))}')"
    )
    for sql, out in jobs:
        result = db.query(statement(sql), "CSVWithNames")
        with open(out, "wb") as f:
            f.write(result.bytes())


def main():
    engine, events, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    jobs = list(zip(rest[0::2], rest[1::2]))
    {"duckdb": duckdb_run, "clickhouse": clickhouse_run}[engine](events, jobs)


if __name__ == "__main__":
    main()
