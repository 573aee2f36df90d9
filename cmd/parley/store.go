package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/postgres"
	"github.com/parleychat/parley/sqlite"
	"github.com/parleychat/parley/webhook"
)

// appStore is what the server keeps in its store: the records of
// parley.Store, the webhook outbox and the integration API's records.
// Both stores, sqlite and postgres, are all three.
type appStore interface {
	parley.Store
	webhook.Store
	conversation.IntegrationStore
}

var (
	_ appStore = (*sqlite.Store)(nil)
	_ appStore = (*postgres.Store)(nil)
)

// isPostgres reports whether a --store value names a PostgreSQL database.
func isPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// sqlitePath is the database file of a --store value that is not a
// PostgreSQL URL: the value itself, or parley.db in the data directory.
func sqlitePath(cfg *Config) string {
	if cfg.Store != "" {
		return cfg.Store
	}
	return filepath.Join(cfg.Data, "parley.db")
}

// openStore opens the store that cfg names and migrates it.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (appStore, error) {
	if isPostgres(cfg.Store) {
		return postgres.Open(ctx, cfg.Store, postgres.Options{Logger: log})
	}
	path := sqlitePath(cfg)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("database directory: %w", err)
	}
	return sqlite.Open(ctx, path, sqlite.Options{Synchronous: cfg.SQLiteSync, Logger: log})
}

// migrate applies the store's pending migrations and returns: `parley
// migrate`, for operators who migrate before they start (or upgrade) the
// nodes of a cluster. serve migrates at start too.
func migrate(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	if isPostgres(cfg.Store) {
		if err := postgres.Migrate(ctx, cfg.Store, log); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "PostgreSQL store is up to date")
		return nil
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SQLite store %s is up to date\n", sqlitePath(cfg))
	return nil
}
