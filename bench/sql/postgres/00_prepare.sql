-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- The behavior events as of T (events after T are ignored), with the few
-- properties the definitions read, and the traits as of T. Page fields fall
-- back to context.page only when the property is absent (docs/language.md).
-- {T} is the instant in ms since the epoch; {CONTACTS} restricts the work to
-- some contacts and {ACCOUNTS} some accounts (both `true` for a full
-- evaluation).
DROP TABLE IF EXISTS ev;
CREATE TEMP TABLE ev AS
SELECT e.contact_id, c.group_id, e.seq, e.kind, e.name, e.ts,
       CASE WHEN e.kind = 'page' THEN
            CASE WHEN e.properties ? 'path' THEN e.properties ->> 'path'
                 ELSE e.page ->> 'path' END
       END AS path,
       CASE WHEN e.kind = 'track' AND e.name = 'Feature Used'
                 AND jsonb_typeof(e.properties -> 'feature') NOT IN ('null', 'object')
            THEN e.properties -> 'feature' END AS feature,
       CASE WHEN e.kind = 'track' AND e.name IN ('Email Sent', 'Email Opened')
                 AND jsonb_typeof(e.properties -> 'email_id') NOT IN ('null', 'object')
            THEN (e.properties -> 'email_id')::text END AS email_id,
       CASE WHEN e.kind = 'track' AND e.name = 'Quiz Answered'
                 AND jsonb_typeof(e.properties -> 'benefit') = 'string'
            THEN e.properties ->> 'benefit' END AS benefit
FROM events e JOIN contacts c USING (contact_id)
WHERE e.ts <= {T} AND {CONTACTS};
ANALYZE ev;

-- The latest value of each trait at or before an instant: latest (at, seq).
DROP TABLE IF EXISTS contact_traits_now;
CREATE TEMP TABLE contact_traits_now AS
SELECT DISTINCT ON (t.contact_id, t.key) t.contact_id, t.key, t.value
FROM contact_traits t JOIN contacts c USING (contact_id)
WHERE t.set_at <= {T} AND t.key IN ('plan') AND {CONTACTS}
ORDER BY t.contact_id, t.key, t.set_at DESC, t.seq DESC;

DROP TABLE IF EXISTS account_traits_now;
CREATE TEMP TABLE account_traits_now AS
SELECT DISTINCT ON (group_id, key) group_id, key, value
FROM account_traits
WHERE set_at <= {T} AND key IN ('employees', 'industry', 'tech', 'country', 'seats', 'renewal_date') AND {ACCOUNTS}
ORDER BY group_id, key, set_at DESC, seq DESC;

DROP TABLE IF EXISTS account_seats_60d_ago;
CREATE TEMP TABLE account_seats_60d_ago AS
SELECT DISTINCT ON (group_id) group_id, value
FROM account_traits
WHERE set_at <= {T} - 60 * 86400000::BIGINT AND key = 'seats' AND {ACCOUNTS}
ORDER BY group_id, set_at DESC, seq DESC;
