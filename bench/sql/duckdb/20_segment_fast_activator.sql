-- fast_activator (contact): exists("Campaign Created", within 48h of first("Signed Up")):
-- a campaign in [t, t + 48h] (and at or before T), t = the first sign-up.
WITH signup AS (
    SELECT contact_id, min(ts) AS t FROM ev
    WHERE kind = 'track' AND name = 'Signed Up' GROUP BY contact_id
)
SELECT DISTINCT 'contact' AS kind, c.label AS id, 'fast_activator' AS segment
FROM contacts c JOIN signup s USING (contact_id)
JOIN ev e ON e.contact_id = s.contact_id AND e.kind = 'track' AND e.name = 'Campaign Created'
     AND e.ts >= s.t AND e.ts <= s.t + 48 * 3600000::BIGINT;
