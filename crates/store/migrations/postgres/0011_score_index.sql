-- A subject's score history is read through `score_changes_latest` (its
-- subject prefix), sorting that subject's few rows by id: the older index
-- on (subject_kind, subject_key, id) only slowed every insert (a first
-- start over 1M events writes about 750,000 score forms). Keep equivalent
-- to the other dialect's 0011.
DROP INDEX IF EXISTS score_changes_subject;
