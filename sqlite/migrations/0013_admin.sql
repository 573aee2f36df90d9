-- Administration: a tenant's widget appearance, uploaded agent photos,
-- one-time password links and the append-only audit log. (Agents'
-- disabled flag comes with version 14.)
ALTER TABLE tenants ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';

CREATE TABLE agent_photos (
    agent_id     INTEGER PRIMARY KEY REFERENCES agents (id),
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- Only the SHA-256 of a link's token is stored.
CREATE TABLE agent_invites (
    token_hash BLOB PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    purpose    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX agent_invites_agent ON agent_invites (agent_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_login TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    target_name TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- The log is a record of what happened: nothing rewrites or removes it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
