-- renewal_due (account): days_until(trait.renewal_date) between 0 and 180,
-- i.e. the trait's instant ms satisfies 0 <= ms - T <= 180 days (exact in
-- integers). A value that is not an RFC 3339 date-time (the language's
-- pattern, a real date, hours <= 23, minutes and seconds <= 59, offsets up
-- to 23:59) is missing: not a member. Fractions are truncated to the ms.
WITH dates AS (
    SELECT group_id, value ->> '$' AS s
    FROM account_traits_now
    WHERE key = 'renewal_date' AND json_type(value) = 'VARCHAR'
      AND regexp_full_match(value ->> '$',
          '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})')
), parts AS (
    SELECT group_id,
           -- The wall time read as UTC (NULL for an impossible date), then
           -- the fraction and the offset in integer milliseconds.
           epoch_ms(TRY_CAST(substring(s, 1, 10) || ' ' || substring(s, 12, 8) || '+00' AS TIMESTAMPTZ)) AS wall,
           CAST(substring(s, 12, 2) AS INTEGER) AS h,
           CAST(substring(s, 15, 2) AS INTEGER) AS mi,
           CAST(substring(s, 18, 2) AS INTEGER) AS sec,
           CASE WHEN substring(s, 20, 1) = '.'
                THEN CAST(rpad(left(regexp_extract(s, '^.{20}([0-9]+)', 1), 3), 3, '0') AS BIGINT)
                ELSE 0 END AS ms,
           CASE WHEN upper(right(s, 1)) = 'Z' THEN 0 ELSE CAST(substring(s, -5, 2) AS INTEGER) END AS oh,
           CASE WHEN upper(right(s, 1)) = 'Z' THEN 0 ELSE CAST(substring(s, -2, 2) AS INTEGER) END AS om,
           CASE WHEN substring(s, -6, 1) = '-' THEN -1 ELSE 1 END AS sign
    FROM dates
)
SELECT 'account' AS kind, group_id AS id, 'renewal_due' AS segment
FROM parts
WHERE wall IS NOT NULL AND h <= 23 AND mi <= 59 AND sec <= 59 AND oh <= 23 AND om <= 59
  AND wall + ms - sign * (oh * 60 + om) * 60000 - {T} BETWEEN 0 AND 180 * 86400000::BIGINT;
