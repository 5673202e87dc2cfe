-- Enrichment (issue #18). Keep equivalent to postgres/0009_enrichment.sql.
-- The network that revealed a contact's account by IP (link = 'ip').
ALTER TABLE contact_accounts ADD COLUMN via TEXT;

-- Trait changes enrichment wrote, told apart from those of messages (a
-- start that reads the store replays the messages, then these).
ALTER TABLE account_traits ADD COLUMN source TEXT NOT NULL DEFAULT 'message';

-- What enrichment gave each account now (the traits themselves are rows of
-- account_traits): a reload writes only what differs from this.
CREATE TABLE account_enrichment (
    group_id TEXT    PRIMARY KEY,
    domain   TEXT    NOT NULL,
    traits   TEXT    NOT NULL, -- JSON object
    at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The HTTP provider's answers, reused until their TTL runs out.
CREATE TABLE enrichment_answers (
    domain     TEXT    PRIMARY KEY,
    traits     TEXT    NOT NULL, -- JSON object
    fetched_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
