// Package migration applies numbered SQL files to a database in order and
// records each applied version in a schema_migrations table.
//
// Files are named NNNN_name.sql (any number of digits). Versions start at 1
// and must be contiguous: a gap or a repeated number is refused before the
// database is touched, because it almost always means two branches picked
// the same number. Each pending file runs in its own transaction together
// with the row that records it, so a failing file leaves the database at the
// previous version. There are no down migrations: a database that is newer
// than the files is refused rather than guessed at.
//
// The runner uses only $n placeholders and portable DDL for its own table,
// so it works unchanged on SQLite and PostgreSQL.
package migration

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options tune Apply. The zero value is ready to use.
type Options struct {
	// Lock, if set, is called before the applied versions are read and
	// must block until this process may migrate; the returned unlock is
	// called when Apply returns. A PostgreSQL store passes a session
	// advisory lock here so that nodes starting together migrate one at a
	// time. SQLite needs none when transactions begin IMMEDIATE: each
	// file's transaction re-checks its version under the write lock.
	Lock func(ctx context.Context, db *sql.DB) (unlock func(), err error)
	// Logger receives one line per applied file; nil discards.
	Logger *slog.Logger
}

// Migration is one parsed migration file.
type Migration struct {
	Version int
	Name    string // the file name without the number and extension
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_.-]+)\.sql$`)

// Load reads and checks the migration files at the root of fsys. Files that
// do not end in .sql are ignored; a .sql file with another name pattern, a
// duplicate version or a gap in the versions is an error.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migration: read files: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration: file %q is not named NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration: file %q: version must be a positive number", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration: read %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		switch {
		case i > 0 && m.Version == ms[i-1].Version:
			return nil, fmt.Errorf("migration: version %d is used by both %q and %q", m.Version, ms[i-1].Name, m.Name)
		case m.Version != i+1:
			return nil, fmt.Errorf("migration: version %d is missing (next file is version %d, %q)", i+1, m.Version, m.Name)
		}
	}
	return ms, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL
)`

// Apply brings db up to the newest file in fsys. It is a no-op when every
// file is applied. It refuses a database with a version newer than the
// files, or whose recorded name of a version differs from the file's name.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, opts Options) error {
	ms, err := Load(fsys)
	if err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Lock != nil {
		unlock, err := opts.Lock(ctx, db)
		if err != nil {
			return fmt.Errorf("migration: lock: %w", err)
		}
		defer unlock()
	}
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("migration: create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	for i, a := range applied {
		switch {
		case a.Version > len(ms):
			return fmt.Errorf("migration: database is at version %d but the newest file is version %d; downgrades are not supported", applied[len(applied)-1].Version, len(ms))
		case a.Version != i+1:
			return fmt.Errorf("migration: database has version %d applied without version %d", a.Version, i+1)
		case a.Name != ms[i].Name:
			return fmt.Errorf("migration: version %d was applied as %q but the file is %q", a.Version, a.Name, ms[i].Name)
		}
	}
	for _, m := range ms[len(applied):] {
		done, err := apply(ctx, db, m)
		if err != nil {
			return err
		}
		if done {
			log.InfoContext(ctx, "migration applied", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// apply runs m and records it in one transaction. It reports false when
// another process applied m after the versions were read.
func apply(ctx context.Context, db *sql.DB, m Migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration: begin %d_%s: %w", m.Version, m.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migration: check %d_%s: %w", m.Version, m.Name, err)
	}
	if n > 0 {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration: apply %d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, time.Now().UTC()); err != nil {
		return false, fmt.Errorf("migration: record %d_%s: %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration: commit %d_%s: %w", m.Version, m.Name, err)
	}
	return true, nil
}

type appliedVersion struct {
	Version int
	Name    string
}

func appliedVersions(ctx context.Context, db *sql.DB) ([]appliedVersion, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("migration: read applied versions: %w", err)
	}
	defer rows.Close()
	var vs []appliedVersion
	for rows.Next() {
		var v appliedVersion
		if err := rows.Scan(&v.Version, &v.Name); err != nil {
			return nil, fmt.Errorf("migration: read applied versions: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migration: read applied versions: %w", err)
	}
	return vs, nil
}
