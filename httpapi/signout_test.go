package httpapi_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/conversation"
)

// A sign-out everywhere and a disable end the agent's open consoles too,
// not only the stored sessions: the socket closes with 4001 and nothing
// more reaches it.
func TestSignOutClosesOpenSockets(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	admin := s.login("admin")
	var me struct {
		ID int64 `json:"id"`
	}
	for _, action := range []string{"sign-out", "disable"} {
		tok := s.login("agent2")
		s.must(200, "GET", "/api/v1/me", tok, nil, &me)
		ws := s.dial(tok, nil)
		s.must(200, "POST", "/api/v1/admin/agents/"+strconv.FormatInt(me.ID, 10)+"/"+action, admin, nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		closed := false
		for !closed {
			select {
			case _, ok := <-ws.frames:
				closed = !ok
			case <-ctx.Done():
				t.Fatalf("%s: the agent's socket is still open", action)
			}
		}
		cancel()
		if code := websocket.CloseStatus(ws.readErr); code != 4001 {
			t.Fatalf("%s: the socket closed with %v; want 4001", action, ws.readErr)
		}
		if action == "disable" {
			s.must(200, "POST", "/api/v1/admin/agents/"+strconv.FormatInt(me.ID, 10)+"/enable", admin, nil, nil)
		}
	}
}
