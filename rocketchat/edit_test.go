package rocketchat_test

import (
	"net/http"
	"strings"
	"testing"
)

// A visitor's edit reaches the room stream as the same _id with the new
// text; a withdrawal reaches <rid>/deleteMessage. Neither may touch the
// agent's message.
func TestEditAndDeleteOnStreams(t *testing.T) {
	s := start(t)
	agentTok := s.online()
	tok := "edit-visitor-token"
	s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": tok, "name": "Eve"}}, nil)
	var room struct {
		Room map[string]any `json:"room"`
	}
	s.rest("GET", "/api/v1/livechat/room?token="+tok, nil, &room)
	rid := room.Room["_id"].(string)
	s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": tok, "rid": rid, "msg": "teh price", "_id": "e-1"}, nil)
	s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": tok, "rid": rid, "msg": "never mind", "_id": "e-2"}, nil)
	chatID := s.OfferedChat(agentTok)
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	var sent struct {
		Seq int64 `json:"seq"`
	}
	s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Which price?"}, &sent)

	d := dial(t, s.URL+"/websocket", true)
	d.connect()
	d.sub("stream-room-messages", rid, extra(tok))
	d.sub("stream-notify-room", rid+"/deleteMessage", extra(tok))

	var fail struct {
		Error string `json:"error"`
	}
	agentMsg := chatID + "-" + itoa(int(sent.Seq))
	if code := s.rest("PUT", "/api/v1/livechat/message/"+agentMsg, map[string]any{"token": tok, "rid": rid, "msg": "changed"}, &fail); code != 400 || fail.Error != "error-action-not-allowed" {
		t.Fatalf("editing the agent's message = %d %v", code, fail)
	}
	s.rest("PUT", "/api/v1/livechat/message/e-1", map[string]any{"token": tok, "rid": rid, "msg": "the price"}, nil)
	args := d.event("stream-room-messages", rid, func(a []any) bool { return a[0].(map[string]any)["_id"] == "e-1" })
	if m := args[0].(map[string]any); m["msg"] != "the price" || m["editedAt"] == nil {
		t.Fatalf("edit on the stream = %v", m)
	}
	s.rest("DELETE", "/api/v1/livechat/message/e-2", map[string]any{"token": tok, "rid": rid}, nil)
	d.event("stream-notify-room", rid+"/deleteMessage", func(a []any) bool { return a[0].(map[string]any)["_id"] == "e-2" })

	// The agent's log has both corrections as events.
	_, body := s.Do("GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil)
	for _, want := range []string{`"type":"edited"`, `"type":"deleted"`, "teh price"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("the agent's log lacks %s: %s", want, body)
		}
	}
}
