-- The behavior events as of T (events after T are ignored), with the few
-- properties the definitions read, and the traits as of T. Page fields fall
-- back to context.page only when the property is absent (docs/language.md).
-- {T} is the instant in ms since the epoch; {CONTACTS} restricts the work to
-- some contacts and {ACCOUNTS} some accounts (both `true` for a full
-- evaluation).
CREATE OR REPLACE TEMP TABLE ev AS
SELECT e.contact_id, c.group_id, e.seq, e.kind, e.name, e.ts,
       CASE WHEN e.kind = 'page' THEN
            CASE WHEN json_exists(e.properties, '$.path') THEN e.properties ->> '$.path'
                 ELSE e.page ->> '$.path' END
       END AS path,
       CASE WHEN e.kind = 'track' AND e.name = 'Feature Used'
                 AND json_type(e.properties, '$.feature') NOT IN ('NULL', 'OBJECT')
            THEN e.properties -> '$.feature' END AS feature,
       CASE WHEN e.kind = 'track' AND e.name IN ('Email Sent', 'Email Opened')
                 AND json_type(e.properties, '$.email_id') NOT IN ('NULL', 'OBJECT')
            THEN CAST(e.properties -> '$.email_id' AS VARCHAR) END AS email_id,
       CASE WHEN e.kind = 'track' AND e.name = 'Quiz Answered'
                 AND json_type(e.properties, '$.benefit') = 'VARCHAR'
            THEN e.properties ->> '$.benefit' END AS benefit
FROM events e JOIN contacts c USING (contact_id)
WHERE e.ts <= {T} AND {CONTACTS};

-- The latest value of each trait at or before an instant: latest (at, seq).
CREATE OR REPLACE TEMP TABLE contact_traits_now AS
SELECT t.contact_id, t.key, t.value
FROM contact_traits t JOIN contacts c USING (contact_id)
WHERE t.set_at <= {T} AND t.key IN ('plan') AND {CONTACTS}
QUALIFY row_number() OVER (PARTITION BY t.contact_id, t.key ORDER BY t.set_at DESC, t.seq DESC) = 1;

CREATE OR REPLACE TEMP TABLE account_traits_now AS
SELECT group_id, key, value
FROM account_traits
WHERE set_at <= {T} AND key IN ('employees', 'industry', 'tech', 'country', 'seats', 'renewal_date') AND {ACCOUNTS}
QUALIFY row_number() OVER (PARTITION BY group_id, key ORDER BY set_at DESC, seq DESC) = 1;

CREATE OR REPLACE TEMP TABLE account_seats_60d_ago AS
SELECT group_id, value
FROM account_traits
WHERE set_at <= {T} - 60 * 86400000::BIGINT AND key = 'seats' AND {ACCOUNTS}
QUALIFY row_number() OVER (PARTITION BY group_id ORDER BY set_at DESC, seq DESC) = 1;
