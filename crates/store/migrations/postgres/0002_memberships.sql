-- Membership history recorded by the real-time engine, and how far it got.
CREATE TABLE membership_changes (
    id              BIGSERIAL PRIMARY KEY,
    at              BIGINT NOT NULL,
    subject_kind    TEXT   NOT NULL,
    subject_key     TEXT   NOT NULL,
    label           TEXT   NOT NULL,
    change          TEXT   NOT NULL,
    definition_kind TEXT   NOT NULL,
    definition      TEXT   NOT NULL,
    level           TEXT
);
CREATE INDEX membership_changes_definition ON membership_changes (definition, at);
CREATE INDEX membership_changes_subject ON membership_changes (subject_kind, subject_key, id);

CREATE TABLE engine_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at BIGINT  NOT NULL
);
