package micc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/natsbus"
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
}

const password = "test-password-123"

func newServer(t testing.TB, cfg conversation.Config, opts ...micc.Options) *server {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus, err := natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.FilesDir = filepath.Join(dir, "files")
	svc := conversation.New(store, bus, cfg, nil)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	err = svc.Seed(ctx, []*parley.Group{
		{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support", WelcomeMessage: "Welcome to Support.", QueueMessage: "Thank you for waiting.", ClosedMessage: "Support is closed."},
		{ID: 2, TenantID: parley.DefaultTenantID, Name: "Sales"},
		{ID: 3, TenantID: parley.DefaultTenantID, Name: "Closed", ClosedMessage: "We are closed."},
	}, []*parley.Agent{{
		TenantID: parley.DefaultTenantID, Login: "agent1", DisplayName: "Alice", Role: parley.RoleAgent, Capacity: 50,
		Presence: parley.PresenceOffline, Status: parley.StatusReady,
		Groups: []parley.Membership{{GroupID: 1}, {GroupID: 2}},
	}}, password)
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(svc, httpapi.Options{PingInterval: time.Minute})
	opt := micc.Options{AllowedOrigins: []string{"https://shop.example"}}
	if len(opts) > 0 {
		opt = opts[0]
	}
	mh := micc.New(svc, opt)
	ts := httptest.NewServer(mh.Wrap(api.Handler(nil)))
	t.Cleanup(func() {
		mh.Shutdown()
		api.Shutdown()
		ts.Close()
		svc.Close()
		bus.Close()
		store.Close()
	})
	return &server{t: t, URL: ts.URL, svc: svc, store: store, micc: mh}
}

// do sends a request and returns the status and body.
func (s *server) do(method, path, token string, body []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, data
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
	var res struct{ Token string }
	out := s.native(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": password})
	if err := json.Unmarshal(out, &res); err != nil || res.Token == "" {
		s.t.Fatalf("login: %s", out)
	}
	return res.Token
}

// presence sets the agent's presence and status.
func (s *server) presence(token, presence, status string) {
	s.t.Helper()
	s.native(200, "PUT", "/api/v1/me/presence", token, map[string]string{"presence": presence, "status": status})
}

// offeredChat waits until a chat is offered to the agent and returns its
// (native) ID.
func (s *server) offeredChat(token string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var chats []struct {
			ID        string `json:"id"`
			OfferedTo int64  `json:"offered_to"`
		}
		if err := json.Unmarshal(s.native(200, "GET", "/api/v1/me/chats", token, nil), &chats); err != nil {
			s.t.Fatal(err)
		}
		for _, c := range chats {
			if c.OfferedTo != 0 {
				return c.ID
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatal("no chat was offered within 10 s")
	return ""
}

// parleyID returns the Parley chat ID inside a MiCC ChatID.
func parleyID(chatID string) string {
	id, _, _ := strings.Cut(chatID, ".")
	return id
}
