-- Parley schema, version 1 (SQLite DDL; PostgreSQL has its own file with the
-- same version number). Times are TIMESTAMP columns written by Go as UTC in
-- modernc's _time_format=sqlite layout, which sorts correctly as text.

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The default tenant is -1, Mitel's "not tenanted". AUTOINCREMENT hands out
-- one more than the larger of 0 and the largest id ever used, so the first
-- generated tenant id is 1 (plain rowid allocation would give 0).
INSERT INTO tenants (id, name, created_at)
VALUES (-1, 'Default', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'));

CREATE TABLE groups (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            INTEGER NOT NULL REFERENCES tenants (id),
    name                 TEXT NOT NULL,
    welcome_message      TEXT NOT NULL DEFAULT '',
    queue_message        TEXT NOT NULL DEFAULT '',
    closed_message       TEXT NOT NULL DEFAULT '',
    -- Limit overrides; NULL inherits the server value.
    max_message_length   INTEGER,
    max_attachment_kb    INTEGER,
    idle_timeout_seconds INTEGER,
    capacity             INTEGER,
    created_at           TIMESTAMP NOT NULL
);
-- Names are unique per tenant case-insensitively; queries use the same
-- lower(name) expression so that this index serves GroupByName.
CREATE UNIQUE INDEX groups_tenant_name ON groups (tenant_id, lower(name));

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    login         TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    chat_name     TEXT NOT NULL DEFAULT '',
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    capacity      INTEGER NOT NULL,
    presence      TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, login)
);

CREATE TABLE agent_groups (
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    -- 0 means no per-membership capacity.
    capacity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, group_id)
) WITHOUT ROWID;
CREATE INDEX agent_groups_group ON agent_groups (group_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_agent ON sessions (agent_id);

CREATE TABLE visitors (
    id           TEXT PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    customer_id  TEXT NOT NULL DEFAULT '',
    private_data TEXT NOT NULL DEFAULT '',
    tz_offset    INTEGER NOT NULL DEFAULT 0,
    -- NULL for a visitor without a token; UNIQUE allows many NULLs.
    token_hash   BLOB UNIQUE,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE chats (
    id              TEXT PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    visitor_id      TEXT NOT NULL REFERENCES visitors (id),
    state           INTEGER NOT NULL,
    cause           INTEGER NOT NULL,
    session_id      TEXT NOT NULL DEFAULT '',
    agent_id        INTEGER REFERENCES agents (id),
    offered_to      INTEGER REFERENCES agents (id),
    priority        INTEGER NOT NULL DEFAULT 0,
    idle_timeout_ms INTEGER NOT NULL DEFAULT 0,
    -- last_seq is the newest event's seq; version counts record changes.
    last_seq        INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    queued_at       TIMESTAMP,
    accepted_at     TIMESTAMP,
    ended_at        TIMESTAMP
);
CREATE INDEX chats_tenant ON chats (tenant_id, created_at, id);
-- 2 is parley.StateTerminated; queries for active chats repeat "state <> 2"
-- literally so that SQLite can use this partial index.
CREATE INDEX chats_active ON chats (tenant_id, created_at, id) WHERE state <> 2;
CREATE INDEX chats_visitor ON chats (visitor_id, created_at, id);
CREATE INDEX chats_agent ON chats (agent_id, created_at, id) WHERE agent_id IS NOT NULL;
CREATE INDEX chats_created ON chats (created_at, id);

CREATE TABLE chat_participants (
    chat_id   TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    agent_id  INTEGER NOT NULL DEFAULT 0,
    name      TEXT NOT NULL DEFAULT '',
    joined_at TIMESTAMP NOT NULL,
    left_at   TIMESTAMP,
    PRIMARY KEY (chat_id, idx)
) WITHOUT ROWID;

-- The chat log. data holds the JSON of the payload fields that have no
-- column (args, url, state, file, signal); NULL when there are none.
CREATE TABLE events (
    chat_id       TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    type          TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    from_kind     TEXT NOT NULL DEFAULT '',
    from_agent_id INTEGER NOT NULL DEFAULT 0,
    from_name     TEXT NOT NULL DEFAULT '',
    audience      TEXT NOT NULL DEFAULT '',
    client_id     TEXT,
    text          TEXT NOT NULL DEFAULT '',
    notice        TEXT NOT NULL DEFAULT '',
    data          TEXT,
    PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
-- A sender's idempotency key is unique within its chat.
CREATE UNIQUE INDEX events_client_id ON events (chat_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX attachments_chat ON attachments (chat_id);
