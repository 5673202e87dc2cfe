-- Privacy (issue #17). Keep equivalent to postgres/0007_privacy.sql.
-- `suppressions`: identifiers of deleted contacts; messages carrying one
-- are answered 200 and dropped. `deletions`: the audit log of deletions,
-- who, when and how many rows of each kind, never the deleted data
-- (`contacts` holds internal contact numbers as a JSON array).
CREATE TABLE suppressions (
    value      TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL, -- user | anonymous | email
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE deletions (
    id          TEXT    PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    contacts    TEXT    NOT NULL,
    events      INTEGER NOT NULL,
    traits      INTEGER NOT NULL,
    identities  INTEGER NOT NULL,
    memberships INTEGER NOT NULL,
    scores      INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL,
    assignments INTEGER NOT NULL,
    complete    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX deletions_at ON deletions (at);
