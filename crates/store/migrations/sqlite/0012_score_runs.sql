-- A first start writes each subject's run of forms of one score as one
-- row: its last form in the row's columns, the earlier ones packed in
-- `earlier` (see `codec::score_forms`); live recording leaves it NULL. A
-- row per form made 80 % of the rows a first start wrote (10M events: 7.3M
-- score forms). Keep equivalent to the other dialect's 0012.
ALTER TABLE score_changes ADD COLUMN earlier BLOB;
