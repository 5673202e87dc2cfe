-- content_researcher (contact): count(page where path starts_with "/blog/") >= 4
-- and not exists("Demo Requested")
WITH readers AS (
    SELECT contact_id FROM ev
    WHERE kind = 'page' AND starts_with(path, '/blog/')
    GROUP BY contact_id HAVING count(*) >= 4
)
SELECT 'contact' AS kind, c.label AS id, 'content_researcher' AS segment
FROM contacts c JOIN readers USING (contact_id)
WHERE NOT EXISTS (SELECT 1 FROM ev d WHERE d.contact_id = c.contact_id
                  AND d.kind = 'track' AND d.name = 'Demo Requested');
