-- `[[digest]]`: the latest period each digest was queued for (its outbox
-- row commits in the same transaction), so a restart does not send it twice.
CREATE TABLE digests_sent (
    name       TEXT    PRIMARY KEY,
    period_end INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL
);
