package postgres

import "context"

// Retention's queries are shared (package sqlstore). PostgreSQL removes
// deleted rows and their index entries from its files when it vacuums
// them (autovacuum); no query can read them after the commit.

// Scrub does nothing: deleted rows are unreadable once the deleting
// transaction commits, and autovacuum reclaims their space.
func (s *Store) Scrub(ctx context.Context) error { return nil }
