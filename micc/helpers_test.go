package micc_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/sqlite"
)

// server is the native API and the Chat service on one listener over one
// conversation.Service, with a real SQLite store and embedded NATS. Groups:
// Support (1, with queue and welcome messages), Sales (2) and Closed (3,
// no members). agent1 (Alice) is in Support and Sales.
type server struct {
	t     testing.TB
	URL   string
	svc   *conversation.Service
	store *sqlite.Store
	micc  *micc.Handler
	ts    *testserver.Server
}

const password = testserver.Password

func newServer(t testing.TB, cfg conversation.Config, opts ...micc.Options) *server {
	t.Helper()
	agent1 := testserver.Agent("agent1", "Alice", 1, 2)
	agent1.Capacity = 50
	opt := micc.Options{AllowedOrigins: []string{"https://shop.example"}}
	if len(opts) > 0 {
		opt = opts[0]
	}
	ts := testserver.Start(t, testserver.Options{
		Config: cfg,
		Groups: []*parley.Group{
			{ID: 1, Name: "Support", WelcomeMessage: "Welcome to Support.", QueueMessage: "Thank you for waiting.", ClosedMessage: "Support is closed."},
			{ID: 2, Name: "Sales"},
			{ID: 3, Name: "Closed", ClosedMessage: "We are closed."},
		},
		Agents: []*parley.Agent{agent1},
		API:    httpapi.Options{PingInterval: time.Minute},
		MICC:   &opt,
	})
	return &server{t: t, URL: ts.URL, svc: ts.Svc, store: ts.Store, micc: ts.MICC, ts: ts}
}

// do sends a request, as MiCC clients do with a JSON content type
// whatever the body, and returns the status and body.
func (s *server) do(method, path, token string, body []byte) (int, []byte) {
	s.t.Helper()
	req := s.ts.NewRequest(method, path, token, body)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return s.ts.Send(req)
}

// native calls the native API as an agent and requires status want.
func (s *server) native(want int, method, path, token string, body any) []byte {
	s.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			s.t.Fatal(err)
		}
	}
	got, out := s.do(method, path, token, data)
	if got != want {
		s.t.Fatalf("%s %s = %d %s; want %d", method, path, got, out, want)
	}
	return out
}

// login signs agent1 in and returns its token.
func (s *server) login() string {
	s.t.Helper()
	return s.ts.Login("agent1")
}

// presence sets the agent's presence and status.
func (s *server) presence(token, presence, status string) {
	s.t.Helper()
	s.ts.Presence(token, presence, status)
}

// offeredChat waits until a chat is offered to the agent and returns its
// (native) ID.
func (s *server) offeredChat(token string) string {
	s.t.Helper()
	return s.ts.OfferedChat(token)
}

// parleyID returns the Parley chat ID inside a MiCC ChatID.
func parleyID(chatID string) string {
	id, _, _ := strings.Cut(chatID, ".")
	return id
}
