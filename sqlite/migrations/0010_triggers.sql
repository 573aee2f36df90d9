-- The widget's proactive triggers (Rocket.Chat livechat triggers): rules
-- on the visitor's page address, time on site and opening the chat that
-- open the widget with a message.
CREATE TABLE triggers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    -- 0 means every group of the tenant.
    group_id     INTEGER NOT NULL DEFAULT 0,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1,
    run_once     INTEGER NOT NULL DEFAULT 0,
    url_pattern  TEXT NOT NULL DEFAULT '',
    time_on_site INTEGER NOT NULL DEFAULT 0,
    chat_opened  INTEGER NOT NULL DEFAULT 0,
    sender_name  TEXT NOT NULL DEFAULT '',
    message      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX triggers_tenant ON triggers (tenant_id, id);
