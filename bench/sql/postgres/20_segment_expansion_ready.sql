-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- expansion_ready (account): trait.seats >= 3 * past(trait.seats, 60d);
-- false when either value is missing or not a number.
SELECT 'account' AS kind, f.group_id AS id, 'expansion_ready' AS segment
FROM account_facts f JOIN account_seats_60d_ago p USING (group_id)
WHERE jsonb_typeof(p.value) = 'number'
  AND f.seats >= 3 * (p.value #>> '{}')::float8;
