package rocketchat_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/parleychat/parley/conversation"
)

// A socket that drops in the middle of a 50-message burst loses nothing:
// after reconnecting, subscribing again and reloading the history, every
// message is there exactly once.
func TestResumeMidBurstNoGapNoDuplicate(t *testing.T) {
	s := start(t)
	agentTok := s.online()
	tok := "resume-visitor-token"
	d := dial(t, s.URL+"/websocket", true)
	d.connect()
	d.call("livechat:registerGuest", map[string]any{"token": tok, "name": "Rex"})
	sent := d.call("sendMessageLivechat", map[string]any{"_id": "v-1", "rid": "room-r", "msg": "hi", "token": tok})["result"].(map[string]any)
	rid := sent["rid"].(string)
	chatID := s.OfferedChat(agentTok)
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	d.sub("stream-room-messages", rid, extra(tok))

	agent, err := s.Svc.Authenticate(context.Background(), agentTok)
	if err != nil {
		t.Fatal(err)
	}
	burst := make(chan error, 1)
	go func() {
		for i := range 50 {
			if _, err := s.Svc.Send(context.Background(), agent, chatID, fmt.Sprintf("burst %d", i), conversation.SendOptions{}); err != nil {
				burst <- err
				return
			}
		}
		burst <- nil
	}()
	// Drop the socket after the tenth message of the burst arrived.
	d.event("stream-room-messages", rid, func(a []any) bool { return a[0].(map[string]any)["msg"] == "burst 9" })
	d.c.CloseNow()
	<-d.done

	d2 := dial(t, s.URL+"/websocket", true)
	d2.connect()
	d2.call("livechat:setUpConnection", map[string]any{"token": tok})
	d2.sub("stream-room-messages", rid, extra(tok))
	if err := <-burst; err != nil {
		t.Fatal(err)
	}
	hist := d2.call("livechat:loadHistory", map[string]any{"token": tok, "rid": rid, "limit": 500})["result"].(map[string]any)
	seen := map[string]int{}
	ids := map[string]bool{}
	for _, m := range hist["messages"].([]any) {
		mm := m.(map[string]any)
		if id := mm["_id"].(string); ids[id] {
			t.Fatalf("history repeats %s", id)
		} else {
			ids[id] = true
		}
		seen[fmt.Sprint(mm["msg"])]++
	}
	for i := range 50 {
		if n := seen[fmt.Sprintf("burst %d", i)]; n != 1 {
			t.Fatalf("burst %d appears %d times in the history", i, n)
		}
	}
}
