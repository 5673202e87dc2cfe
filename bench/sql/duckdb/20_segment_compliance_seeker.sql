-- compliance_seeker (contact): exists("Quiz Answered" where benefit = "compliance")
SELECT DISTINCT 'contact' AS kind, c.label AS id, 'compliance_seeker' AS segment
FROM contacts c JOIN ev e USING (contact_id)
WHERE e.kind = 'track' AND e.name = 'Quiz Answered' AND e.benefit = 'compliance';
