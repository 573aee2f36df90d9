-- Messages between agents outside any chat (internal chat).
CREATE TABLE internal_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    from_agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    from_name     TEXT NOT NULL DEFAULT '',
    to_agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    to_name       TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX internal_messages_pair ON internal_messages (tenant_id, from_agent_id, to_agent_id, id);
CREATE INDEX internal_messages_to ON internal_messages (tenant_id, to_agent_id, from_agent_id, id);
