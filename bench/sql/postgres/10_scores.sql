-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- intent (contact, half-life 14d): pricing views 10, demo requests 30,
-- email opens 2 capped at 10 per UTC day, feature uses 1 capped at 5 per
-- UTC day (the events of a day count in timeline order until the cap), and
-- -15 while days_since(any) >= 14 (never seen counts as infinitely long).
DROP TABLE IF EXISTS intent;
CREATE TEMP TABLE intent AS
WITH earned AS (
    SELECT contact_id, ts, 10.0::float8 AS points FROM ev WHERE kind = 'page' AND path = '/pricing'
    UNION ALL
    SELECT contact_id, ts, 30.0::float8 FROM ev WHERE kind = 'track' AND name = 'Demo Requested'
    UNION ALL
    SELECT contact_id, ts,
           least(2.0::float8, greatest(10.0::float8 - 2.0 * (row_number() OVER (
               PARTITION BY contact_id, ts / 86400000 ORDER BY ts, seq) - 1), 0.0::float8))
    FROM ev WHERE kind = 'track' AND name = 'Email Opened'
    UNION ALL
    SELECT contact_id, ts,
           least(1.0::float8, greatest(5.0::float8 - 1.0 * (row_number() OVER (
               PARTITION BY contact_id, ts / 86400000 ORDER BY ts, seq) - 1), 0.0::float8))
    FROM ev WHERE kind = 'track' AND name = 'Feature Used'
),
decayed AS (
    SELECT contact_id, sum(points * power(2.0::float8, -({T} - ts) / 1209600000.0::float8)) AS value
    FROM earned GROUP BY contact_id
),
latest AS (SELECT contact_id, max(ts) AS ts FROM ev GROUP BY contact_id)
SELECT c.contact_id, c.label, c.group_id,
       coalesce(d.value, 0.0::float8)
       + CASE WHEN l.ts IS NULL OR {T} - l.ts >= 14 * 86400000::BIGINT THEN -15.0 ELSE 0.0 END AS value
FROM contacts c
LEFT JOIN decayed d USING (contact_id)
LEFT JOIN latest l USING (contact_id)
WHERE {CONTACTS};

-- The account traits the definitions read, typed as the language reads them
-- (a number only when the JSON is a number, a string only when a string).
DROP TABLE IF EXISTS account_facts;
CREATE TEMP TABLE account_facts AS
SELECT a.group_id,
       max(CASE WHEN t.key = 'employees' AND jsonb_typeof(t.value) = 'number'
                THEN (t.value #>> '{}')::float8 END) AS employees,
       max(CASE WHEN t.key = 'industry' AND jsonb_typeof(t.value) = 'string'
                THEN t.value #>> '{}' END) AS industry,
       bool_or(t.key = 'tech' AND (
                t.value @> '["salesforce"]'::jsonb
             OR (jsonb_typeof(t.value) = 'string' AND strpos(t.value #>> '{}', 'salesforce') > 0))) AS salesforce,
       max(CASE WHEN t.key = 'country' AND jsonb_typeof(t.value) = 'string'
                THEN t.value #>> '{}' END) AS country,
       max(CASE WHEN t.key = 'seats' AND jsonb_typeof(t.value) = 'number'
                THEN (t.value #>> '{}')::float8 END) AS seats
FROM accounts a LEFT JOIN account_traits_now t USING (group_id)
WHERE {ACCOUNTS}
GROUP BY a.group_id;

-- fit (account, no decay): firmographic points while the traits hold.
DROP TABLE IF EXISTS fit;
CREATE TEMP TABLE fit AS
SELECT group_id,
       CASE WHEN employees BETWEEN 50 AND 5000 THEN 30.0::float8 ELSE 0.0 END
     + CASE WHEN industry IN ('software', 'fintech', 'healthcare') THEN 25.0 ELSE 0.0 END
     + CASE WHEN coalesce(salesforce, false) THEN 15.0 ELSE 0.0 END
     + CASE WHEN country IN ('US', 'CA', 'GB', 'DE', 'FR') THEN 10.0 ELSE 0.0 END AS value
FROM account_facts;

-- account_intent (account, half-life 14d): the sum of its contacts' intent
-- plus 20 per demo request from any of them, decayed.
DROP TABLE IF EXISTS account_intent;
CREATE TEMP TABLE account_intent AS
WITH rolled AS (
    SELECT group_id, sum(value) AS value FROM intent WHERE group_id IS NOT NULL GROUP BY group_id
),
demos AS (
    SELECT group_id, sum(20.0 * power(2.0::float8, -({T} - ts) / 1209600000.0::float8)) AS value
    FROM ev WHERE kind = 'track' AND name = 'Demo Requested' AND group_id IS NOT NULL
    GROUP BY group_id
)
SELECT a.group_id, coalesce(r.value, 0.0) + coalesce(d.value, 0.0) AS value
FROM accounts a LEFT JOIN rolled r USING (group_id) LEFT JOIN demos d USING (group_id)
WHERE {ACCOUNTS};

SELECT 'contact' AS kind, label AS id, 'intent' AS name, value FROM intent
UNION ALL SELECT 'account', group_id, 'fit', value FROM fit
UNION ALL SELECT 'account', group_id, 'account_intent', value FROM account_intent;
