-- power_user (contact): active_days(last 30d) >= 20 (distinct UTC dates
-- with any behavior event) and distinct("Feature Used", feature, last 30d) >= 5
-- (distinct non-missing values).
WITH recent AS (
    SELECT * FROM ev WHERE ts > {T} - 30 * 86400000::BIGINT
),
active AS (
    SELECT contact_id FROM recent GROUP BY contact_id
    HAVING count(DISTINCT floor(ts / 86400000)) >= 20
),
features AS (
    SELECT contact_id FROM recent
    WHERE kind = 'track' AND name = 'Feature Used' AND feature IS NOT NULL
    GROUP BY contact_id HAVING count(DISTINCT CAST(feature AS VARCHAR)) >= 5
)
SELECT 'contact' AS kind, c.label AS id, 'power_user' AS segment
FROM contacts c JOIN active USING (contact_id) JOIN features USING (contact_id);
