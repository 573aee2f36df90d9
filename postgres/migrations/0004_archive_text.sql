-- A trigram index over message text for archive searches: a search for a
-- rare substring reads its few matches instead of every message. It
-- indexes lower(text), the expression searches compare with LIKE, and
-- only messages (the predicate is the one searches repeat, so that the
-- planner may use the index). pg_trgm ships with PostgreSQL and is a trusted
-- extension: a database owner may create it without being superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX events_text_trgm ON events USING gin (lower(text) gin_trgm_ops)
    WHERE type = 'message';
