// Package sqlstore holds the queries the SQLite and PostgreSQL stores
// share: both speak `$n` placeholders and the same logical schema, so one
// text serves both. Each store embeds a *Tables built from its Dialect,
// which brings what really differs: its pools, its transactions (the
// SQLite store wakes its checkpointer, the PostgreSQL one checks the
// routing fence), how a driver reports a broken constraint, and the row
// locks that let several PostgreSQL nodes claim work side by side.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// Violation is the kind of constraint an error broke.
type Violation int

// The constraints the stores map to domain errors.
const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
)

// Dialect is what one database brings to the shared queries.
type Dialect struct {
	// Name starts every wrapped error: "sqlite: select triggers: …".
	Name string
	// DB takes writes outside transactions; RDB answers reads outside
	// transactions (SQLite's read-only pool; PostgreSQL's one pool).
	DB, RDB *sql.DB
	// Now is the store's clock, for the times it stamps.
	Now func() time.Time
	// Precision is the finest time the database keeps (PostgreSQL:
	// microseconds); 0 keeps Go's.
	Precision time.Duration
	// Write runs fn in a write transaction and commits it; errors of fn
	// come back as they are.
	Write func(ctx context.Context, op string, fn func(*sql.Tx) error) error
	// Read runs fn in a read-only transaction over one snapshot.
	Read func(ctx context.Context, op string, fn func(*sql.Tx) error) error
	// Violation tells which constraint err broke, if any.
	Violation func(err error) Violation
	// Unreachable, when set, turns an error that says the database
	// could not be reached into the store's retryable error (PostgreSQL:
	// EUNAVAILABLE with a delay) and returns any other as it is.
	Unreachable func(err error) error
	// ClaimLock ends the inner SELECT of a claim of outbox mail, and
	// DeliveryClaimLock that of webhook deliveries (alias d): PostgreSQL
	// locks the rows and skips those another node is taking; SQLite's one
	// writer needs nothing.
	ClaimLock, DeliveryClaimLock string
	// EraseLock ends the selection of the visitors an erasure deletes:
	// PostgreSQL locks their rows (" ORDER BY id FOR UPDATE"), so that a
	// chat another node starts for one of them waits for the erasure (its
	// foreign key check locks the visitor's row) and then finds the
	// visitor gone.
	EraseLock string
	// ChatTables are tables keyed by chat_id without a foreign key that
	// retention and erasure empty with a chat: SQLite's text index and
	// its backlog.
	ChatTables []string
}

// Tables implements the parts of parley.Store (and of the integration
// and webhook stores) whose queries are the same on every database:
// ratings and offline messages, visitors and attachments, canned
// responses, triggers, internal messages, the mail outbox, integrations,
// webhooks, and retention and erasure.
type Tables struct {
	name       string
	db, rdb    *sql.DB
	now        func() time.Time
	precision  time.Duration
	write      func(ctx context.Context, op string, fn func(*sql.Tx) error) error
	read       func(ctx context.Context, op string, fn func(*sql.Tx) error) error
	violation  func(error) Violation
	lost       func(error) error
	claimLock  string
	dlvLock    string
	eraseLock  string
	chatTables []string
}

// New returns the shared queries over d.
func New(d Dialect) *Tables {
	return &Tables{name: d.Name, db: d.DB, rdb: d.RDB, now: d.Now, precision: d.Precision,
		write: d.Write, read: d.Read, violation: d.Violation, lost: d.Unreachable, claimLock: d.ClaimLock, dlvLock: d.DeliveryClaimLock,
		eraseLock: d.EraseLock, chatTables: d.ChatTables}
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

// wrap adds the store's name and the operation to err, and makes a lost
// database connection the dialect's retryable error.
func (s *Tables) wrap(op string, err error) error {
	err = fmt.Errorf("%s: %s: %w", s.name, op, err)
	if s.lost != nil {
		err = s.lost(err)
	}
	return err
}

// dbError maps constraint violations to domain errors and wraps anything
// else with op. conflict is the message for a unique key taken; missing
// for a reference to a record that does not exist.
func (s *Tables) dbError(err error, op, conflict, missing string) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	switch s.violation(err) {
	case UniqueViolation:
		if conflict != "" {
			return parley.Errorf(parley.ECONFLICT, "%s", conflict)
		}
	case ForeignKeyViolation:
		if missing != "" {
			return parley.Errorf(parley.EINVALID, "%s", missing)
		}
	}
	return s.wrap(op, err)
}

// notFound turns sql.ErrNoRows into ENOTFOUND with msg and wraps anything
// else with op.
func (s *Tables) notFound(err error, op, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "%s", msg)
	}
	return s.wrap(op, err)
}

// stamp returns t in UTC at the database's precision, or the store's
// current time when t is zero.
func (s *Tables) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	t = t.UTC()
	if s.precision > 0 {
		t = t.Truncate(s.precision)
	}
	return t
}

// NullTime stores a zero time as NULL and any other in UTC.
func NullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// TimeOf reads a nullable time column back as UTC, NULL as zero.
func TimeOf(nt sql.NullTime) time.Time {
	if !nt.Valid {
		return time.Time{}
	}
	return nt.Time.UTC()
}

// NullInt stores a zero id as NULL.
func NullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// NullBytes stores an empty byte slice as NULL.
func NullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// NullString stores an empty string as NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
