"""Runs one SQL statement in DuckDB over bellwether_events loaded from the
CSV that `bellwether export` writes; prints the result as CSV (the shape
`bellwether eval` writes). Used by the differential tests.

    python duckdb_run.py EVENTS.csv STATEMENT.sql
"""

import csv
import sys

import duckdb


def main():
    events, statement = sys.argv[1], sys.argv[2]
    db = duckdb.connect()
    db.execute("SET TimeZone = 'America/New_York'")  # results must not depend on it
    db.execute(
        """CREATE TABLE bellwether_events AS SELECT * FROM read_csv(?, header = true,
        allow_quoted_nulls = false,
        columns = {'contact_id': 'VARCHAR', 'account_id': 'VARCHAR', 'type': 'VARCHAR',
                   'event': 'VARCHAR', 'properties': 'VARCHAR', 'traits': 'VARCHAR',
                   'ts': 'TIMESTAMPTZ', 'seq': 'BIGINT'})""",
        [events],
    )
    with open(statement) as f:
        sql = f.read().rstrip().rstrip(";")
    cursor = db.execute(sql)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([d[0] for d in cursor.description])
    for row in cursor.fetchall():
        out.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row])


if __name__ == "__main__":
    main()
