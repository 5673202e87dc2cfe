-- Score history recorded by the real-time engine: one row each time a
-- score's closed form changes (never for decay alone, which the form
-- describes exactly).
CREATE TABLE score_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    subject_kind TEXT    NOT NULL,
    subject_key  TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    score        TEXT    NOT NULL,
    value        REAL    NOT NULL,
    constant     REAL    NOT NULL,
    decaying     REAL    NOT NULL,
    anchor       INTEGER NOT NULL,
    half_life    INTEGER
);
CREATE INDEX score_changes_subject ON score_changes (subject_kind, subject_key, id);
