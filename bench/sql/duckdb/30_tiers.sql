-- lifecycle (contact): the first level whose condition holds.
--   customer: exists("Deal Won") or trait.plan in ["pro", "enterprise"]
--   trial: trait.plan = "trial" or exists("Signed Up")
--   engaged_lead: score("intent") >= 20;  lead: otherwise
-- intent_level (account): high >= 60, medium >= 25 (account_intent), low.
WITH facts AS (
    SELECT i.contact_id, i.label, i.value AS intent,
           (SELECT p.value ->> '$' FROM contact_traits_now p
            WHERE p.contact_id = i.contact_id AND p.key = 'plan'
              AND json_type(p.value) = 'VARCHAR') AS plan,
           EXISTS (SELECT 1 FROM ev e WHERE e.contact_id = i.contact_id
                   AND e.kind = 'track' AND e.name = 'Deal Won') AS won,
           EXISTS (SELECT 1 FROM ev e WHERE e.contact_id = i.contact_id
                   AND e.kind = 'track' AND e.name = 'Signed Up') AS signed_up
    FROM intent i
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
