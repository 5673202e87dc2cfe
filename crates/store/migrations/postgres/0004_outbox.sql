-- The action layer. `outbox`: one row per delivery of a change to a
-- destination, committed with the change; `id` is the webhook-id.
-- `assignments`: owners given to subjects entering segments (history kept:
-- `ended_at` is set when the subject leaves). `disabled_destinations`:
-- receivers that answered 410 Gone.
CREATE TABLE outbox (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    destination     TEXT    NOT NULL,
    subject_kind    TEXT    NOT NULL,
    subject_key     TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    definition_kind TEXT    NOT NULL,
    definition      TEXT    NOT NULL,
    change          TEXT    NOT NULL,
    at              BIGINT NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at BIGINT
);
CREATE INDEX outbox_queue ON outbox (destination, subject_kind, subject_key, seq)
    WHERE state = 'pending';
CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
CREATE INDEX outbox_definition ON outbox (definition, seq);

CREATE TABLE assignments (
    id           BIGSERIAL PRIMARY KEY,
    segment      TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL,
    subject_key  TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    pool         TEXT,
    round_robin  BOOLEAN NOT NULL,
    assigned_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX assignments_current ON assignments (segment, subject_kind, subject_key)
    WHERE ended_at IS NULL;

CREATE TABLE disabled_destinations (
    name   TEXT    PRIMARY KEY,
    since BIGINT NOT NULL,
    reason TEXT    NOT NULL
);
