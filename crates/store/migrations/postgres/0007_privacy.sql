-- Privacy (issue #17). Keep equivalent to sqlite/0007_privacy.sql.
-- `suppressions`: identifiers of deleted contacts; messages carrying one
-- are answered 200 and dropped. `deletions`: the audit log of deletions,
-- who, when and how many rows of each kind, never the deleted data
-- (`contacts` holds internal contact numbers).
CREATE TABLE suppressions (
    value      TEXT   PRIMARY KEY,
    kind       TEXT   NOT NULL, -- user | anonymous | email
    created_at BIGINT NOT NULL
);

CREATE TABLE deletions (
    id          TEXT     PRIMARY KEY,
    at          BIGINT   NOT NULL,
    actor       TEXT     NOT NULL,
    contacts    BIGINT[] NOT NULL,
    events      BIGINT   NOT NULL,
    traits      BIGINT   NOT NULL,
    identities  BIGINT   NOT NULL,
    memberships BIGINT   NOT NULL,
    scores      BIGINT   NOT NULL,
    deliveries  BIGINT   NOT NULL,
    assignments BIGINT   NOT NULL,
    complete    BOOLEAN  NOT NULL DEFAULT false
);
CREATE INDEX deletions_at ON deletions (at);
