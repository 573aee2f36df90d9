-- The integration API (workflows and bots) and webhooks out.

-- API keys of the integration API; only their SHA-256 is stored.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   BLOB NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

-- Bot first: new chats of the group join this bot and wait for its
-- hand-over before they are routed.
CREATE TABLE group_bots (
    group_id  INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name      TEXT NOT NULL
);

-- Data an integration attached to a chat (Genesys user data).
CREATE TABLE chat_data (
    chat_id    TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (chat_id, key)
) WITHOUT ROWID;

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id) WHERE deleted_at IS NULL;

-- What webhooks must hear about, captured by triggers in the transaction
-- that stored it, so a crash right after a commit loses nothing. Only
-- tenants with a webhook pay for it. id is the order of commits; the
-- sender turns rows into deliveries and deletes them in one transaction.
CREATE TABLE webhook_backlog (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL,
    chat_id   TEXT NOT NULL DEFAULT '',
    seq       INTEGER NOT NULL DEFAULT 0,
    kind      TEXT NOT NULL,
    ref       INTEGER NOT NULL DEFAULT 0,
    at        TIMESTAMP NOT NULL
);

CREATE TRIGGER webhook_backlog_event AFTER INSERT ON events
WHEN new.type IN ('message', 'joined', 'left', 'state', 'notice')
    AND EXISTS (SELECT 1 FROM webhooks w JOIN chats c ON c.tenant_id = w.tenant_id
        WHERE c.id = new.chat_id AND w.deleted_at IS NULL)
BEGIN
    INSERT INTO webhook_backlog (tenant_id, chat_id, seq, kind, at)
        SELECT tenant_id, new.chat_id, new.seq, 'event', new.at FROM chats WHERE id = new.chat_id;
END;

CREATE TRIGGER webhook_backlog_offer AFTER UPDATE OF offered_to ON chats
WHEN new.offered_to IS NOT NULL AND new.offered_to IS NOT old.offered_to
    AND EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = new.tenant_id AND w.deleted_at IS NULL)
BEGIN
    INSERT INTO webhook_backlog (tenant_id, chat_id, seq, kind, ref, at)
        VALUES (new.tenant_id, new.id, new.last_seq, 'offered', new.offered_to, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;

CREATE TRIGGER webhook_backlog_offline AFTER INSERT ON offline_messages
WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = new.tenant_id AND w.deleted_at IS NULL)
BEGIN
    INSERT INTO webhook_backlog (tenant_id, kind, ref, at)
        VALUES (new.tenant_id, 'offline', new.id, new.created_at);
END;

-- One event on its way to one webhook. A (webhook, order_key) chain is
-- sent in id order, one delivery at a time; id is the idempotency key.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   INTEGER NOT NULL REFERENCES webhooks (id),
    tenant_id    INTEGER NOT NULL,
    chat_id      TEXT NOT NULL DEFAULT '',
    order_key    TEXT NOT NULL,
    event        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    last_error   TEXT NOT NULL DEFAULT '',
    last_status  INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_chain ON webhook_deliveries (webhook_id, order_key, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, id);
