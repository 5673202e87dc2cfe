-- PostgreSQL version of bench/sql/duckdb (same logic; jsonb operators).
-- renewal_due (account): days_until(trait.renewal_date) between 0 and 180,
-- i.e. the trait's instant ms satisfies 0 <= ms - T <= 180 days (exact in
-- integers). A value that is not an RFC 3339 date-time (the language's
-- pattern, a real date, hours <= 23, minutes and seconds <= 59, offsets up
-- to 23:59) is missing: not a member. Fractions are truncated to the ms.
-- The CTEs are materialized so that no cast sees a value the pattern refused.
-- Year 0000 (PostgreSQL has no such date) is left out; the generator writes
-- current years.
WITH dates AS MATERIALIZED (
    SELECT group_id, value #>> '{}' AS s
    FROM account_traits_now
    WHERE key = 'renewal_date' AND jsonb_typeof(value) = 'string'
      AND (value #>> '{}') ~
          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'
), parts AS MATERIALIZED (
    SELECT group_id,
           substring(s, 1, 4)::int AS y, substring(s, 6, 2)::int AS mo, substring(s, 9, 2)::int AS d,
           substring(s, 12, 2)::int AS h, substring(s, 15, 2)::int AS mi, substring(s, 18, 2)::int AS sec,
           CASE WHEN substring(s, 20, 1) = '.'
                THEN rpad(left(substring(s FROM '^.{20}([0-9]+)'), 3), 3, '0')::bigint
                ELSE 0 END AS ms,
           CASE WHEN upper(right(s, 1)) = 'Z' THEN 0 ELSE substring(s, length(s) - 4, 2)::int END AS oh,
           CASE WHEN upper(right(s, 1)) = 'Z' THEN 0 ELSE right(s, 2)::int END AS om,
           CASE WHEN substring(s, length(s) - 5, 1) = '-' THEN -1 ELSE 1 END AS sign
    FROM dates
), valid AS MATERIALIZED (
    -- make_timestamptz refuses an impossible date: test the day first.
    SELECT * FROM parts
    WHERE y >= 1 AND mo BETWEEN 1 AND 12 AND h <= 23 AND mi <= 59 AND sec <= 59 AND oh <= 23 AND om <= 59
      AND d BETWEEN 1 AND extract(day FROM make_date(y, mo, 1) + interval '1 month - 1 day')
)
SELECT 'account' AS kind, group_id AS id, 'renewal_due' AS segment
FROM valid
WHERE extract(epoch FROM make_timestamptz(y, mo, d, h, mi, sec, 'UTC'))::bigint * 1000
      + ms - sign * (oh * 60 + om) * 60000 - {T} BETWEEN 0 AND 180 * 86400000::bigint;
