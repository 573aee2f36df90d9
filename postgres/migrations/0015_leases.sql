-- Leases of a cluster's nodes: the routing leader holds the row named
-- 'routing' and renews it; another node takes it over once it expired,
-- raising the epoch. Every routing decision checks the epoch in its own
-- transaction, so a deposed leader's late write fails.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    epoch      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
