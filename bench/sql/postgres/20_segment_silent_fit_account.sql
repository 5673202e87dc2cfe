-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- silent_fit_account (account): score("fit") >= 50 and exists(any)
-- and not exists(any, last 60d) (the account's events are those of all its
-- contacts; an account that never did anything is a new lead, not a silent one).
SELECT 'account' AS kind, f.group_id AS id, 'silent_fit_account' AS segment
FROM fit f
WHERE f.value >= 50
  AND EXISTS (SELECT 1 FROM ev e WHERE e.group_id = f.group_id)
  AND NOT EXISTS (SELECT 1 FROM ev e WHERE e.group_id = f.group_id
                  AND e.ts > {T} - 60 * 86400000::BIGINT);
