package rocketchat_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/rocketchat"
)

// The legacy realtime flow: a guest registers, sends the first message
// (which creates the room), follows the three streams; the agent accepts
// on the native API, types and replies; the visitor's typing reaches the
// agent. Wrong tokens, unknown methods and malformed frames are refused
// as Meteor refuses them.
func TestDDPLegacyFlowAndStreams(t *testing.T) {
	s := start(t)
	agentTok := s.online()
	d := dial(t, s.URL+"/websocket", true)

	// Before connect only a ping is answered.
	d.sendRaw(`{"msg":"method","id":"x","method":"livechat:getInitialData","params":["t"]}`)
	if f := d.next("error", func(f map[string]any) bool { return f["msg"] == "error" }); f["reason"] != "Must connect first" {
		t.Fatalf("method before connect: %v", f)
	}
	d.connect()

	// Ping with and without id.
	d.sendRaw(`{"msg":"ping","id":"p-7"}`)
	if f := d.next("pong", func(f map[string]any) bool { return f["msg"] == "pong" }); f["id"] != "p-7" {
		t.Fatalf("pong = %v; want id p-7", f)
	}
	d.sendRaw(`{"msg":"ping"}`)
	if f := d.next("pong", func(f map[string]any) bool { return f["msg"] == "pong" }); f["id"] != nil {
		t.Fatalf("pong = %v; want no id", f)
	}
	// Malformed frames.
	for _, bad := range []string{`{"msg":`, `[1,2]`, `{"id":"1"}`, `{"msg":"bogus"}`} {
		d.sendRaw(bad)
		f := d.next("error for "+bad, func(f map[string]any) bool { return f["msg"] == "error" })
		if f["reason"] == "" {
			t.Fatalf("%s: %v", bad, f)
		}
	}
	// Unknown method: 404 as Meteor answers it.
	if f := d.call("no:such"); errorCode(f) != float64(404) {
		t.Fatalf("unknown method = %v; want error 404", f)
	}

	tok := "visitor-token-" + fmt.Sprint(time.Now().UnixNano())
	init := d.call("livechat:getInitialData", tok, nil)["result"].(map[string]any)
	if init["enabled"] != true || init["online"] != true || init["room"] != nil {
		t.Fatalf("initial data = %v", init)
	}
	if deps := init["departments"].([]any); len(deps) != 2 || deps[0].(map[string]any)["name"] != "Support" {
		t.Fatalf("departments = %v", deps)
	}

	// Registration: an unknown department is refused, a name works.
	if f := d.call("livechat:registerGuest", map[string]any{"token": tok, "name": "Vera", "department": "Nope"}); errorCode(f) != "error-invalid-department" {
		t.Fatalf("unknown department = %v", f)
	}
	reg := d.call("livechat:registerGuest", map[string]any{"token": tok, "name": "Vera", "email": "Vera@Example.com", "department": "Support"})["result"].(map[string]any)
	visitor := reg["visitor"].(map[string]any)
	if reg["userId"] == "" || visitor["token"] != tok || visitor["department"] != "1" {
		t.Fatalf("registerGuest = %v", reg)
	}
	if emails := visitor["visitorEmails"].([]any); emails[0].(map[string]any)["address"] != "vera@example.com" {
		t.Fatalf("email not lower-cased: %v", emails)
	}
	// Wrong types are a Match error (400).
	if f := d.call("sendMessageLivechat", map[string]any{"_id": 5, "rid": "r", "msg": "x", "token": tok}); errorCode(f) != float64(400) {
		t.Fatalf("wrong types = %v; want 400", f)
	}

	sent := d.call("sendMessageLivechat", map[string]any{"_id": "msg-1", "rid": "client-room", "msg": "hello", "token": tok})["result"].(map[string]any)
	if sent["_id"] != "msg-1" || sent["newRoom"] != true || sent["rid"] != "client-room" || sent["u"].(map[string]any)["_id"] != reg["userId"] {
		t.Fatalf("sendMessageLivechat = %v", sent)
	}
	if _, ok := sent["ts"].(map[string]any)["$date"].(float64); !ok {
		t.Fatalf("ts is not an EJSON date: %v", sent["ts"])
	}
	rid := "client-room"

	// Streams: a wrong token is not allowed; the right one is.
	if _, f := d.sub("stream-room-messages", rid, extra("wrong-token")); f["msg"] != "nosub" || errorCode(f) != "not-allowed" {
		t.Fatalf("wrong token sub = %v", f)
	}
	if _, f := d.sub("stream-room-messages", "", extra(tok)); errorCode(f) != "invalid-event-name" {
		t.Fatalf("empty event name = %v", f)
	}
	for _, sub := range [][2]string{{"stream-room-messages", rid}, {"stream-livechat-room", rid}, {"stream-notify-room", rid + "/typing"}, {"stream-notify-room", rid + "/user-activity"}} {
		if _, f := d.sub(sub[0], sub[1], extra(tok)); f["msg"] != "ready" {
			t.Fatalf("sub %v = %v", sub, f)
		}
	}
	if f := d.call("livechat:getAgentData", map[string]any{"roomId": rid, "token": "wrong-token"}); errorCode(f) != "error-invalid-room" {
		t.Fatalf("getAgentData with a wrong token = %v", f)
	}

	chatID := s.OfferedChat(agentTok)
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	args := d.event("stream-livechat-room", rid, func(a []any) bool { return a[0].(map[string]any)["type"] == "agentData" })
	if data := args[0].(map[string]any)["data"].(map[string]any); data["name"] != "Alice" {
		t.Fatalf("agentData = %v", data)
	}
	ag := d.call("livechat:getAgentData", map[string]any{"roomId": rid, "token": tok})["result"].(map[string]any)
	if ag["name"] != "Alice" || ag["username"] == "" {
		t.Fatalf("getAgentData = %v", ag)
	}

	// The agent types: both notify events show it.
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/typing", agentTok, map[string]bool{"typing": true}, nil)
	d.event("stream-notify-room", rid+"/typing", func(a []any) bool { return len(a) == 2 && a[1] == true && a[0] == ag["username"] })
	d.event("stream-notify-room", rid+"/user-activity", func(a []any) bool {
		act, _ := a[1].([]any)
		return len(act) == 1 && act[0] == "user-typing"
	})

	// The agent replies; the message arrives with the agent as author.
	s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "How can I help?"}, nil)
	args = d.event("stream-room-messages", rid, func(a []any) bool { return a[0].(map[string]any)["msg"] == "How can I help?" })
	m := args[0].(map[string]any)
	if m["u"].(map[string]any)["name"] != "Alice" || m["token"] != nil || m["rid"] != rid {
		t.Fatalf("agent message = %v", m)
	}
	if _, ok := m["ts"].(map[string]any)["$date"].(float64); !ok {
		t.Fatalf("ts is not an EJSON date: %v", m)
	}

	// The visitor types (the token held by the connection) and the agent
	// sees it.
	agent, err := s.Svc.Authenticate(context.Background(), agentTok)
	if err != nil {
		t.Fatal(err)
	}
	view, err := s.Svc.Chat(context.Background(), agent, chatID)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Svc.OpenCursor(context.Background(), agent, chatID, view.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if f := d.call("stream-notify-room", rid+"/typing", "guest", true); f["error"] != nil {
		t.Fatalf("visitor typing = %v", f)
	}
	for seen := false; !seen; {
		events, err := cur.Next(context.Background(), 10*time.Second)
		if err != nil || len(events) == 0 {
			t.Fatalf("the agent saw no typing: %v", err)
		}
		for _, e := range events {
			seen = seen || (e.Type == parley.EventTyping && e.Typing && e.From.Kind == parley.PartyVisitor)
		}
	}

	// History: every message, newest first.
	hist := d.call("livechat:loadHistory", map[string]any{"token": tok, "rid": rid, "limit": 20})["result"].(map[string]any)
	msgs := hist["messages"].([]any)
	if len(msgs) < 2 || msgs[0].(map[string]any)["msg"] != "How can I help?" {
		t.Fatalf("history = %v", msgs)
	}
	if f := d.call("livechat:loadHistory", map[string]any{"token": "other", "rid": rid}); errorCode(f) != "invalid-visitor" {
		t.Fatalf("history with another token = %v", f)
	}

	// The agent ends the chat: a livechat-close message follows.
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/end", agentTok, nil, nil)
	d.event("stream-room-messages", rid, func(a []any) bool { return a[0].(map[string]any)["t"] == "livechat-close" })

	if f := d.call("livechat:loginByToken", tok); f["result"].(map[string]any)["_id"] != reg["userId"] {
		t.Fatalf("loginByToken = %v", f)
	}
}

// An unsupported DDP version fails the connection.
func TestDDPUnsupportedVersion(t *testing.T) {
	s := start(t)
	d := dial(t, s.URL+"/rocketchat/websocket", true)
	d.sendRaw(`{"msg":"connect","version":"pre1","support":["pre1"]}`)
	if f := d.next("failed", func(f map[string]any) bool { return f["msg"] == "failed" }); f["version"] != "1" {
		t.Fatalf("failed = %v", f)
	}
}

// A peer that does not answer pings is dropped by the keep-alive wheel.
func TestDDPDeadPeerIsDropped(t *testing.T) {
	s := start(t, func(o *rocketchat.Options) { o.PingInterval = 400 * time.Millisecond })
	d := dial(t, s.URL+"/websocket", false)
	d.connect()
	d.next("server ping", func(f map[string]any) bool { return f["msg"] == "ping" })
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the silent peer was not dropped")
	}
	waitFor(t, "the session to end", func() bool { return s.rc.Sessions() == 0 })
}

func waitFor(t testing.TB, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				t.Log(e())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
