package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/sqlite"
)

// server is the real API over a real SQLite store and embedded NATS, with
// groups Support (1) and Sales (2), agent1 in both and agent2 in Support.
type server struct {
	t     *testing.T
	URL   string
	svc   *conversation.Service
	store *sqlite.Store
	api   *httpapi.Server
	ts    *testserver.Server
}

const password = testserver.Password

func newServer(t *testing.T, cfg conversation.Config, capacity int, opts ...httpapi.Options) *server {
	t.Helper()
	return newServerWith(t, cfg, capacity, nil, opts...)
}

// newServerWith is newServer whose service uses wrap(store) (the store
// itself when wrap is nil).
func newServerWith(t *testing.T, cfg conversation.Config, capacity int, wrap func(parley.Store) parley.Store, opts ...httpapi.Options) *server {
	t.Helper()
	agent := func(login, name string, groups ...int64) *parley.Agent {
		a := testserver.Agent(login, name, groups...)
		a.Capacity = capacity
		return a
	}
	admin := agent("admin", "Admin")
	admin.Role = parley.RoleAdmin
	opt := httpapi.Options{PingInterval: time.Minute}
	if len(opts) > 0 {
		opt = opts[0]
	}
	ts := testserver.Start(t, testserver.Options{
		Config: cfg,
		Groups: []*parley.Group{
			{ID: 1, Name: "Support", WelcomeMessage: "Welcome!"},
			{ID: 2, Name: "Sales"},
		},
		Agents:    []*parley.Agent{agent("agent1", "Alice", 1, 2), agent("agent2", "Bob", 1), admin},
		API:       opt,
		WrapStore: wrap,
	})
	return &server{t: t, URL: ts.URL, svc: ts.Svc, store: ts.Store, api: ts.API, ts: ts}
}

// call makes a JSON request and decodes the response into out (when not
// nil), whatever its status. It returns the status code.
func (s *server) call(method, path, token string, body, out any) int {
	s.t.Helper()
	status, data := s.ts.Do(method, path, token, body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: decoding %q: %v", method, path, data, err)
		}
	}
	return status
}

// must makes a call that must answer want.
func (s *server) must(want int, method, path, token string, body, out any) {
	s.t.Helper()
	s.ts.Must(want, method, path, token, body, out)
}

// fail makes a call that must fail with status and error code.
func (s *server) fail(status int, code, method, path, token string, body any) {
	s.t.Helper()
	var e httpapi.ErrorBody
	got := s.call(method, path, token, body, &e)
	if got != status || e.Error.Code != code || e.Error.Message == "" {
		s.t.Fatalf("%s %s = %d %+v; want %d with code %q and a message", method, path, got, e, status, code)
	}
}

func (s *server) login(login string) string {
	s.t.Helper()
	return s.ts.Login(login)
}

func (s *server) presence(token, presence string) {
	s.t.Helper()
	s.ts.Presence(token, presence, "")
}

// requestChat starts a chat as a new visitor.
func (s *server) requestChat(group int64, name string) httpapi.ChatStartedBody {
	s.t.Helper()
	var res httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": group, "name": name, "message": "Hello from " + name}, &res)
	return res
}

func (s *server) lastSeq(chatID string) int64 {
	s.t.Helper()
	c, err := s.store.Chat(context.Background(), chatID)
	if err != nil {
		s.t.Fatal(err)
	}
	return c.LastSeq
}

// wsClient is a WebSocket session that collects the frames it receives.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan httpapi.ServerFrame
	ready  httpapi.ServerFrame
	refs   int
	// readErr is why reading ended; set before frames is closed.
	readErr error
}

// dial opens a WebSocket, says hello with token and resume points, and
// waits for ready.
func (s *server) dial(token string, chats map[string]int64) *wsClient {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: s.t, conn: conn, frames: make(chan httpapi.ServerFrame, 1000)}
	go func() {
		defer close(c.frames)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.readErr = err
				return
			}
			var f httpapi.ServerFrame
			if err := json.Unmarshal(data, &f); err != nil {
				panic(fmt.Sprintf("bad frame %q: %v", data, err))
			}
			c.frames <- f
		}
	}()
	s.t.Cleanup(func() { conn.CloseNow() })
	c.write(map[string]any{"type": "hello", "token": token, "chats": chats})
	c.ready = c.expect("ready", func(f httpapi.ServerFrame) bool { return f.Type == "ready" })
	return c
}

func (c *wsClient) write(v any) {
	c.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) writeRaw(data string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		c.t.Fatal(err)
	}
}

// expect returns the first frame matching match, failing after 10 s.
// Frames before it are dropped.
func (c *wsClient) expect(what string, match func(httpapi.ServerFrame) bool) httpapi.ServerFrame {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	var skipped []string // what came instead, for the failure message
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %s; skipped %v", what, skipped)
			}
			if match(f) {
				return f
			}
			skipped = append(skipped, f.Type+" "+f.ChatID)
		case <-deadline:
			c.t.Fatalf("no %s within 10 s; skipped %v", what, skipped)
		}
	}
}

// event waits for an event of chatID matching match.
func (c *wsClient) event(what, chatID string, match func(*parley.Event) bool) *parley.Event {
	c.t.Helper()
	return c.expect(what, func(f httpapi.ServerFrame) bool {
		return f.Type == "event" && f.Event.ChatID == chatID && match(f.Event)
	}).Event
}

// send sends a message over the socket and waits for its ack.
func (c *wsClient) send(chatID, text string) *parley.Event {
	c.t.Helper()
	c.refs++
	ref := fmt.Sprintf("r%d", c.refs)
	c.write(map[string]any{"type": "send", "ref": ref, "chat_id": chatID, "text": text})
	f := c.expect("ack "+ref, func(f httpapi.ServerFrame) bool { return f.Ref == ref })
	if f.Type != "ack" {
		c.t.Fatalf("send %q: %+v", text, f.Error)
	}
	return f.Event
}

func isMessage(text string) func(*parley.Event) bool {
	return func(e *parley.Event) bool { return e.Type == parley.EventMessage && e.Text == text }
}

func isState(state parley.State) func(*parley.Event) bool {
	return func(e *parley.Event) bool {
		return e.Type == parley.EventState && e.State != nil && e.State.State == state
	}
}
