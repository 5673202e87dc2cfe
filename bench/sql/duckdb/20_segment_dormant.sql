-- dormant (contact): days_since(any) >= 90 (never seen: infinitely many days).
WITH latest AS (SELECT contact_id, max(ts) AS ts FROM ev GROUP BY contact_id)
SELECT 'contact' AS kind, c.label AS id, 'dormant' AS segment
FROM contacts c LEFT JOIN latest l USING (contact_id)
WHERE {CONTACTS} AND (l.ts IS NULL OR {T} - l.ts >= 90 * 86400000::BIGINT);
