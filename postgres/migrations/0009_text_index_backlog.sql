-- SQLite's version 9 moves its FTS5 index out of the message's
-- transaction, through a backlog table. PostgreSQL needs no backlog: the
-- GIN index of version 4 takes new entries into its pending list (GIN's
-- fastupdate) in the message's own transaction, cheaply, and merges them
-- later; searches read the pending list too. This version keeps the two
-- dialects' numbers in step and changes nothing.
SELECT 1;
