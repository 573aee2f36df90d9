-- Transcripts, the mail outbox and canned responses.

-- How a group mails transcripts, as the JSON of parley.GroupTranscript.
ALTER TABLE groups ADD COLUMN transcript TEXT NOT NULL DEFAULT '{}';

-- Mails are stored before they are sent; a sender claims a due mail by
-- moving next_attempt past its lease, sends it and marks it sent.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    -- An idempotency key: the same mail is enqueued once.
    key          TEXT UNIQUE,
    chat_id      TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL,
    from_addr    TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TIMESTAMP NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE status = 'pending';

CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    -- 0 means every group of the tenant.
    group_id   INTEGER NOT NULL DEFAULT 0,
    folder     TEXT NOT NULL DEFAULT '',
    shortcut   TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX canned_shortcut ON canned_responses (tenant_id, group_id, shortcut) WHERE shortcut <> '';
CREATE INDEX canned_tenant ON canned_responses (tenant_id, group_id, folder, title);

-- Archive searches by group and time.
CREATE INDEX chats_group ON chats (group_id, created_at, id);
