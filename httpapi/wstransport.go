package httpapi

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// The WebSocket transport. net/http serves every route, the upgrade
// request included; after the handshake the socket moves to an nbio
// engine (epoll), which reads it only when data arrives. A connection then
// holds no goroutine and no net/http buffers: its idle cost is its nbio
// state and the session's own.

// wsTransport carries a session's frames.
type wsTransport interface {
	// writeText queues a text frame; it does not block.
	writeText(data []byte) error
	// ping queues a ping.
	ping() error
	// close sends a close frame and closes the connection once the peer
	// answers, or after closeWait.
	close(code int, reason string)
	// abort closes the connection at once.
	abort()
}

// closeWait bounds how long a closing connection waits for the peer's
// close frame.
const closeWait = 2 * time.Second

// maxWriteBuffer bounds what a connection may have queued and not yet
// written; a peer that falls further behind is dropped and resumes later.
const maxWriteBuffer = 1 << 20

// wsEngine is the event loop of a server's WebSockets.
type wsEngine struct {
	engine   *nbhttp.Engine
	upgrader *websocket.Upgrader

	mu      sync.Mutex
	started bool
	stopped bool
}

func newWSEngine(s *Server) *wsEngine {
	// nbio logs each engine start and stop, and every refused socket, by
	// itself; Parley logs what matters.
	logging.SetLevel(logging.LevelError)
	e := &wsEngine{}
	e.engine = nbhttp.NewEngine(nbhttp.Config{
		Name:                    "parley-ws",
		NPoller:                 1,
		MaxWriteBufferSize:      maxWriteBuffer,
		ReleaseWebsocketPayload: true,
		SupportServerOnly:       true,
	})
	u := websocket.NewUpgrader()
	u.Engine = e.engine
	u.MessageLengthLimit = maxFrame
	u.KeepaliveTime = 0 // the keep-alive wheel watches the peers
	u.OnMessage(func(wsc *websocket.Conn, typ websocket.MessageType, data []byte) {
		c, _ := wsc.Session().(*wsConn)
		if c == nil {
			return
		}
		if typ != websocket.TextMessage {
			c.hear(s.now())
			c.send(errorFrame("", errNotText))
			return
		}
		c.onFrame(data)
	})
	u.SetPongHandler(func(wsc *websocket.Conn, _ string) {
		if c, _ := wsc.Session().(*wsConn); c != nil {
			c.hear(s.now())
		}
	})
	u.OnClose(func(wsc *websocket.Conn, _ error) {
		if c, _ := wsc.Session().(*wsConn); c != nil {
			c.closed()
		}
	})
	e.upgrader = u
	return e
}

// start runs the event loop on first use.
func (e *wsEngine) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errShuttingDown
	}
	if !e.started {
		if err := e.engine.Start(); err != nil {
			return err
		}
		e.started = true
	}
	return nil
}

func (e *wsEngine) stop() {
	e.mu.Lock()
	started := e.started && !e.stopped
	e.stopped = true
	e.mu.Unlock()
	if started {
		e.engine.Stop()
	}
}

var (
	errNotText      = fmt.Errorf("frames must be text")
	errShuttingDown = fmt.Errorf("server is shutting down")
)

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
	if err := s.ws.start(); err != nil {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	c := s.newSession(r)
	raw, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return
	}
	if brw.Reader.Buffered() > 0 {
		// A client may not send frames before the handshake's answer.
		raw.Close()
		return
	}
	nbc, err := nbio.NBConn(raw) // takes the socket; raw is closed
	if err != nil {
		s.log.Warn("websocket: take the socket", "err", err)
		raw.Close()
		return
	}
	wsc := websocket.NewServerConn(s.ws.upgrader, nbc, "", false, false)
	wsc.Engine = s.ws.engine
	wsc.Execute = nbc.Execute // one frame at a time, in order
	wsc.SetSession(c)
	c.conn = &nbioConn{wsc: wsc}
	nbc.SetSession(wsc)
	nbc.OnData(func(nc *nbio.Conn, data []byte) {
		if err := wsc.Parse(data); err != nil {
			_ = nc.CloseWithError(err)
		}
	})
	if err := s.ws.engine.AddTransferredConn(nbc); err != nil {
		return // closed by the engine
	}
	c.opened()
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := nbc.Write([]byte(resp)); err != nil {
		_ = nbc.Close()
	}
}

// checkUpgrade checks a WebSocket handshake request: it returns the
// client's key, or the status and reason of the refusal.
func (s *Server) checkUpgrade(r *http.Request) (key string, status int, why string) {
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		return "", http.StatusUpgradeRequired, "this endpoint needs a WebSocket upgrade"
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", http.StatusUpgradeRequired, "unsupported WebSocket version"
	}
	key = r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return "", http.StatusBadRequest, "missing Sec-WebSocket-Key"
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

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// nbioConn is a session's connection on the nbio engine.
type nbioConn struct {
	wsc     *websocket.Conn
	closing sync.Once
}

func (n *nbioConn) writeText(data []byte) error {
	return n.wsc.WriteMessage(websocket.TextMessage, data)
}

func (n *nbioConn) ping() error { return n.wsc.WriteMessage(websocket.PingMessage, nil) }

func (n *nbioConn) close(code int, reason string) {
	n.closing.Do(func() {
		if err := n.wsc.WriteClose(code, reason); err != nil {
			n.abort()
			return
		}
		// The peer answers the close frame and the engine closes the
		// socket; a peer that does not is cut off.
		time.AfterFunc(closeWait, n.abort)
	})
}

func (n *nbioConn) abort() { _ = n.wsc.Close() }

var _ net.Conn = (*nbio.Conn)(nil)
