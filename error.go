package parley

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each transport maps them once (HTTP status, WebSocket close
// code, dialect fault); the code and message are safe to show to clients.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // the thing does not exist or is not visible to the caller
	ECONFLICT     = "conflict"     // the thing changed or is in the wrong state
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials are fine but do not allow this
	ECLOSED       = "closed"       // the service group is closed or the chat has ended
	ETOOLARGE     = "too_large"    // a message, file or body exceeds its limit
	ETOOMANY      = "too_many"     // too many attempts; retry after a while
	ETIMEOUT      = "timeout"      // the client took too long to send its request
	EUNAVAILABLE  = "unavailable"  // the server is at a configured load limit; retry later
	EINTERNAL     = "internal"     // anything else; details are logged, never shown
)

// Error is the one error type of the domain. Code is one of the E… constants.
type Error struct {
	Code    string
	Message string
	// Field names the request field at fault ("name",
	// "routing.time_zone"), when one is; forms show the message next to it.
	Field string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("parley: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error about one field of a request.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorField returns the field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err: the message of an
// *Error, or a generic text for anything else.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// RetryError is an error that says when the client may try again: a limit
// (ETOOMANY) or the load (EUNAVAILABLE) refused it for now. Transports
// send the delay where they can (HTTP Retry-After).
type RetryError struct {
	Err   *Error
	After time.Duration
}

// Error implements the error interface.
func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns the domain error, so its code and message apply.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the delay err carries, 0 when it carries none.
func RetryAfter(err error) time.Duration {
	var r *RetryError
	if errors.As(err, &r) {
		return r.After
	}
	return 0
}
