-- What every start reads (issue #14). Keep equivalent to
-- sqlite/0008_latest_state.sql.
-- Each subject's latest score forms and last change per segment or tier:
-- `DISTINCT ON (…) … ORDER BY …, id DESC` served from the index instead of
-- sorting the whole history.
CREATE INDEX score_changes_latest ON score_changes (subject_kind, subject_key, score, id DESC);
CREATE INDEX membership_changes_latest
    ON membership_changes (subject_kind, subject_key, definition_kind, definition, id DESC);
