-- Retention and erasure (F6.4): a retention period per tenant, and the
-- indexes that find what a retention run or an erasure deletes.
CREATE TABLE retention_policies (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants (id),
    days       INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX chats_ended ON chats (tenant_id, ended_at) WHERE state = 2;
CREATE INDEX visitors_email ON visitors (tenant_id, lower(email)) WHERE email <> '';
CREATE INDEX visitors_phone ON visitors (tenant_id, phone) WHERE phone <> '';
CREATE INDEX visitors_created ON visitors (tenant_id, created_at);
CREATE INDEX offline_messages_email ON offline_messages (tenant_id, lower(email));
CREATE INDEX outbox_tenant ON outbox (tenant_id, created_at);
CREATE INDEX outbox_chat ON outbox (chat_id) WHERE chat_id <> '';
CREATE INDEX webhook_deliveries_chat ON webhook_deliveries (chat_id) WHERE chat_id <> '';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at);
CREATE INDEX webhook_backlog_chat ON webhook_backlog (chat_id) WHERE chat_id <> '';
CREATE INDEX events_text_backlog_chat ON events_text_backlog (chat_id);
