package micc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestSettingsApply: IgnoreCustomerDetails, ServiceGroupIDsToReject and the
// configured limits apply to MiCC clients.
func TestSettingsApply(t *testing.T) {
	s := newServer(t, conversation.Config{
		IgnoreCustomerDetails: true, RejectGroups: []int64{2},
		MaxMessageLength: 10, MaxAttachmentKB: -1, AllowedAttachmentTypes: []string{"pdf", "png"},
	})
	agent := s.login()
	s.presence(agent, "available", "not_ready")

	var cfg map[string]any
	code, body := s.do("POST", "/chatservice/GetChatConfiguration", "", nil)
	if err := json.Unmarshal(body, &cfg); err != nil || code != 200 {
		t.Fatalf("GetChatConfiguration = %d %s", code, body)
	}
	if cfg["MaxMessageLength"] != 10.0 || cfg["MaxAttachmentSize"] != 0.0 ||
		len(cfg["AllowedAttachmentTypes"].([]any)) != 2 {
		t.Fatalf("GetChatConfiguration = %v", cfg)
	}

	// A rejected group cannot be requested and is not open.
	code, body = s.do("POST", "/chatservice/RequestChat", "", []byte(`{"request":{"ServiceGroupID":2}}`))
	if code != 403 || !strings.Contains(string(body), `"Code":"forbidden"`) {
		t.Fatalf("RequestChat of a rejected group = %d %s", code, body)
	}
	code, body = s.do("POST", "/chatservice/GetQueueInfo", "", []byte(`{"request":{"ServiceGroupName":"Sales"}}`))
	if code != 200 || !strings.Contains(string(body), `"Open":false`) {
		t.Fatalf("GetQueueInfo of a rejected group = %d %s", code, body)
	}

	// Customer details are dropped; the customer ID is kept.
	code, body = s.do("POST", "/chatservice/RequestChat", "", []byte(
		`{"request":{"ServiceGroupID":1,"CustomerName":"John","EmailAddress":"john@example.com","PhoneNumber":"555","CustomerID":"100"}}`))
	var res struct{ ChatID string }
	if err := json.Unmarshal(body, &res); err != nil || code != 200 {
		t.Fatalf("RequestChat = %d %s", code, body)
	}
	c, err := s.store.Chat(context.Background(), parleyID(res.ChatID))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.store.Visitor(context.Background(), c.VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "" || v.Email != "" || v.Phone != "" || v.CustomerID != "100" {
		t.Fatalf("visitor = %+v; want name, email and phone dropped", v)
	}

	// Limits: message length, attachments off.
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"request":{"ChatID":"` + res.ChatID + `","Message":"eleven char"}}`, 413},
		{`{"request":{"ChatID":"` + res.ChatID + `","Message":"a.pdf","Attachment":"JVBERi0="}}`, 403},
	} {
		if code, body := s.do("POST", "/chatservice/SendMessage", "", []byte(tc.body)); code != tc.code {
			t.Fatalf("SendMessage %s = %d %s; want %d", tc.body, code, body, tc.code)
		}
	}
}

// TestDisconnectTimeout: a MiCC customer who stops calling GetEvents is
// gone after the poll grace, and the chat ends after the disconnect grace.
func TestDisconnectTimeout(t *testing.T) {
	s := newServer(t, conversation.Config{PollGrace: 100 * time.Millisecond, DisconnectTimeout: 300 * time.Millisecond, DisconnectWarning: -1})
	agent := s.login()
	s.presence(agent, "available", "ready")
	chatID := requestChats(t, s, 1)[0]
	id := s.offeredChat(agent)
	s.native(200, "POST", "/api/v1/chats/"+id+"/accept", agent, nil)
	c := &miccClient{t: t, base: s.URL}
	c.events(chatID, 0) // the last call

	deadline := time.Now().Add(10 * time.Second)
	for {
		ch, err := s.store.Chat(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !ch.Active() {
			if ch.Cause != parley.CauseDisconnectTimeout {
				t.Fatalf("chat ended with %s; want disconnect_timeout", ch.Cause)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the chat of a customer who stopped polling did not end")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The client learns it when it comes back.
	ended := c.until(chatID, "ChatState Terminated", is(4, "State", 2.0))
	if ended.Data["TerminationCause"] != 0.0 {
		t.Fatalf("ChatState = %v; want TerminationCause General", ended.Data)
	}
}

// TestWire: method names and the path prefix in any case, the bare
// request object, POST only, unknown methods, CORS for allowed origins.
func TestWire(t *testing.T) {
	s := newServer(t, conversation.Config{})
	for _, path := range []string{"/ChatService/GetQueueInfo", "/chatservice/getqueueinfo", "/CHATSERVICE/GETQUEUEINFO"} {
		for _, body := range []string{`{"request":{"ServiceGroupID":1}}`, `{"ServiceGroupID":1}`, `{"Request":{"servicegroupid":1}}`} {
			code, out := s.do("POST", path, "", []byte(body))
			if code != 200 || string(out) != `{"EstimatedWaitTime":-1,"Open":false}` {
				t.Fatalf("POST %s %s = %d %s", path, body, code, out)
			}
		}
	}
	if code, out := s.do("GET", "/chatservice/GetVersion", "", nil); code != 405 || !strings.Contains(string(out), `"Code":"method_not_allowed"`) {
		t.Fatalf("GET = %d %s; want 405", code, out)
	}
	if code, out := s.do("POST", "/chatservice/Nope", "", nil); code != 404 || !strings.Contains(string(out), `"Code":"not_found"`) {
		t.Fatalf("unknown method = %d %s; want 404", code, out)
	}

	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest("OPTIONS", s.URL+"/ChatService/RequestChat", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	if h := preflight("https://shop.example"); h.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || h.Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight from an allowed origin: %v", h)
	}
	if h := preflight("https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin allowed: %v", h)
	}
}
