"""Exports Bellwether's SQLite store as the peers' input tables (CSV).

Identity resolution is ingestion, not evaluation: the peers get every stored
behavior event with the live contact it resolved to (merges applied), each
contact's label (its first user id, else its first anonymous id) and
account, and the trait history written by identify and group calls, one row
per key. That is exactly what `bellwether eval` loads from the store.
"""

import csv
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

LIVE = "SELECT id FROM contacts WHERE merged_into IS NULL"

# The JSON text of a json_each() value (strings come back unquoted).
JSON_VALUE = """CASE j.type WHEN 'text' THEN json_quote(j.value) WHEN 'null' THEN 'null'
    WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE j.value END"""

QUERIES = {
    "contacts": f"""
        SELECT l.id,
               coalesce((SELECT value FROM identities WHERE contact = l.id AND kind = 'user'
                         ORDER BY first_seen, value LIMIT 1),
                        (SELECT value FROM identities WHERE contact = l.id AND kind = 'anonymous'
                         ORDER BY first_seen, value LIMIT 1),
                        ''),
               a.group_id
        FROM ({LIVE}) l
        LEFT JOIN contact_accounts a ON a.contact = l.id
        ORDER BY l.id""",
    "accounts": f"""
        SELECT group_id FROM accounts
        UNION SELECT a.group_id FROM contact_accounts a WHERE a.contact IN ({LIVE})
        UNION SELECT group_id FROM events
              WHERE type = 'group' AND group_id IS NOT NULL AND traits != '{{}}'""",
    "events": f"""
        SELECT seq, contact_id, type, coalesce(event, ''), timestamp, properties,
               CASE WHEN type = 'page' THEN json_extract(context, '$.page') END
        FROM events
        WHERE type IN ('track', 'page', 'screen') AND contact_id IN ({LIVE})
        ORDER BY seq""",
    "contact_traits": f"""
        SELECT e.contact_id, j.key, e.timestamp, e.seq, {JSON_VALUE}
        FROM events e, json_each(e.traits) j
        WHERE e.type = 'identify' AND e.contact_id IN ({LIVE})""",
    "account_traits": f"""
        SELECT e.group_id, j.key, e.timestamp, e.seq, {JSON_VALUE}
        FROM events e, json_each(e.traits) j
        WHERE e.type = 'group' AND e.group_id IS NOT NULL""",
}

TABLES = list(QUERIES)


def export(store_db: Path, out_dir: Path, using: str = "auto") -> float:
    """Writes one CSV per table into out_dir; returns the seconds it took.
    `auto` uses the sqlite3 shell when installed (faster), else Python's
    module (`shell`, `module`: that one)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if using == "shell" or (using == "auto" and shutil.which("sqlite3")):
        export_with_shell(store_db, out_dir)
    else:
        export_with_module(store_db, out_dir)
    return time.perf_counter() - started


def export_with_module(store_db: Path, out_dir: Path):
    db = sqlite3.connect(f"file:{store_db}?mode=ro", uri=True)
    try:
        for table, query in QUERIES.items():
            with open(out_dir / (table + ".csv"), "w", newline="") as f:
                # As the shell writes CSV: NULL empty and unquoted, text quoted.
                for row in db.execute(query):
                    f.write(",".join(csv_field(v) for v in row) + "\n")
    finally:
        db.close()


def csv_field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


def export_with_shell(store_db: Path, out_dir: Path):
    script = [".mode csv", ".headers off"]
    for table, query in QUERIES.items():
        script.append(f".output {out_dir / (table + '.csv')}")
        script.append(" ".join(query.split()) + ";")
    subprocess.run(
        ["sqlite3", "-readonly", str(store_db)],
        input="\n".join(script) + "\n",
        text=True,
        check=True,
    )
