-- lifecycle (contact): the first level whose condition holds.
--   customer: exists("Deal Won") or trait.plan in ["pro", "enterprise"]
--   trial: trait.plan = "trial" or exists("Signed Up")
--   engaged_lead: score("intent") >= 20;  lead: otherwise
-- intent_level (account): high >= 60, medium >= 25 (account_intent), low.
WITH flags AS (
    SELECT contact_id,
           bool_or(name = 'Deal Won') AS won,
           bool_or(name = 'Signed Up') AS signed_up
    FROM ev WHERE kind = 'track' AND name IN ('Deal Won', 'Signed Up')
    GROUP BY contact_id
),
plans AS (
    SELECT contact_id, value ->> '$' AS plan FROM contact_traits_now
    WHERE key = 'plan' AND json_type(value) = 'VARCHAR'
),
facts AS (
    SELECT i.contact_id, i.label, i.value AS intent, p.plan,
           coalesce(f.won, false) AS won, coalesce(f.signed_up, false) AS signed_up
    FROM intent i LEFT JOIN plans p USING (contact_id) LEFT JOIN flags f USING (contact_id)
)
SELECT 'contact' AS kind, label AS id, 'lifecycle' AS tier,
       CASE WHEN won OR plan IN ('pro', 'enterprise') THEN 'customer'
            WHEN plan = 'trial' OR signed_up THEN 'trial'
            WHEN intent >= 20 THEN 'engaged_lead'
            ELSE 'lead' END AS level
FROM facts
UNION ALL
SELECT 'account', group_id, 'intent_level',
       CASE WHEN value >= 60 THEN 'high' WHEN value >= 25 THEN 'medium' ELSE 'low' END
FROM account_intent;
