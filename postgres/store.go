// Package postgres implements parley.Store on PostgreSQL, for clusters of
// Parley nodes sharing one database. It passes the same conformance suite
// (package storetest) as the embedded default, package sqlite, and keeps
// its promises: an acknowledged append is committed and flushed.
//
// The store talks to PostgreSQL through pgx behind database/sql, so that
// its queries, scans and migration runner have the same shape as the
// SQLite store's; only the DDL in migrations/ and the handful of places
// noted in the code are PostgreSQL's own.
package postgres

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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/sqlstore"
	"github.com/parleychat/parley/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure Open. The zero value is ready to use.
type Options struct {
	// MaxConns bounds the pool's connections; 0 means 16.
	MaxConns int
	// Logger receives the applied migrations; nil discards.
	Logger *slog.Logger
	// Now is the clock for CreatedAt and event times the caller left zero;
	// nil means time.Now.
	Now func() time.Time
}

// Store is a parley.Store on one PostgreSQL database (the schemas of its
// connection's search_path). It is safe for concurrent use, also by
// several processes on the same database.
type Store struct {
	// The queries shared with the SQLite store (ratings, visitors, canned
	// responses, triggers, internal messages, the outbox, integrations and
	// webhooks).
	*sqlstore.Tables

	db  *sql.DB
	now func() time.Time

	// The group-commit writer (writer.go).
	bg            context.Context // ends on Close, after the writer stopped
	stopBG        context.CancelFunc
	appends       chan *appendReq
	closing       chan struct{}     // closed by Close: no new appends
	writerDone    chan struct{}     // closed when the writer has returned
	completions   chan []*appendReq // committed batches, to the completer
	enqueueMu     sync.RWMutex      // held to enqueue; stopWriter takes it to stop new ones
	stopping      bool              // guarded by enqueueMu
	completerDone chan struct{}     // closed when every batch is reported
	commits       atomic.Int64      // group commits, for tests and measurements
}

var _ parley.Store = (*Store)(nil)

// migrationLock is the key of the session advisory lock held while
// migrating, so that nodes starting together migrate one at a time. It
// is the same for every schema of a database: CREATE EXTENSION, which a
// migration runs, is per database.
const migrationLock int64 = 0x7061726c6579 // "parley"

// Open connects to the database at url (a postgres:// URL or a
// key=value connection string) and applies the pending migrations. The
// schema is the connection's: set search_path in url to keep Parley's
// tables apart from others'.
//
// Every connection runs with synchronous_commit on, whatever the server's
// default, because an append is acknowledged when its commit returns; a
// url asking for less is refused.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch v := strings.ToLower(cfg.RuntimeParams["synchronous_commit"]); v {
	case "":
		cfg.RuntimeParams["synchronous_commit"] = "on"
	case "on", "remote_write", "remote_apply":
	default:
		return nil, fmt.Errorf("postgres: synchronous_commit=%s would acknowledge messages before they are durable; use on (the default)", v)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = 16
	}
	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.db = stdlib.OpenDB(*cfg)
	s.db.SetMaxOpenConns(maxConns)
	s.db.SetMaxIdleConns(maxConns)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, s.db, opts.Logger); err != nil {
		s.db.Close()
		return nil, err
	}
	s.Tables = sqlstore.New(sqlstore.Dialect{Name: "postgres", DB: s.db, RDB: s.db, Now: s.now,
		Precision: time.Microsecond, Write: s.write, Read: s.read, Violation: violation, Unreachable: unreachable,
		ClaimLock: " FOR UPDATE SKIP LOCKED", DeliveryClaimLock: " FOR UPDATE OF d SKIP LOCKED",
		EraseLock: " ORDER BY id FOR UPDATE"})
	s.startWriter()
	return s, nil
}

// Migrate applies the pending migrations to the database at url and
// returns; Open does the same before it serves.
func Migrate(ctx context.Context, url string, log *slog.Logger) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	return migrate(ctx, db, log)
}

func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	err = migration.Apply(ctx, db, migrations, migration.Options{Logger: log, Lock: advisoryLock})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// advisoryLock takes the migration lock on a connection of its own, which
// it keeps until unlock: a session lock lives as long as its connection.
func advisoryLock(ctx context.Context, db *sql.DB) (func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		// Closing the connection would release the lock too; unlocking
		// first lets the pool keep the connection.
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
		conn.Close()
	}, nil
}

// Close stops the writer, after the group commit in progress, and closes
// the pool. Appends still waiting fail.
func (s *Store) Close() error {
	werr := s.stopWriter()
	if s.stopBG != nil {
		s.stopBG()
	}
	return errors.Join(werr, s.db.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
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

// write runs fn in a read-committed transaction. Errors from fn are
// returned as they are, so fn decides how to report them, except that a
// lost connection is reported as the database being unavailable
// (unreachable), wherever it happened.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return unreachable(fmt.Errorf("postgres: %s: begin: %w", op, err))
	}
	if err := checkFence(ctx, tx); err != nil {
		_ = tx.Rollback()
		return unreachable(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return unreachable(err)
	}
	if err := tx.Commit(); err != nil {
		return unreachable(fmt.Errorf("postgres: %s: commit: %w", op, err))
	}
	return nil
}

// read runs fn in a read-only repeatable-read transaction, so that a
// record and its child rows come from one snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return unreachable(fmt.Errorf("postgres: %s: begin: %w", op, err))
	}
	defer tx.Rollback()
	return unreachable(fn(tx))
}

// PostgreSQL's error codes the store maps to domain errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// dbError maps constraint violations to domain errors and wraps anything
// else with op as an internal error (or the database being unavailable:
// unreachable). conflict is the message for a unique key taken; missing
// for a reference to a record that does not exist.
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
	return unreachable(fmt.Errorf("postgres: %s: %w", op, err))
}

// violation tells the shared queries which constraint err broke.
func violation(err error) sqlstore.Violation {
	var pge *pgconn.PgError
	if errors.As(err, &pge) {
		switch pge.Code {
		case codeUniqueViolation:
			return sqlstore.UniqueViolation
		case codeForeignKeyViolation:
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
	return unreachable(fmt.Errorf("postgres: %s: %w", op, err))
}

// bumpSequence moves the ID sequence of table past id, which the caller
// chose: identity columns do not notice explicit values, and the next
// generated ID must not collide with it.
func bumpSequence(ctx context.Context, tx *sql.Tx, table string, id int64) error {
	_, err := tx.ExecContext(ctx, `SELECT setval(seq, $2) FROM pg_get_serial_sequence($1, 'id') AS seq
		WHERE $2 > COALESCE(pg_sequence_last_value(seq::regclass), 0)`, table, id)
	if err != nil {
		return fmt.Errorf("postgres: advance %s ids: %w", table, err)
	}
	return nil
}

// stamp returns t in UTC at microsecond precision, the finest PostgreSQL
// keeps, or the store's current time when t is zero.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// The column conversions of the shared queries (see package sqlstore).
func nullTime(t time.Time) any         { return sqlstore.NullTime(t) }
func timeOf(nt sql.NullTime) time.Time { return sqlstore.TimeOf(nt) }
func nullInt(n int64) any              { return sqlstore.NullInt(n) }
func nullBytes(b []byte) any           { return sqlstore.NullBytes(b) }
func nullString(s string) any          { return sqlstore.NullString(s) }
