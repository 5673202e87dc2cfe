-- The action layer. `outbox`: one row per delivery of a change to a
-- destination, committed with the change; `id` is the webhook-id.
-- `assignments`: owners given to subjects entering segments (history kept:
-- `ended_at` is set when the subject leaves). `disabled_destinations`:
-- receivers that answered 410 Gone.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    destination     TEXT    NOT NULL,
    subject_kind    TEXT    NOT NULL,
    subject_key     TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    definition_kind TEXT    NOT NULL,
    definition      TEXT    NOT NULL,
    change          TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER
);
CREATE INDEX outbox_queue ON outbox (destination, subject_kind, subject_key, seq)
    WHERE state = 'pending';
CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
CREATE INDEX outbox_definition ON outbox (definition, seq);

CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    segment      TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL,
    subject_key  TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    pool         TEXT,
    round_robin  INTEGER NOT NULL,
    assigned_at  INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX assignments_current ON assignments (segment, subject_kind, subject_key)
    WHERE ended_at IS NULL;

CREATE TABLE disabled_destinations (
    name   TEXT    PRIMARY KEY,
    since  INTEGER NOT NULL,
    reason TEXT    NOT NULL
);
