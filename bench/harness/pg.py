"""PostgreSQL (same host, its own schema in database `test`): COPY the
exported tables, ANALYZE, run the definitions as SQL."""

import time
from pathlib import Path

import psycopg

from . import sqlfiles

SCHEMA = {
    "contacts": "contact_id bigint PRIMARY KEY, label text NOT NULL, group_id text",
    "accounts": "group_id text PRIMARY KEY",
    "events": "seq bigint PRIMARY KEY, contact_id bigint NOT NULL, kind text NOT NULL, "
    "name text NOT NULL, ts bigint NOT NULL, properties jsonb NOT NULL, page jsonb",
    "contact_traits": "contact_id bigint NOT NULL, key text NOT NULL, set_at bigint NOT NULL, "
    "seq bigint NOT NULL, value jsonb NOT NULL",
    "account_traits": "group_id text NOT NULL, key text NOT NULL, set_at bigint NOT NULL, "
    "seq bigint NOT NULL, value jsonb NOT NULL",
}
INDEXES = [
    "CREATE INDEX ON events (contact_id, ts)",
    "CREATE INDEX ON contacts (group_id)",
]
# Session settings a user would set for analytical queries on this machine.
SETTINGS = ["SET work_mem = '256MB'", "SET jit = off"]


class Postgres:
    name = "PostgreSQL"

    def __init__(self, url: str, schema: str, sql_dir: Path):
        self.conn = psycopg.connect(url, autocommit=True)
        self.schema = schema
        self.files = sqlfiles.load(sql_dir)
        for setting in SETTINGS:
            self.conn.execute(setting)

    def version(self) -> str:
        row = self.conn.execute("SHOW server_version").fetchone()
        return "PostgreSQL " + row[0].split()[0]

    def load(self, csv_dir: Path) -> float:
        started = time.perf_counter()
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.conn.execute(f"CREATE SCHEMA {self.schema}")
        self.conn.execute(f"SET search_path = {self.schema}")
        for table, columns in SCHEMA.items():
            self.conn.execute(f"CREATE TABLE {table} ({columns})")
            with self.conn.cursor().copy(
                f"COPY {table} FROM STDIN WITH (FORMAT csv)"
            ) as copy, open(csv_dir / (table + ".csv"), "rb") as source:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        for index in INDEXES:
            self.conn.execute(index)
        self.conn.execute("ANALYZE")
        return time.perf_counter() - started

    def evaluate(self, at_ms: int, contacts: str = "true", accounts: str = "true"):
        results = {"scores": [], "segments": [], "tiers": []}
        for name, statements in self.files:
            for statement in statements:
                cursor = self.conn.execute(sqlfiles.bind(statement, at_ms, contacts, accounts))
            kind = sqlfiles.kind_of(name)
            if kind:
                results[kind].extend(cursor.fetchall())
        return results

    def drop(self):
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def close(self):
        self.conn.close()
