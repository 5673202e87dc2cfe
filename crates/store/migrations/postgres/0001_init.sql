-- Bellwether schema, version 1 (PostgreSQL). Keep equivalent to sqlite/0001_init.sql.
-- Times are Unix milliseconds (BIGINT). JSON is stored as `json`, not `jsonb`:
-- `json` keeps the text as written, so objects come back with their keys in
-- the order they were stored (serde_json's `preserve_order`) and numbers
-- spelled as they were; `jsonb` would reorder keys. Cast to jsonb in queries
-- (or add expression indexes) where containment operators are needed.
-- No foreign keys on purpose: the core hands over consistent writes, and a
-- constraint failure would fail a whole ingestion batch rather than one row.

CREATE TABLE contacts (
    id          BIGINT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    -- The live survivor when merged away (kept pointing at a live contact).
    merged_into BIGINT
);
CREATE INDEX contacts_merged_into ON contacts (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE identities (
    kind       TEXT   NOT NULL, -- user | anonymous | email
    value      TEXT   NOT NULL,
    contact    BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_contact ON identities (contact, first_seen, value);

CREATE TABLE merges (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_contact BIGINT NOT NULL,
    into_contact BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    reason       TEXT   NOT NULL, -- identify | alias | email
    message_id   TEXT   NOT NULL
);
CREATE INDEX merges_into_contact ON merges (into_contact, at);

CREATE TABLE events (
    seq                BIGINT PRIMARY KEY,
    source             TEXT   NOT NULL,
    message_id         TEXT   NOT NULL,
    type               TEXT   NOT NULL, -- identify | track | page | screen | group | alias
    event              TEXT,
    user_id            TEXT,
    anonymous_id       TEXT,
    group_id           TEXT,
    previous_id        TEXT,
    contact_id         BIGINT,
    timestamp          BIGINT NOT NULL,
    received_at        BIGINT NOT NULL,
    sent_at            BIGINT,
    original_timestamp BIGINT,
    properties         JSON   NOT NULL,
    traits             JSON   NOT NULL,
    context            JSON   NOT NULL,
    UNIQUE (source, message_id)
);
CREATE INDEX events_contact_timeline ON events (contact_id, timestamp DESC, seq DESC);

CREATE TABLE contact_traits (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact BIGINT NOT NULL,
    key     TEXT   NOT NULL,
    value   JSON   NOT NULL,
    at      BIGINT NOT NULL,
    seq     BIGINT NOT NULL
);
CREATE INDEX contact_traits_history ON contact_traits (contact, at, seq, id);

CREATE TABLE accounts (
    group_id   TEXT   PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE account_traits (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id TEXT   NOT NULL,
    key      TEXT   NOT NULL,
    value    JSON   NOT NULL,
    at       BIGINT NOT NULL,
    seq      BIGINT NOT NULL
);
CREATE INDEX account_traits_history ON account_traits (group_id, at, seq, id);
CREATE INDEX account_traits_key ON account_traits (key, group_id);

CREATE TABLE contact_accounts (
    contact  BIGINT PRIMARY KEY,
    group_id TEXT   NOT NULL,
    link     TEXT   NOT NULL, -- group | email_domain
    at       BIGINT NOT NULL
);
CREATE INDEX contact_accounts_group ON contact_accounts (group_id, contact);

CREATE TABLE rejections (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at BIGINT NOT NULL,
    source      TEXT,
    message_id  TEXT,
    batch_index BIGINT,
    field       TEXT   NOT NULL,
    reason      TEXT   NOT NULL,
    excerpt     TEXT   NOT NULL
);
CREATE INDEX rejections_recent ON rejections (received_at, id);
