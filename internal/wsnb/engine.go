// Package wsnb carries server WebSockets on one nbio event loop (epoll).
// net/http serves the upgrade request; after the handshake the socket
// moves to the loop, which reads it only when data arrives. A connection
// then holds no goroutine and no net/http buffers: its idle cost is its
// nbio state and its handler's own. The native API (httpapi) and the
// Rocket.Chat dialect (rocketchat) both use it, with one KeepAlive wheel
// each.
package wsnb

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// Handler receives the events of one connection. The loop calls it one
// frame at a time, in order.
type Handler interface {
	// OnOpen runs once the connection is on the loop, before the
	// handshake's answer is written, so before any frame arrives.
	OnOpen()
	// OnMessage handles one whole message; text tells text from binary.
	OnMessage(text bool, data []byte)
	// OnPong runs when the peer answers a ping.
	OnPong()
	// OnClose runs once when the connection is gone.
	OnClose()
}

// CloseWait bounds how long a closing connection waits for the peer's
// close frame.
const CloseWait = 2 * time.Second

// MaxWriteBuffer bounds what a connection may have queued and not yet
// written; a peer that falls further behind is dropped and resumes later.
const MaxWriteBuffer = 1 << 20

// ErrShuttingDown is returned by Start after Stop.
var ErrShuttingDown = errors.New("server is shutting down")

// Engine is the event loop of a server's WebSockets.
type Engine struct {
	engine   *nbhttp.Engine
	upgrader *websocket.Upgrader

	mu      sync.Mutex
	started bool
	stopped bool
}

// NewEngine returns an engine that accepts messages up to maxFrame bytes.
// It starts on first use (Start).
func NewEngine(name string, maxFrame int) *Engine {
	// nbio logs each engine start and stop, and every refused socket, by
	// itself; the caller logs what matters.
	logging.SetLevel(logging.LevelError)
	e := &Engine{}
	e.engine = nbhttp.NewEngine(nbhttp.Config{
		Name:                    name,
		NPoller:                 1,
		MaxWriteBufferSize:      MaxWriteBuffer,
		ReleaseWebsocketPayload: true,
		SupportServerOnly:       true,
	})
	u := websocket.NewUpgrader()
	u.Engine = e.engine
	u.MessageLengthLimit = maxFrame
	u.KeepaliveTime = 0 // a KeepAlive wheel watches the peers
	u.OnMessage(func(wsc *websocket.Conn, typ websocket.MessageType, data []byte) {
		if h, _ := wsc.Session().(Handler); h != nil {
			h.OnMessage(typ == websocket.TextMessage, data)
		}
	})
	u.SetPongHandler(func(wsc *websocket.Conn, _ string) {
		if h, _ := wsc.Session().(Handler); h != nil {
			h.OnPong()
		}
	})
	u.OnClose(func(wsc *websocket.Conn, _ error) {
		if h, _ := wsc.Session().(Handler); h != nil {
			h.OnClose()
		}
	})
	e.upgrader = u
	return e
}

// Start runs the event loop on first use.
func (e *Engine) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return ErrShuttingDown
	}
	if !e.started {
		if err := e.engine.Start(); err != nil {
			return err
		}
		e.started = true
	}
	return nil
}

// Stop ends the loop and closes its connections; no loop starts after.
func (e *Engine) Stop() {
	e.mu.Lock()
	started := e.started && !e.stopped
	e.stopped = true
	e.mu.Unlock()
	if started {
		e.engine.Stop()
	}
}

// Accept takes the socket of a checked handshake request (see
// CheckHandshake) onto the loop. bind gets the connection and returns its
// handler; it runs before any event. Accept answers the request itself
// when it cannot take the socket, and returns the error to log, if any.
func (e *Engine) Accept(w http.ResponseWriter, key string, bind func(*Conn) Handler) error {
	if err := e.Start(); err != nil {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return nil
	}
	raw, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return nil
	}
	if brw.Reader.Buffered() > 0 {
		// A client may not send frames before the handshake's answer.
		raw.Close()
		return nil
	}
	nbc, err := nbio.NBConn(raw) // takes the socket; raw is closed
	if err != nil {
		raw.Close()
		return err
	}
	wsc := websocket.NewServerConn(e.upgrader, loopClosed{nbc}, "", false, false)
	wsc.Engine = e.engine
	wsc.Execute = nbc.Execute // one frame at a time, in order
	h := bind(&Conn{wsc: wsc})
	wsc.SetSession(h)
	nbc.SetSession(wsc)
	nbc.OnData(func(nc *nbio.Conn, data []byte) {
		if err := wsc.Parse(data); err != nil {
			_ = nc.CloseWithError(err)
		}
	})
	if err := e.engine.AddTransferredConn(nbc); err != nil {
		return nil // closed by the engine
	}
	h.OnOpen()
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := nbc.Write([]byte(resp)); err != nil {
		_ = loopClosed{nbc}.Close()
	}
	return nil
}

// CheckHandshake checks the WebSocket part of a handshake request (not
// its origin): it returns the client's key, or the status and reason of
// the refusal. A 426 refusal should carry Sec-WebSocket-Version: 13.
func CheckHandshake(r *http.Request) (key string, status int, why string) {
	if !HeaderHas(r.Header, "Connection", "upgrade") || !HeaderHas(r.Header, "Upgrade", "websocket") {
		return "", http.StatusUpgradeRequired, "this endpoint needs a WebSocket upgrade"
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", http.StatusUpgradeRequired, "unsupported WebSocket version"
	}
	key = r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return "", http.StatusBadRequest, "missing Sec-WebSocket-Key"
	}
	return key, 0, ""
}

// HeaderHas reports whether a comma-separated header lists token (in any
// case).
func HeaderHas(h http.Header, name, token string) bool {
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

// loopClosed is a connection whose Close, from any goroutine, only shuts
// the socket down; the event loop then sees the hang-up and closes the
// descriptor itself. nbio finds connections by descriptor number, and a
// descriptor closed outside the loop can be reused by a new socket before
// the loop has handled an event it already fetched for the old one, such
// as the peer's hang-up, which would then close the new socket.
type loopClosed struct{ *nbio.Conn }

// Close shuts the socket down, unless it is closed already: under the
// connection's lock an open connection's descriptor is still its own.
func (c loopClosed) Close() error {
	c.Lock()
	closed, _ := c.IsClosed()
	var err error
	if !closed {
		var raw syscall.RawConn
		if raw, err = c.SyscallConn(); err == nil {
			cerr := raw.Control(func(fd uintptr) { err = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
			if cerr != nil {
				err = cerr
			}
		}
	}
	c.Unlock()
	switch {
	case closed, err == nil:
		return nil
	case errors.Is(err, syscall.ENOTCONN):
		// Reset by the peer: the loop has the hang-up and closes it.
		return nil
	default:
		return c.Conn.Close()
	}
}

// Conn is one connection on the loop. Its writes are queued and never
// block.
type Conn struct {
	wsc     *websocket.Conn
	closing sync.Once
}

// WriteText queues a text frame.
func (n *Conn) WriteText(data []byte) error {
	return n.wsc.WriteMessage(websocket.TextMessage, data)
}

// Ping queues a ping.
func (n *Conn) Ping() error { return n.wsc.WriteMessage(websocket.PingMessage, nil) }

// Close sends a close frame and closes the connection once the peer
// answers, or after CloseWait.
func (n *Conn) Close(code int, reason string) {
	n.closing.Do(func() {
		if err := n.wsc.WriteClose(code, reason); err != nil {
			n.Abort()
			return
		}
		// The peer answers the close frame and the engine closes the
		// socket; a peer that does not is cut off.
		time.AfterFunc(CloseWait, n.Abort)
	})
}

// Abort closes the connection at once.
func (n *Conn) Abort() { _ = n.wsc.Close() }
