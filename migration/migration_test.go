package migration_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parleychat/parley/migration"
	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "test.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate&_time_format=sqlite"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func files(m map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range m {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

var threeFiles = map[string]string{
	"0001_people.sql":  "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
	"0002_email.sql":   "ALTER TABLE people ADD COLUMN email TEXT NOT NULL DEFAULT '';",
	"0003_seed.sql":    "INSERT INTO people (id, name, email) VALUES (1, 'Ada', 'ada@example.com');\nINSERT INTO people (id, name) VALUES (2, 'Bob');",
	"README.md":        "not a migration",
	"notes/0004_x.sql": "directories are not read",
}

type row struct {
	Version int
	Name    string
}

func versions(t *testing.T, db *sql.DB) []row {
	t.Helper()
	rows, err := db.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var rs []row
	for rows.Next() {
		var r row
		var at time.Time
		if err := rows.Scan(&r.Version, &r.Name, &at); err != nil {
			t.Fatal(err)
		}
		if at.IsZero() {
			t.Errorf("version %d has no applied_at", r.Version)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return rs
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestApplyInOrder(t *testing.T) {
	db := openDB(t)
	if err := migration.Apply(t.Context(), db, files(threeFiles), migration.Options{}); err != nil {
		t.Fatal(err)
	}
	want := []row{{1, "people"}, {2, "email"}, {3, "seed"}}
	if got := versions(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	var email string
	if err := db.QueryRow(`SELECT email FROM people WHERE id = 1`).Scan(&email); err != nil {
		t.Fatal(err)
	}
	if email != "ada@example.com" {
		t.Errorf("email = %q: the files did not run in order", email)
	}
	if n := count(t, db, `SELECT count(*) FROM people`); n != 2 {
		t.Errorf("people = %d, want 2: every statement of a file must run", n)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	db := openDB(t)
	fsys := files(threeFiles)
	if err := migration.Apply(t.Context(), db, fsys, migration.Options{}); err != nil {
		t.Fatal(err)
	}
	before := versions(t, db)
	for range 2 {
		if err := migration.Apply(t.Context(), db, fsys, migration.Options{}); err != nil {
			t.Fatalf("second Apply: %v", err)
		}
	}
	if got := versions(t, db); !reflect.DeepEqual(got, before) {
		t.Errorf("schema_migrations changed from %v to %v", before, got)
	}
	if n := count(t, db, `SELECT count(*) FROM people`); n != 2 {
		t.Errorf("people = %d, want 2: a migration ran twice", n)
	}
}

func TestApplyOnlyPending(t *testing.T) {
	db := openDB(t)
	first := files(map[string]string{"0001_people.sql": threeFiles["0001_people.sql"]})
	if err := migration.Apply(t.Context(), db, first, migration.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := migration.Apply(t.Context(), db, files(threeFiles), migration.Options{}); err != nil {
		t.Fatal(err)
	}
	want := []row{{1, "people"}, {2, "email"}, {3, "seed"}}
	if got := versions(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}

func TestLoadRefusesBadSets(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"gap", map[string]string{"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 1;"}, "version 2 is missing"},
		{"not starting at 1", map[string]string{"0002_b.sql": "SELECT 1;"}, "version 1 is missing"},
		{"duplicate", map[string]string{"0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"}, "version 1 is used by both"},
		{"bad name", map[string]string{"0001_a.sql": "SELECT 1;", "two.sql": "SELECT 1;"}, "not named NNNN_name.sql"},
		{"version zero", map[string]string{"0000_a.sql": "SELECT 1;"}, "positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			err := migration.Apply(t.Context(), db, files(tt.files), migration.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply error = %v, want one containing %q", err, tt.want)
			}
			if tableExists(t, db, "schema_migrations") {
				t.Error("a refused set of files touched the database")
			}
		})
	}
}

func TestFailingMigrationRollsBack(t *testing.T) {
	db := openDB(t)
	fsys := files(map[string]string{
		"0001_people.sql": threeFiles["0001_people.sql"],
		// The first statement succeeds; the second fails, so the whole file
		// must be undone.
		"0002_broken.sql": "CREATE TABLE pets (id INTEGER PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);",
		"0003_later.sql":  "CREATE TABLE later (id INTEGER);",
	})
	err := migration.Apply(t.Context(), db, fsys, migration.Options{})
	if err == nil || !strings.Contains(err.Error(), "2_broken") {
		t.Fatalf("Apply error = %v, want one naming 2_broken", err)
	}
	if got, want := versions(t, db), []row{{1, "people"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	if !tableExists(t, db, "people") {
		t.Error("the earlier migration was undone")
	}
	if tableExists(t, db, "pets") {
		t.Error("the failing migration's first statement was not rolled back")
	}
	if tableExists(t, db, "later") {
		t.Error("a migration after the failing one ran")
	}
}

func TestNewerDatabaseRefused(t *testing.T) {
	db := openDB(t)
	if err := migration.Apply(t.Context(), db, files(threeFiles), migration.Options{}); err != nil {
		t.Fatal(err)
	}
	older := files(map[string]string{
		"0001_people.sql": threeFiles["0001_people.sql"],
		"0002_email.sql":  threeFiles["0002_email.sql"],
	})
	err := migration.Apply(t.Context(), db, older, migration.Options{})
	if err == nil || !strings.Contains(err.Error(), "downgrades are not supported") {
		t.Fatalf("Apply error = %v, want a refused downgrade", err)
	}
}

func TestRenamedVersionRefused(t *testing.T) {
	db := openDB(t)
	if err := migration.Apply(t.Context(), db, files(threeFiles), migration.Options{}); err != nil {
		t.Fatal(err)
	}
	other := files(map[string]string{
		"0001_people.sql": threeFiles["0001_people.sql"],
		"0002_phone.sql":  "ALTER TABLE people ADD COLUMN phone TEXT;",
		"0003_seed.sql":   threeFiles["0003_seed.sql"],
	})
	err := migration.Apply(t.Context(), db, other, migration.Options{})
	if err == nil || !strings.Contains(err.Error(), `version 2 was applied as "email"`) {
		t.Fatalf("Apply error = %v, want a name mismatch", err)
	}
}

func TestLockHook(t *testing.T) {
	t.Run("held while applying", func(t *testing.T) {
		db := openDB(t)
		var locked, unlocked int
		opts := migration.Options{Lock: func(ctx context.Context, got *sql.DB) (func(), error) {
			if got != db {
				t.Error("Lock got another *sql.DB")
			}
			if tableExists(t, db, "schema_migrations") {
				t.Error("Lock was called after the database was touched")
			}
			locked++
			return func() { unlocked++ }, nil
		}}
		if err := migration.Apply(t.Context(), db, files(threeFiles), opts); err != nil {
			t.Fatal(err)
		}
		if locked != 1 || unlocked != 1 {
			t.Errorf("locked %d and unlocked %d times, want 1 and 1", locked, unlocked)
		}
	})
	t.Run("released after a failure", func(t *testing.T) {
		db := openDB(t)
		var unlocked int
		opts := migration.Options{Lock: func(context.Context, *sql.DB) (func(), error) {
			return func() { unlocked++ }, nil
		}}
		fsys := files(map[string]string{"0001_bad.sql": "NOT SQL;"})
		if err := migration.Apply(t.Context(), db, fsys, opts); err == nil {
			t.Fatal("Apply of invalid SQL succeeded")
		}
		if unlocked != 1 {
			t.Errorf("unlocked %d times, want 1", unlocked)
		}
	})
	t.Run("lock error stops", func(t *testing.T) {
		db := openDB(t)
		errBusy := errors.New("busy")
		opts := migration.Options{Lock: func(context.Context, *sql.DB) (func(), error) {
			return nil, errBusy
		}}
		if err := migration.Apply(t.Context(), db, files(threeFiles), opts); !errors.Is(err, errBusy) {
			t.Fatalf("Apply error = %v, want the lock error", err)
		}
		if tableExists(t, db, "schema_migrations") {
			t.Error("Apply touched the database without the lock")
		}
	})
}
