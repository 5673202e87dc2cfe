-- Deliveries by subject (issue #17). Keep equivalent to sqlite/0006_subject_deliveries.sql.
-- A contact's export (GET /api/v1/contacts/{id}/export) lists every
-- delivery about it; without this index that reads the whole outbox.
CREATE INDEX outbox_subject ON outbox (subject_kind, subject_key, seq);
