-- activated_trial (contact): count("Feature Used" where feature in
-- ["campaigns", "automations", "reports"]) >= 3 and not exists("Plan Upgraded")
WITH core AS (
    SELECT contact_id FROM ev
    WHERE kind = 'track' AND name = 'Feature Used'
      AND json_type(feature) = 'VARCHAR'
      AND feature ->> '$' IN ('campaigns', 'automations', 'reports')
    GROUP BY contact_id HAVING count(*) >= 3
)
SELECT 'contact' AS kind, c.label AS id, 'activated_trial' AS segment
FROM contacts c JOIN core USING (contact_id)
WHERE NOT EXISTS (SELECT 1 FROM ev u WHERE u.contact_id = c.contact_id
                  AND u.kind = 'track' AND u.name = 'Plan Upgraded');
