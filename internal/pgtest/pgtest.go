// Package pgtest gives each test a PostgreSQL schema of its own in the
// database at PARLEY_TEST_POSTGRES, so that parallel test packages and
// reruns never see each other's tables.
//
// Without PARLEY_TEST_POSTGRES a test that asks for a database is
// skipped, except in CI (CI=true), where it fails: CI must run the
// PostgreSQL tests, not pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env is the variable holding the test database's URL.
const Env = "PARLEY_TEST_POSTGRES"

// URL returns the address of a new, empty schema in the test database:
// the database's URL with search_path set to the schema (and public, where
// the pg_trgm extension lives). The schema is dropped when t ends, after
// the cleanups t registers later (such as closing a store).
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests", Env)
		}
		t.Skipf("%s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping a PostgreSQL test", Env)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, got %q", Env, base)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ensureTrigram(ctx, db); err != nil {
		t.Fatalf("pgtest: create extension pg_trgm in %s: %v", Env, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "parley_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureTrigram installs pg_trgm in public once per database. Were it
// installed by a migration into a test's own schema, dropping that schema
// would drop the indexes of every other test's schema with it.
func ensureTrigram(ctx context.Context, db *sql.DB) error {
	const create = `CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`
	_, err := db.ExecContext(ctx, create)
	if err != nil && strings.Contains(err.Error(), "duplicate key") {
		// Another package created it at the same moment.
		_, err = db.ExecContext(ctx, create)
	}
	return err
}
