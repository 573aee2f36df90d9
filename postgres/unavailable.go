package postgres

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleychat/parley"
)

// RetryAfter is the delay a client is told to wait before it tries again
// a request refused because the database could not be reached.
const RetryAfter = 2 * time.Second

// errUnavailable is what clients are told when the database cannot be
// reached (a restart, a fail-over, the network): EUNAVAILABLE with a
// delay, which the transports send as 503 and Retry-After or an error
// frame of code "unavailable". Nothing was stored, except in one case: a
// commit whose answer was lost with the connection may have been, and a
// retry with the same client_id then gets the stored event.
var errUnavailable = &parley.RetryError{
	Err:   parley.Errorf(parley.EUNAVAILABLE, "The database cannot be reached; please try again."),
	After: RetryAfter,
}

// unavailableError is a lost or refused connection to the database: its
// code and message are errUnavailable's, its text (for the log) the
// cause's.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{errUnavailable, e.cause} }

// unreachable returns err as an unavailableError when it says the
// database could not be reached or the connection was lost, and err
// itself otherwise.
func unreachable(err error) error {
	var u *unavailableError
	if err == nil || errors.As(err, &u) || !connectionLost(err) {
		return err
	}
	return &unavailableError{cause: err}
}

// isUnavailable reports whether err is the database being out of reach.
func isUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// connectionLost reports whether err is a failure of the connection rather
// than of the statement: PostgreSQL shutting down or starting up, a
// connection refused, broken or closed.
func connectionLost(err error) bool {
	var pge *pgconn.PgError
	if errors.As(err, &pge) {
		switch pge.Code {
		case "57P01", "57P02", "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		}
		return strings.HasPrefix(pge.Code, "08") // connection exception
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err)
}
