// Package bodytimeout cuts off clients that send a request body too
// slowly. http.Server's ReadTimeout would also end long-polls and
// WebSockets, which read nothing for minutes; this deadline covers only
// the body and is lifted once the body has been read.
package bodytimeout

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/parleychat/parley"
)

// Chunk is how much of a body must arrive within the timeout to earn the
// next timeout: a small body must arrive whole in time, a large upload
// at no less than Chunk per timeout.
const Chunk = 64 << 10

// Wrap returns next with a body deadline: a request whose body does not
// arrive in time, or whose large body slows below Chunk per timeout, is
// answered by refuse (with an ETIMEOUT error, for a 408) and its
// connection closed. Requests without a body are not affected. A timeout
// of 0 or less turns the deadline off.
func Wrap(next http.Handler, timeout time.Duration, refuse func(http.ResponseWriter, *http.Request, error)) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			next.ServeHTTP(w, r) // the connection has no deadlines
			return
		}
		cw := &cutWriter{ResponseWriter: w}
		r.Body = &body{ReadCloser: r.Body, rc: rc, timeout: timeout, w: cw, refuse: func(w http.ResponseWriter, err error) { refuse(w, r, err) }}
		next.ServeHTTP(cw, r)
	})
}

// body is a request body under a read deadline.
type body struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	got     int // bytes since the deadline was last set
	done    bool
	w       *cutWriter
	refuse  func(http.ResponseWriter, error)
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.got += n
	switch {
	case err == io.EOF:
		// The body is in: whatever the handler does now (a long-poll)
		// is not bounded by this deadline.
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil && isTimeout(err):
		b.done = true
		b.w.cut(b.refuse)
		return n, parley.Errorf(parley.ETIMEOUT, "the request body did not arrive in time")
	case b.got >= Chunk:
		b.got = 0
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// cutWriter answers 408 for a handler whose body timed out and drops what
// the handler writes after that.
type cutWriter struct {
	http.ResponseWriter
	wrote, isCut bool
}

func (c *cutWriter) cut(refuse func(http.ResponseWriter, error)) {
	c.isCut = true
	if c.wrote {
		return // too late for a status; closing the connection must do
	}
	c.wrote = true
	c.ResponseWriter.Header().Set("Connection", "close")
	refuse(c.ResponseWriter, parley.Errorf(parley.ETIMEOUT, "the request body did not arrive in time"))
}

func (c *cutWriter) WriteHeader(status int) {
	if !c.isCut {
		c.wrote = true
		c.ResponseWriter.WriteHeader(status)
	}
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.isCut {
		return 0, http.ErrHandlerTimeout
	}
	c.wrote = true
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (Flush,
// deadlines, Hijack).
func (c *cutWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
