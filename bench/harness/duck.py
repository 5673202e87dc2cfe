"""DuckDB (the Python package, in-process, in memory): load the exported
tables, run the definitions as SQL."""

import time
from pathlib import Path

import duckdb

from . import sqlfiles, stats

SCHEMA = {
    "contacts": {"contact_id": "BIGINT", "label": "VARCHAR", "group_id": "VARCHAR"},
    "accounts": {"group_id": "VARCHAR"},
    "events": {
        "seq": "BIGINT", "contact_id": "BIGINT", "kind": "VARCHAR", "name": "VARCHAR",
        "ts": "BIGINT", "properties": "JSON", "page": "JSON",
    },
    "contact_traits": {
        "contact_id": "BIGINT", "key": "VARCHAR", "set_at": "BIGINT", "seq": "BIGINT", "value": "JSON",
    },
    "account_traits": {
        "group_id": "VARCHAR", "key": "VARCHAR", "set_at": "BIGINT", "seq": "BIGINT", "value": "JSON",
    },
}


class Duck:
    name = "DuckDB"

    def __init__(self, sql_dir: Path):
        self.db = duckdb.connect(":memory:", config=stats.duckdb_config())
        self.files = sqlfiles.load(sql_dir)

    def version(self) -> str:
        return "DuckDB " + duckdb.__version__

    def load(self, csv_dir: Path) -> float:
        started = time.perf_counter()
        for table, columns in SCHEMA.items():
            spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
            self.db.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv("
                f"'{csv_dir / (table + '.csv')}', header = false, columns = {{{spec}}}, "
                "quote = '\"', escape = '\"', allow_quoted_nulls = false)"
            )
        return time.perf_counter() - started

    def evaluate(self, at_ms: int, contacts: str = "true", accounts: str = "true"):
        """{'scores'|'segments'|'tiers': [row, ...]} as of at_ms."""
        results = {"scores": [], "segments": [], "tiers": []}
        for name, statements in self.files:
            for statement in statements:
                cursor = self.db.execute(sqlfiles.bind(statement, at_ms, contacts, accounts))
            kind = sqlfiles.kind_of(name)
            if kind:
                results[kind].extend(cursor.fetchall())
        return results

    def add_event(self, seq: int, contact_id: int, name: str, ts: int):
        self.db.execute(
            "INSERT INTO events VALUES (?, ?, 'track', ?, ?, '{}', NULL)",
            [seq, contact_id, name, ts],
        )

    def close(self):
        self.db.close()
