-- Identity rules (issue #22). Keep equivalent to sqlite/0005_identity_rules.sql.
-- A rejection row may now be a warning: the message was stored, but a field
-- was ignored (a blocked identifier such as "undefined").
-- Contacts merged under the old rule (two user ids through a shared
-- anonymous id or email) are split by the identity rebuild at the next
-- start, not here: it replays the stored messages (see docs/operations.md).
ALTER TABLE rejections ADD COLUMN warning BOOLEAN NOT NULL DEFAULT false;
