-- expansion_ready (account): trait.seats >= 3 * past(trait.seats, 60d);
-- false when either value is missing or not a number.
SELECT 'account' AS kind, f.group_id AS id, 'expansion_ready' AS segment
FROM account_facts f JOIN account_seats_60d_ago p USING (group_id)
WHERE json_type(p.value) IN ('UBIGINT', 'BIGINT', 'DOUBLE')
  AND f.seats >= 3 * CAST(p.value AS DOUBLE);
