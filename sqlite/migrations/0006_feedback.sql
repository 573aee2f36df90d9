-- Visitors' ratings of ended chats, one per chat.
CREATE TABLE chat_ratings (
    chat_id    TEXT PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
) WITHOUT ROWID;

-- Messages left in the widget's offline form while a group was closed.
CREATE TABLE offline_messages (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    group_id   INTEGER NOT NULL REFERENCES groups (id),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX offline_messages_tenant ON offline_messages (tenant_id, created_at DESC, id DESC);
