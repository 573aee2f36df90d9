-- The archive's text index is fed after the commit instead of inside it:
-- the trigger of 0004 made every message's transaction flush and merge
-- FTS5 segments. A message now only adds its key to this backlog, in the
-- same transaction, so the backlog can never miss a committed message;
-- the store moves the backlog into events_text in batches (at start, so
-- whatever a crash left behind is indexed, and shortly after commits),
-- deleting the rows it indexed in the same transaction. Searches scan the
-- few events still in the backlog. id is the order messages were stored.
DROP TRIGGER events_text_insert;

CREATE TABLE events_text_backlog (
    id      INTEGER PRIMARY KEY,
    chat_id TEXT NOT NULL,
    seq     INTEGER NOT NULL
);

CREATE TRIGGER events_text_backlog_insert AFTER INSERT ON events
WHEN new.type = 'message' AND new.text <> ''
BEGIN
    INSERT INTO events_text_backlog (chat_id, seq) VALUES (new.chat_id, new.seq);
END;
