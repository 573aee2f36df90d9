package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings each pool's connections get from the
// DSN: they are per connection, so only the store's own pools can show them.
func TestPragmas(t *testing.T) {
	for _, tt := range []struct {
		synchronous string
		want        int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", 1}, {"normal", 1}, {"FULL", 2}} {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), Options{Synchronous: tt.synchronous})
		if err != nil {
			t.Fatal(err)
		}
		pragma := func(db *sql.DB, name string) string {
			t.Helper()
			var v string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
				t.Fatalf("PRAGMA %s: %v", name, err)
			}
			return v
		}
		checks := []struct {
			db         *sql.DB
			name, want string
		}{
			{s.db, "journal_mode", "wal"},
			{s.db, "synchronous", string(rune('0' + tt.want))},
			{s.db, "foreign_keys", "1"},
			{s.db, "busy_timeout", "5000"},
			{s.db, "query_only", "0"},
			{s.db, "wal_autocheckpoint", "0"},
			{s.rdb, "journal_mode", "wal"},
			{s.rdb, "foreign_keys", "1"},
			{s.rdb, "busy_timeout", "5000"},
			{s.rdb, "query_only", "1"},
		}
		for _, c := range checks {
			pool := "write"
			if c.db == s.rdb {
				pool = "read"
			}
			if got := pragma(c.db, c.name); got != c.want {
				t.Errorf("synchronous %q: %s pool has %s = %s, want %s", tt.synchronous, pool, c.name, got, c.want)
			}
		}
		if _, err := s.rdb.ExecContext(t.Context(), `DELETE FROM tenants`); err == nil {
			t.Error("the read pool accepted a write")
		}
		if s.db.Stats().MaxOpenConnections != 1 {
			t.Errorf("write pool allows %d connections, want 1", s.db.Stats().MaxOpenConnections)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
