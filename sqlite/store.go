// Package sqlite implements parley.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go, WAL mode).
//
// A Store holds two pools on one file: a single-connection write pool that
// carries every statement that writes, so writers queue in Go instead of
// failing with SQLITE_BUSY, and a small read-only pool whose transactions
// read WAL snapshots while a write is in progress.
//
// Queries use $n placeholders, RETURNING and ON CONFLICT so that a
// PostgreSQL store can reuse them; only the DDL in migrations/ is
// SQLite-specific.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/sqlstore"
	"github.com/parleychat/parley/migration"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "normal" (the default)
	// loses at most the last transactions on power loss, never integrity;
	// "full" also syncs the WAL on every commit.
	Synchronous string
	// ReadConns is the size of the read pool; 0 means 4.
	ReadConns int
	// Logger receives the applied migrations; nil discards.
	Logger *slog.Logger
	// Now is the clock for CreatedAt and event times the caller left zero;
	// nil means time.Now.
	Now func() time.Time

	// noIndexer leaves the text backlog unindexed, as a crash right after
	// commits would (tests only).
	noIndexer bool
	// noCheckpointer leaves checkpoints to the test (tests only).
	noCheckpointer bool
	// oldWritePath, for measurements only, commits every append alone and
	// checkpoints inside commits, as the store did before group commit.
	oldWritePath bool
}

// Store is a parley.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	// The queries shared with the PostgreSQL store (ratings, visitors,
	// canned responses, triggers, internal messages, the outbox,
	// integrations and webhooks).
	*sqlstore.Tables

	db  *sql.DB // write pool: one connection, IMMEDIATE transactions
	rdb *sql.DB // read pool: query_only connections
	cdb *sql.DB // checkpoint pool: one connection, see checkpoint.go
	now func() time.Time

	// Background work: the group-commit writer (writer.go), the text
	// indexer (textindex.go) and the checkpointer (checkpoint.go).
	bg               context.Context // ends on Close, after the writer stopped
	stopBG           context.CancelFunc
	appends          chan *appendReq
	closing          chan struct{}     // closed by Close: no new appends
	writerDone       chan struct{}     // closed when the writer has returned
	completions      chan []*appendReq // committed batches, to the completer
	enqueueMu        sync.RWMutex      // held to enqueue; stopWriter takes it to stop new ones
	stopping         bool              // guarded by enqueueMu
	completerDone    chan struct{}     // closed when every batch is reported
	indexer          *textIndexer
	checkpointerDone chan struct{}
	checkpointWake   chan struct{} // buffered: one pending wake-up is enough
	restartFrames    int           // WAL pages that make a checkpoint restart it
	batchLimit       int           // appends per group commit at most
	oldWritePath     bool          // see Options.oldWritePath
	commits          atomic.Int64  // group commits, for tests and measurements
}

var _ parley.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// the pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	switch {
	case path == "" || path == ":memory:":
		// Each connection would get its own empty in-memory database.
		return nil, fmt.Errorf("sqlite: a database file path is required")
	case strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("sqlite: path %q must be a plain file name, without URI syntax", path)
	}
	var sync string
	switch strings.ToLower(opts.Synchronous) {
	case "", "normal":
		sync = "NORMAL"
	case "full":
		sync = "FULL"
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be normal or full, not %q", opts.Synchronous)
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = 4
	}
	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}

	// busy_timeout comes first so that the other pragmas wait for a lock
	// held by another process instead of failing.
	var err error
	// wal_autocheckpoint(0): checkpoints run beside the writer, see
	// checkpoint.go.
	autoCheckpoint := "0"
	if opts.oldWritePath {
		autoCheckpoint = "1000"
	}
	// secure_delete(1): deleted content and freed pages are overwritten
	// with zeros, so an erased visitor's data does not stay in the file
	// (retention.go).
	s.db = sql.OpenDB(newConnector(path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + sync + ")&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(" + autoCheckpoint + ")" +
		"&_pragma=secure_delete(1)" +
		"&_txlock=immediate&_time_format=sqlite"))
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	s.db.SetConnMaxIdleTime(0)
	s.db.SetConnMaxLifetime(0)
	if err := s.checkWAL(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	if err := migration.Apply(ctx, s.db, migrations, migration.Options{Logger: opts.Logger}); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	// The read pool is opened after the migrations so that it never sees a
	// half-built schema; query_only turns a write sent here by mistake
	// into an error.
	s.rdb = sql.OpenDB(newConnector(path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)" +
		"&_pragma=query_only(1)&_time_format=sqlite"))
	s.rdb.SetMaxOpenConns(readConns)
	s.rdb.SetMaxIdleConns(readConns)
	if err := s.rdb.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open read pool: %w", err)
	}
	s.Tables = sqlstore.New(sqlstore.Dialect{Name: "sqlite", DB: s.db, RDB: s.rdb, Now: s.now,
		Write: s.write, Read: s.read, Violation: violation,
		ChatTables: []string{"events_text", "events_text_backlog"}})
	s.cdb = sql.OpenDB(newConnector(path + "?_pragma=busy_timeout(5000)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=wal_autocheckpoint(0)&_time_format=sqlite"))
	s.cdb.SetMaxOpenConns(1)
	s.cdb.SetMaxIdleConns(1)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.batchLimit, s.oldWritePath = maxBatch, opts.oldWritePath
	if opts.oldWritePath {
		s.batchLimit = 1
	}
	s.startWriter()
	s.restartFrames = restartFrames
	s.checkpointWake = make(chan struct{}, 1)
	if !opts.noCheckpointer && !opts.oldWritePath {
		s.startCheckpointer(log)
	}
	if !opts.noIndexer {
		s.startIndexer(log)
	}
	return s, nil
}

// checkWAL makes sure the journal_mode pragma took effect: the read pool
// only works beside the writer in WAL mode, and SQLite silently keeps the
// old mode where WAL is impossible (some network file systems).
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: journal_mode is %q, WAL is required", mode)
	}
	return nil
}

// Close stops the background work, after the group commit in progress,
// and closes both pools. Appends still waiting fail.
func (s *Store) Close() error {
	werr := s.stopWriter()
	if s.stopBG != nil {
		s.stopBG()
	}
	if s.indexer != nil {
		<-s.indexer.done
	}
	var rerr, cerr error
	if s.checkpointerDone != nil {
		<-s.checkpointerDone
	}
	if s.cdb != nil {
		cerr = s.cdb.Close()
	}
	if s.rdb != nil {
		rerr = s.rdb.Close()
	}
	return errors.Join(werr, cerr, rerr, s.db.Close())
}

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// write runs fn in a transaction on the write pool. Errors from fn are
// returned as they are, so fn decides how to report them.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	if s.checkpointWake != nil {
		s.wroteWAL()
	}
	return nil
}

// read runs fn in a read-only transaction, so that a record and its child
// rows come from one snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// dbError maps constraint violations to domain errors and wraps anything
// else with op as an internal error. conflict is the message for a unique
// key taken; missing for a reference to a record that does not exist.
func dbError(err error, op, conflict, missing string) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	switch violation(err) {
	case sqlstore.UniqueViolation:
		if conflict != "" {
			return parley.Errorf(parley.ECONFLICT, "%s", conflict)
		}
	case sqlstore.ForeignKeyViolation:
		if missing != "" {
			return parley.Errorf(parley.EINVALID, "%s", missing)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// violation tells the shared queries which constraint err broke.
func violation(err error) sqlstore.Violation {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqlstore.UniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return sqlstore.ForeignKeyViolation
		}
	}
	return sqlstore.NoViolation
}

// notFound turns sql.ErrNoRows into ENOTFOUND with msg and wraps anything
// else with op.
func notFound(err error, op, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "%s", msg)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// stamp returns t in UTC, or the store's current time when t is zero.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return s.now().UTC()
	}
	return t.UTC()
}

// The column conversions of the shared queries (see package sqlstore).
func nullTime(t time.Time) any         { return sqlstore.NullTime(t) }
func timeOf(nt sql.NullTime) time.Time { return sqlstore.TimeOf(nt) }
func nullInt(n int64) any              { return sqlstore.NullInt(n) }
func nullBytes(b []byte) any           { return sqlstore.NullBytes(b) }
func nullString(s string) any          { return sqlstore.NullString(s) }
