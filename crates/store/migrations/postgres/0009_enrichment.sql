-- Enrichment (issue #18). Keep equivalent to sqlite/0009_enrichment.sql.
-- The network that revealed a contact's account by IP (link = 'ip').
ALTER TABLE contact_accounts ADD COLUMN via text;

-- Trait changes enrichment wrote, told apart from those of messages (a
-- start that reads the store replays the messages, then these).
ALTER TABLE account_traits ADD COLUMN source text NOT NULL DEFAULT 'message';

-- What enrichment gave each account now (the traits themselves are rows of
-- account_traits): a reload writes only what differs from this.
CREATE TABLE account_enrichment (
    group_id text   PRIMARY KEY,
    domain   text   NOT NULL,
    traits   text   NOT NULL, -- JSON object
    at       bigint NOT NULL
);

-- The HTTP provider's answers, reused until their TTL runs out.
CREATE TABLE enrichment_answers (
    domain     text   PRIMARY KEY,
    traits     text   NOT NULL, -- JSON object
    fetched_at bigint NOT NULL
);
