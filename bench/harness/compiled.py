"""The definitions compiled by `bellwether sql` (one statement per output:
memberships, scores, tiers), run over the `bellwether_events` table that
`bellwether export` writes, in DuckDB, PostgreSQL and ClickHouse (chDB,
ClickHouse in process). The hand-written SQL in bench/sql stays beside it
as an independent check of both."""

import time
from pathlib import Path

from . import stats

COLUMNS = [
    ("contact_id", "VARCHAR", "text", "Nullable(String)"),
    ("account_id", "VARCHAR", "text", "Nullable(String)"),
    ("type", "VARCHAR", "text", "String"),
    ("event", "VARCHAR", "text", "Nullable(String)"),
    ("properties", "VARCHAR", "text", "String"),
    ("traits", "VARCHAR", "text", "String"),
    ("ts", "TIMESTAMPTZ", "timestamptz", "DateTime64(3, 'UTC')"),
    ("seq", "BIGINT", "bigint", "Int64"),
]
OUTPUTS = {"segments": [], "scores": ["--scores"], "tiers": ["--tiers"]}


def statements(bw, dialect: str, at: str):
    """{'segments'|'scores'|'tiers': SQL text} from `bellwether sql`."""
    return {
        kind: bw.run("sql", "--config", bw.config, "--dialect", dialect, "--at", at, "--seq",
                     *flags).stdout.rstrip().rstrip(";")
        for kind, flags in OUTPUTS.items()
    }


class CompiledDuck:
    name = "DuckDB (compiled)"

    def __init__(self, bw, at: str):
        import duckdb

        self.db = duckdb.connect(":memory:", config=stats.duckdb_config())
        self.sql = statements(bw, "duckdb", at)

    def load(self, events_csv: Path) -> float:
        started = time.perf_counter()
        spec = ", ".join(f"'{name}': '{duck}'" for name, duck, _, _ in COLUMNS)
        self.db.execute(
            f"CREATE OR REPLACE TABLE bellwether_events AS SELECT * FROM read_csv("
            f"'{events_csv}', header = true, allow_quoted_nulls = false, columns = {{{spec}}})"
        )
        return time.perf_counter() - started

    def evaluate(self, _at_ms=None):
        return {kind: self.db.execute(sql).fetchall() for kind, sql in self.sql.items()}


class CompiledPostgres:
    name = "PostgreSQL (compiled)"

    def __init__(self, bw, at: str, url: str, schema: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.schema = schema
        self.sql = statements(bw, "postgres", at)
        for setting in ("SET work_mem = '256MB'", "SET jit = off"):
            self.conn.execute(setting)

    def load(self, events_csv: Path) -> float:
        started = time.perf_counter()
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.conn.execute(f"CREATE SCHEMA {self.schema}")
        self.conn.execute(f"SET search_path = {self.schema}")
        columns = ", ".join(f"{name} {pg}" for name, _, pg, _ in COLUMNS)
        self.conn.execute(f"CREATE TABLE bellwether_events ({columns})")
        with self.conn.cursor().copy(
            "COPY bellwether_events FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy, open(events_csv, "rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        self.conn.execute("ANALYZE")
        return time.perf_counter() - started

    def evaluate(self, _at_ms=None):
        return {kind: self.conn.execute(sql).fetchall() for kind, sql in self.sql.items()}

    def drop(self):
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.conn.close()


class CompiledClickHouse:
    name = "ClickHouse (compiled)"

    def __init__(self, bw, at: str):
        from chdb import session

        self.db = session.Session()
        self.sql = statements(bw, "clickhouse", at)

    def version(self) -> str:
        return "ClickHouse " + self.db.query("SELECT version()", "CSV").bytes().decode().strip().strip('"')

    def load(self, events_csv: Path) -> float:
        started = time.perf_counter()
        columns = ", ".join(f"{name} {ch}" for name, _, _, ch in COLUMNS)
        self.db.query("DROP TABLE IF EXISTS bellwether_events")
        self.db.query(f"CREATE TABLE bellwether_events ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        quoted = columns.replace("'", "\\'")
        self.db.query(
            f"INSERT INTO bellwether_events SELECT * FROM file('{events_csv}', CSVWithNames, '{quoted}')"
        )
        return time.perf_counter() - started

    def evaluate(self, _at_ms=None):
        out = {}
        for kind, sql in self.sql.items():
            text = self.db.query(sql, "TSV").bytes().decode()
            out[kind] = [tuple(line.split("\t")) for line in text.splitlines() if line]
        return out
