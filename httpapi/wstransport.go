package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/parleychat/parley/internal/wsnb"
)

// The WebSocket transport is internal/wsnb: net/http serves every route,
// the upgrade request included; after the handshake the socket moves to
// an nbio engine (epoll), which reads it only when data arrives, and one
// keep-alive wheel per server pings quiet peers. This file binds a
// session to its connection.

// wsTransport carries a session's frames (a *wsnb.Conn).
type wsTransport interface {
	// WriteText queues a text frame; it does not block.
	WriteText(data []byte) error
	// Ping queues a ping.
	Ping() error
	// Close sends a close frame and closes the connection once the peer
	// answers, or after wsnb.CloseWait.
	Close(code int, reason string)
	// Abort closes the connection at once.
	Abort()
}

var errNotText = fmt.Errorf("frames must be text")

// wsEvents is a session's side of the event loop.
type wsEvents struct{ c *wsConn }

func (e wsEvents) OnOpen() { e.c.opened() }

func (e wsEvents) OnMessage(text bool, data []byte) {
	if !text {
		e.c.Hear(e.c.srv.now())
		e.c.send(errorFrame("", errNotText))
		return
	}
	e.c.onFrame(data)
}

func (e wsEvents) OnPong()  { e.c.Hear(e.c.srv.now()) }
func (e wsEvents) OnClose() { e.c.closed() }

// Ping and Abort make a session a keep-alive peer.
func (c *wsConn) Ping() error { return c.conn.Ping() }
func (c *wsConn) Abort()      { c.conn.Abort() }

// websocket upgrades a request to a session.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	key, status, why := s.checkUpgrade(r)
	if status != 0 {
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, why, status)
		return
	}
	c := s.newSession(r)
	err := s.ws.Accept(w, key, func(conn *wsnb.Conn) wsnb.Handler {
		c.conn = conn
		return wsEvents{c}
	})
	if err != nil {
		s.log.Warn("websocket: take the socket", "err", err)
	}
}

// checkUpgrade checks a WebSocket handshake request: it returns the
// client's key, or the status and reason of the refusal.
func (s *Server) checkUpgrade(r *http.Request) (key string, status int, why string) {
	key, status, why = wsnb.CheckHandshake(r)
	if status != 0 {
		return "", status, why
	}
	if !s.wsOriginAllowed(r) {
		return "", http.StatusForbidden, "origin not allowed"
	}
	return key, 0, ""
}

// wsOriginAllowed reports whether a page of the request's origin may open
// a WebSocket: its own origin, or one matching an allowed origin
// (scheme://host, or a bare host; shell patterns such as *.example.com
// allowed), as coder/websocket matched them before.
func (s *Server) wsOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || sameOrigin(r) || s.originAllowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	for _, p := range s.opt.AllowedOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}
