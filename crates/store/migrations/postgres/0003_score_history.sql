-- Score history recorded by the real-time engine: one row each time a
-- score's closed form changes (never for decay alone, which the form
-- describes exactly).
CREATE TABLE score_changes (
    id           BIGSERIAL PRIMARY KEY,
    at           BIGINT           NOT NULL,
    subject_kind TEXT             NOT NULL,
    subject_key  TEXT             NOT NULL,
    label        TEXT             NOT NULL,
    score        TEXT             NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    constant     DOUBLE PRECISION NOT NULL,
    decaying     DOUBLE PRECISION NOT NULL,
    anchor       BIGINT           NOT NULL,
    half_life    BIGINT
);
CREATE INDEX score_changes_subject ON score_changes (subject_kind, subject_key, id);
