package rocketchat_test

import (
	"net/http"
	"testing"
)

// A queued visitor's stream-livechat-room carries queueData with its
// position and the routing engine's wait estimate when its place changes.
func TestQueueDataOnPositionChange(t *testing.T) {
	s := start(t)
	tok := s.Login("agent1")
	s.Presence(tok, "available", "not_ready") // the group is open, nobody takes chats
	rooms := make([]string, 2)
	for i, vt := range []string{"queue-visitor-1", "queue-visitor-2"} {
		s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": vt, "department": "1"}}, nil)
		var room struct {
			Room map[string]any `json:"room"`
		}
		if code := s.rest("GET", "/api/v1/livechat/room?token="+vt, nil, &room); code != 200 {
			t.Fatalf("room = %d", code)
		}
		rooms[i] = room.Room["_id"].(string)
	}
	d := dial(t, s.URL+"/websocket", true)
	d.connect()
	if _, f := d.sub("stream-livechat-room", rooms[1], extra("queue-visitor-2")); f["msg"] != "ready" {
		t.Fatalf("sub = %v", f)
	}
	// The first visitor gives up: the second moves to the front.
	if code := s.rest("POST", "/api/v1/livechat/room.close", map[string]any{"token": "queue-visitor-1", "rid": rooms[0]}, nil); code != 200 {
		t.Fatalf("room.close = %d", code)
	}
	args := d.event("stream-livechat-room", rooms[1], func(a []any) bool {
		m, _ := a[0].(map[string]any)
		return m["type"] == "queueData"
	})
	data := args[0].(map[string]any)["data"].(map[string]any)
	if data["spot"] != float64(1) {
		t.Fatalf("queueData = %v; want spot 1", data)
	}
	if _, ok := data["estimatedWaitTimeSeconds"].(float64); !ok {
		t.Fatalf("queueData has no wait estimate: %v", data)
	}
}

// A stream-livechat-room subscribed after the agent joined starts with
// the agent's data: the widget renews its subscriptions while it reloads a
// room, and the join may fall between its old and new ones.
func TestLivechatStreamStartsWithTheAgent(t *testing.T) {
	s := start(t)
	agentTok := s.online()
	vt := "late-subscriber-1"
	s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": vt, "department": "1"}}, nil)
	var room struct {
		Room map[string]any `json:"room"`
	}
	if code := s.rest("GET", "/api/v1/livechat/room?token="+vt, nil, &room); code != 200 {
		t.Fatalf("room = %d", code)
	}
	rid := room.Room["_id"].(string)
	d := dial(t, s.URL+"/websocket", true)
	d.connect()
	// Before the agent: ready, and no agentData.
	if _, f := d.sub("stream-livechat-room", rid, extra(vt)); f["msg"] != "ready" {
		t.Fatalf("sub = %v", f)
	}
	chatID := s.OfferedChat(agentTok)
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	d.event("stream-livechat-room", rid, func(a []any) bool { return a[0].(map[string]any)["type"] == "agentData" })
	// A second subscription, after the join, gets the agent at once.
	if _, f := d.sub("stream-livechat-room", rid, extra(vt)); f["msg"] != "ready" {
		t.Fatalf("second sub = %v", f)
	}
	args := d.event("stream-livechat-room", rid, func(a []any) bool { return a[0].(map[string]any)["type"] == "agentData" })
	if data := args[0].(map[string]any)["data"].(map[string]any); data["name"] != "Alice" {
		t.Fatalf("agentData = %v", data)
	}
}
