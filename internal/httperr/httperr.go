// Package httperr writes Parley's JSON responses and errors for the HTTP
// dialects (the native API and the MiCC Chat service): one map from error
// codes to statuses and one writer, each dialect giving its own error
// shape and content type.
package httperr

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley"
)

// statusOf maps each error code to its HTTP status, once.
var statusOf = map[string]int{
	parley.EINVALID:      http.StatusBadRequest,
	parley.ENOTFOUND:     http.StatusNotFound,
	parley.ECONFLICT:     http.StatusConflict,
	parley.EUNAUTHORIZED: http.StatusUnauthorized,
	parley.EFORBIDDEN:    http.StatusForbidden,
	parley.ECLOSED:       http.StatusConflict,
	parley.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	parley.ETOOMANY:      http.StatusTooManyRequests,
	parley.ETIMEOUT:      http.StatusRequestTimeout,
	parley.EUNAVAILABLE:  http.StatusServiceUnavailable,
	parley.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code; unknown codes are 500.
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// RetryError is an error that tells the client when to try again; the
// writer sends its delay as Retry-After.
type RetryError = parley.RetryError

// RetryAfterSeconds is the Retry-After value of a delay: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// Dialect is one wire format's JSON responses.
type Dialect struct {
	// ContentType is the Content-Type of JSON responses.
	ContentType string
	// Shape returns the body of an error response.
	Shape func(code, message string) any
	// Newline ends each body with a line feed.
	Newline bool
	// FieldShape, when set, shapes the errors that name a request field
	// (parley.FieldErrorf), so forms can show them next to the field.
	FieldShape func(code, message, field string) any
}

// JSON writes v with status. Responses are never cached: they hold chat
// state or credentials.
func (d Dialect) JSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(d.Shape(parley.EINTERNAL, "Internal error."))
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	if d.Newline {
		data = append(data, '\n')
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// Error writes err in the dialect's shape with the status of its code, and
// Retry-After when err carries a delay.
func (d Dialect) Error(w http.ResponseWriter, err error) {
	code := parley.ErrorCode(err)
	if after := parley.RetryAfter(err); after > 0 {
		w.Header().Set("Retry-After", RetryAfterSeconds(after))
	}
	if f := parley.ErrorField(err); f != "" && d.FieldShape != nil {
		d.JSON(w, Status(code), d.FieldShape(code, parley.ErrorMessage(err), f))
		return
	}
	d.JSON(w, Status(code), d.Shape(code, parley.ErrorMessage(err)))
}
