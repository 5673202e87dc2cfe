-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- churn_risk (account): count("Logged In", between 60d and 30d ago) >= 4 and
-- count("Logged In", last 30d) <= 0.5 * count("Logged In", between 60d and 30d ago)
-- with between 60d and 30d ago = (T-60d, T-30d] and last 30d = (T-30d, T].
WITH logins AS (
    SELECT group_id,
           count(*) FILTER (WHERE ts > {T} - 60 * 86400000::BIGINT AND ts <= {T} - 30 * 86400000::BIGINT) AS before,
           count(*) FILTER (WHERE ts > {T} - 30 * 86400000::BIGINT) AS recent
    FROM ev
    WHERE kind = 'track' AND name = 'Logged In' AND group_id IS NOT NULL
    GROUP BY group_id
)
SELECT 'account' AS kind, group_id AS id, 'churn_risk' AS segment
FROM logins
WHERE before >= 4 AND recent <= 0.5 * before;
