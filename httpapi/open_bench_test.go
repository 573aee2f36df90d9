package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
)

// BenchmarkSessionOpen opens a visitor's WebSocket session that resumes at
// its chat's end, as a reconnecting widget does, and closes it: the
// upgrade, hello, ready and the chat's snapshot. The client runs in the
// same process; compare runs, not absolute times.
func BenchmarkSessionOpen(b *testing.B) {
	ts := testserver.Start(b, testserver.Options{
		Groups: []*parley.Group{{ID: 1, Name: "Support"}},
		Agents: []*parley.Agent{testserver.Agent("agent1", "Alice", 1)},
	})
	ctx := context.Background()
	// A logged-in agent who is not ready keeps the group open and the
	// chat queued.
	a, err := ts.Store.AgentByLogin(ctx, parley.DefaultTenantID, "agent1")
	if err != nil {
		b.Fatal(err)
	}
	agent := conversation.Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}
	if _, err := ts.Svc.SetPresence(ctx, agent, conversation.PresenceChange{Presence: parley.PresenceAvailable, Status: parley.StatusNotReady}); err != nil {
		b.Fatal(err)
	}
	res, err := ts.Svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "Vera"}})
	if err != nil {
		b.Fatal(err)
	}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": res.VisitorToken,
		"chats": map[string]int64{res.Chat.ID: res.Chat.LastSeq}})
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/ws"
	b.ReportAllocs()
	dropped := 0
	for b.Loop() {
		for !openOnce(b, ctx, url, hello) {
			dropped++
		}
	}
	// Connections closed by the server before their first frame; 0 since
	// closes from outside the event loop only shut the socket down
	// (wsnb.loopClosed).
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
}

// openOnce opens and closes one session; it reports false when the server
// dropped the connection before its first frame.
func openOnce(b *testing.B, ctx context.Context, url string, hello []byte) bool {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		b.Fatal(err)
	}
	for frames := 0; ; frames++ {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if frames == 0 && errors.Is(err, io.EOF) {
				return false
			}
			b.Fatal(err)
		}
		var f httpapi.ServerFrame
		if err := json.Unmarshal(data, &f); err != nil {
			b.Fatal(err)
		}
		if f.Type == "error" {
			b.Fatalf("error frame: %s", data)
		}
		if f.Type == "chat" {
			return true
		}
	}
}
