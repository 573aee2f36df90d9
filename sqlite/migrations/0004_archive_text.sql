-- A trigram index over message text for archive searches: a search for a
-- rare word reads its few matches instead of every message. It holds a
-- copy of the text; chat_id is stored, not indexed. Rows of a deleted chat
-- may stay behind: searches check every candidate against the events.
CREATE VIRTUAL TABLE events_text USING fts5 (text, chat_id UNINDEXED, tokenize = 'trigram');

INSERT INTO events_text (text, chat_id)
SELECT text, chat_id FROM events WHERE type = 'message' AND text <> '';

CREATE TRIGGER events_text_insert AFTER INSERT ON events
WHEN new.type = 'message' AND new.text <> ''
BEGIN
    INSERT INTO events_text (text, chat_id) VALUES (new.text, new.chat_id);
END;
