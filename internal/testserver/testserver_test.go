package testserver_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/web"
)

// TestStackServesAChat starts every part and follows a chat from a
// visitor's request to the agent's offer.
func TestStackServesAChat(t *testing.T) {
	var wrapped atomic.Bool // set by the server's goroutine
	s := testserver.Start(t, testserver.Options{
		Groups:   []*parley.Group{{ID: 1, Name: "Support"}},
		Agents:   []*parley.Agent{testserver.Agent("agent1", "Alice", 1)},
		Password: "another-password-1",
		MICC:     &micc.Options{},
		Web:      func(*testserver.Server) web.Options { return web.Options{} },
		Wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wrapped.Store(true)
				h.ServeHTTP(w, r)
			})
		},
	})
	tok := s.Login("agent1")
	s.Presence(tok, "available", "ready")
	var started httpapi.ChatStartedBody
	s.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hi"}, &started)
	if got := s.OfferedChat(tok); got != started.Chat.ID {
		t.Errorf("offered %q, want the requested chat %q", got, started.Chat.ID)
	}
	if !wrapped.Load() {
		t.Error("the request did not pass through Wrap")
	}

	// The web UI answers behind the API, and the MiCC service before it.
	if st, body := s.Do("GET", "/", "", nil); st != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Errorf("GET / = %d %.80q; want the console page", st, body)
	}
	if st, body := s.Do("POST", "/ChatService/NoSuchMethod", "", "{}"); st == http.StatusOK || !strings.Contains(string(body), "unknown method") {
		t.Errorf("MiCC unknown method = %d %q; want a MiCC fault", st, body)
	}

	// A wrong password is refused: the seed password is the one given.
	if st, _ := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": testserver.Password}); st != http.StatusUnauthorized {
		t.Errorf("login with the default password = %d; want 401", st)
	}
}
