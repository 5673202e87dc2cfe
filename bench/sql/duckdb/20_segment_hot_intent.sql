-- hot_intent (contact): count(page where path = "/pricing", last 7d) >= 2
-- and each(last 3 "Email Sent" followed_by "Email Opened" on email_id):
-- each of the latest 3 sends has a later open (timeline order: time, then
-- seq) with the same email_id; a send without email_id has no match.
WITH pricing AS (
    SELECT contact_id FROM ev
    WHERE kind = 'page' AND path = '/pricing' AND ts > {T} - 7 * 86400000::BIGINT
    GROUP BY contact_id HAVING count(*) >= 2
),
sends AS (
    SELECT contact_id, ts, seq, email_id FROM ev
    WHERE kind = 'track' AND name = 'Email Sent'
    QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY ts DESC, seq DESC) <= 3
),
opened AS (
    SELECT s.contact_id, s.seq,
           bool_or(o.seq IS NOT NULL) AS has_open
    FROM sends s
    LEFT JOIN ev o ON o.contact_id = s.contact_id AND o.kind = 'track'
         AND o.name = 'Email Opened' AND o.email_id = s.email_id
         AND (o.ts > s.ts OR (o.ts = s.ts AND o.seq > s.seq))
    GROUP BY s.contact_id, s.seq
),
followed AS (
    SELECT contact_id FROM opened GROUP BY contact_id
    HAVING count(*) = 3 AND bool_and(has_open)
)
SELECT 'contact' AS kind, c.label AS id, 'hot_intent' AS segment
FROM contacts c JOIN pricing USING (contact_id) JOIN followed USING (contact_id);
