-- How far a client that keeps no cursor of its own (a MiCC GetEvents
-- client sends only its ChatID) has read a chat's log, so that any node
-- of a cluster, or the node after a restart, continues where the last
-- delivered response ended. Deleted with the chat.
CREATE TABLE read_positions (
    chat_id    text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    reader     text NOT NULL,
    seq        bigint NOT NULL,
    PRIMARY KEY (chat_id, reader)
);
