-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- buying_committee_active (account): count(contacts where score("intent") >= 50) >= 3
SELECT 'account' AS kind, group_id AS id, 'buying_committee_active' AS segment
FROM intent
WHERE group_id IS NOT NULL AND value >= 50 AND {ACCOUNTS}
GROUP BY group_id HAVING count(*) >= 3;
