-- Bellwether schema, version 1 (SQLite). Keep equivalent to postgres/0001_init.sql.
-- Times are Unix milliseconds (INTEGER); JSON objects are TEXT.
-- No foreign keys on purpose: the core hands over consistent writes, and a
-- constraint failure would fail a whole ingestion batch rather than one row.

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    -- The live survivor when merged away (kept pointing at a live contact).
    merged_into INTEGER
) STRICT;
CREATE INDEX contacts_merged_into ON contacts (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE identities (
    kind       TEXT    NOT NULL, -- user | anonymous | email
    value      TEXT    NOT NULL,
    contact    INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX identities_contact ON identities (contact, first_seen, value);

CREATE TABLE merges (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    from_contact INTEGER NOT NULL,
    into_contact INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    reason       TEXT    NOT NULL, -- identify | alias | email
    message_id   TEXT    NOT NULL
) STRICT;
CREATE INDEX merges_into_contact ON merges (into_contact, at);

CREATE TABLE events (
    seq                INTEGER PRIMARY KEY,
    source             TEXT    NOT NULL,
    message_id         TEXT    NOT NULL,
    type               TEXT    NOT NULL, -- identify | track | page | screen | group | alias
    event              TEXT,
    user_id            TEXT,
    anonymous_id       TEXT,
    group_id           TEXT,
    previous_id        TEXT,
    contact_id         INTEGER,
    timestamp          INTEGER NOT NULL,
    received_at        INTEGER NOT NULL,
    sent_at            INTEGER,
    original_timestamp INTEGER,
    properties         TEXT    NOT NULL,
    traits             TEXT    NOT NULL,
    context            TEXT    NOT NULL,
    UNIQUE (source, message_id)
) STRICT;
CREATE INDEX events_contact_timeline ON events (contact_id, timestamp DESC, seq DESC);

CREATE TABLE contact_traits (
    id      INTEGER PRIMARY KEY,
    contact INTEGER NOT NULL,
    key     TEXT    NOT NULL,
    value   TEXT    NOT NULL, -- JSON
    at      INTEGER NOT NULL,
    seq     INTEGER NOT NULL
) STRICT;
CREATE INDEX contact_traits_history ON contact_traits (contact, at, seq);

CREATE TABLE accounts (
    group_id   TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE account_traits (
    id       INTEGER PRIMARY KEY,
    group_id TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL, -- JSON
    at       INTEGER NOT NULL,
    seq      INTEGER NOT NULL
) STRICT;
CREATE INDEX account_traits_history ON account_traits (group_id, at, seq);
CREATE INDEX account_traits_key ON account_traits (key, group_id);

CREATE TABLE contact_accounts (
    contact  INTEGER PRIMARY KEY,
    group_id TEXT    NOT NULL,
    link     TEXT    NOT NULL, -- group | email_domain
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX contact_accounts_group ON contact_accounts (group_id, contact);

CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    source      TEXT,
    message_id  TEXT,
    batch_index INTEGER,
    field       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    excerpt     TEXT    NOT NULL
) STRICT;
CREATE INDEX rejections_recent ON rejections (received_at, id);
