-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- collaborative_team (contact): count("Teammate Invited", within 7d of first("Signed Up")) >= 2
WITH signup AS (
    SELECT contact_id, min(ts) AS t FROM ev
    WHERE kind = 'track' AND name = 'Signed Up' GROUP BY contact_id
),
invites AS (
    SELECT s.contact_id FROM signup s
    JOIN ev e ON e.contact_id = s.contact_id AND e.kind = 'track' AND e.name = 'Teammate Invited'
         AND e.ts >= s.t AND e.ts <= s.t + 7 * 86400000::BIGINT
    GROUP BY s.contact_id HAVING count(*) >= 2
)
SELECT 'contact' AS kind, c.label AS id, 'collaborative_team' AS segment
FROM contacts c JOIN invites USING (contact_id);
