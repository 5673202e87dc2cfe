-- dormant (contact): exists(any) and days_since(any) >= 90 (a contact never
-- seen is a new lead, not a dormant one).
WITH latest AS (SELECT contact_id, max(ts) AS ts FROM ev GROUP BY contact_id)
SELECT 'contact' AS kind, c.label AS id, 'dormant' AS segment
FROM contacts c JOIN latest l USING (contact_id)
WHERE {CONTACTS} AND {T} - l.ts >= 90 * 86400000::BIGINT;
