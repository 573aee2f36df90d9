package micc_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/conversation"
)

// miccClient is a MiCC custom chat client as a customer would write it:
// plain HTTP and JSON, nothing from Parley.
type miccClient struct {
	t    *testing.T
	base string
}

// call POSTs {"request": req} to /ChatService/<method> and decodes the
// answer into out.
func (c *miccClient) call(method string, req map[string]any, out any) int {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"request": req})
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.Post(c.base+"/ChatService/"+method, "application/json; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s: %q: %v", method, data, err)
		}
	}
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s = %d %s", method, resp.StatusCode, data)
	}
	return resp.StatusCode
}

type chatEvent struct {
	EventType int
	Data      map[string]any
}

// events makes one GetEvents call.
func (c *miccClient) events(chatID string, timeout int) []chatEvent {
	c.t.Helper()
	var res struct{ Events []chatEvent }
	c.call("GetEvents", map[string]any{"ChatID": chatID, "Timeout": timeout}, &res)
	return res.Events
}

// until polls GetEvents until an event matches, failing after 10 s.
func (c *miccClient) until(chatID, what string, match func(chatEvent) bool) chatEvent {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range c.events(chatID, 1000) {
			if match(e) {
				return e
			}
		}
	}
	c.t.Fatalf("no %s within 10 s", what)
	return chatEvent{}
}

func is(typ int, field string, value any) func(chatEvent) bool {
	return func(e chatEvent) bool { return e.EventType == typ && e.Data[field] == value }
}

// TestEndToEnd follows a chat from a plain HTTP MiCC client's request to
// the agent ending it, with the agent on the native API.
func TestEndToEnd(t *testing.T) {
	s := newServer(t, conversation.Config{})
	c := &miccClient{t: t, base: s.URL}
	agent := s.login()
	s.presence(agent, "available", "not_ready")

	var started struct {
		ChatID            *string
		Message           string
		QueuePosition     int
		EstimatedWaitTime int
	}
	c.call("RequestChat", map[string]any{
		"CustomerName": "John", "EmailAddress": "john@somecompany.com", "TenantID": -1,
		"ServiceGroupID": 0, "ServiceGroupName": "Support",
	}, &started)
	if started.ChatID == nil || started.QueuePosition != 1 {
		t.Fatalf("RequestChat = %+v; want a ChatID at queue position 1", started)
	}
	chatID := *started.ChatID

	queued := c.until(chatID, "ChatState Queued", is(4, "State", 0.0))
	if queued.Data["QueuePosition"] != 1.0 || queued.Data["ChatID"] != chatID {
		t.Fatalf("ChatState = %v; want Queued at position 1 of this chat", queued.Data)
	}

	// The agent becomes ready and accepts on the native API.
	s.presence(agent, "available", "ready")
	id := s.offeredChat(agent)
	s.native(200, "POST", "/api/v1/chats/"+id+"/accept", agent, nil)
	joined := c.until(chatID, "AgentJoined", func(e chatEvent) bool { return e.EventType == 1 })
	if joined.Data["Name"] != "Alice" {
		t.Fatalf("AgentJoined = %v", joined.Data)
	}

	// Typing is not stored: it reaches a GetEvents that is waiting. Keep
	// typing until the waiting call has seen it.
	got := make(chan []chatEvent, 1)
	go func() {
		var res struct{ Events []chatEvent }
		body := fmt.Sprintf(`{"request":{"ChatID":%q,"Timeout":10000}}`, chatID)
		resp, err := http.Post(s.URL+"/chatservice/getevents", "application/json", strings.NewReader(body))
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
		}
		got <- res.Events
	}()
	var typing []chatEvent
	deadline := time.After(10 * time.Second)
wait:
	for {
		if s.micc.Polling() > 0 {
			s.native(204, "POST", "/api/v1/chats/"+id+"/typing", agent, map[string]bool{"typing": true})
		}
		select {
		case typing = <-got:
			break wait
		case <-deadline:
			t.Fatal("the waiting GetEvents did not return within 10 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(typing) == 0 {
		t.Fatal("the waiting GetEvents returned no event while the agent typed")
	}
	for _, e := range typing {
		if e.EventType != 3 || e.Data["Name"] != "Alice" || e.Data["ChatID"] != chatID {
			t.Fatalf("events while the agent types = %v; want AgentTyping from Alice", typing)
		}
	}

	s.native(201, "POST", "/api/v1/chats/"+id+"/messages", agent, map[string]string{"text": "Hello John, how can I help?"})
	msg := c.until(chatID, "MessageReceived", is(0, "Message", "Hello John, how can I help?"))
	if msg.Data["Name"] != "Alice" || msg.Data["System"] != false {
		t.Fatalf("MessageReceived = %v", msg.Data)
	}

	// The customer writes and sends a file; the agent sees both.
	c.call("SendMessage", map[string]any{"ChatID": chatID, "Message": "My order is late."}, nil)
	file := []byte("order 4711\n")
	c.call("SendMessage", map[string]any{"ChatID": chatID, "Message": "order.txt", "Attachment": base64.StdEncoding.EncodeToString(file)}, nil)
	var log struct {
		Events []struct {
			Type string `json:"type"`
			Text string `json:"text"`
			File *struct {
				ID string `json:"id"`
			} `json:"file"`
		} `json:"events"`
	}
	if err := json.Unmarshal(s.native(200, "GET", "/api/v1/chats/"+id+"/events?after=0", agent, nil), &log); err != nil {
		t.Fatal(err)
	}
	var text bool
	var fileID string
	for _, e := range log.Events {
		text = text || (e.Type == "message" && e.Text == "My order is late.")
		if e.Type == "file" && e.Text == "order.txt" && e.File != nil {
			fileID = e.File.ID
		}
	}
	if !text || fileID == "" {
		t.Fatalf("the agent's log lacks the customer's message or file: %+v", log.Events)
	}
	if content := s.native(200, "GET", "/api/v1/chats/"+id+"/files/"+fileID, agent, nil); !bytes.Equal(content, file) {
		t.Fatalf("the agent downloads %q; want %q", content, file)
	}

	// The agent ends the chat.
	s.native(204, "POST", "/api/v1/chats/"+id+"/end", agent, nil)
	var left, ended bool
	deadline2 := time.Now().Add(10 * time.Second)
	for !ended && time.Now().Before(deadline2) {
		for _, e := range c.events(chatID, 1000) {
			left = left || (e.EventType == 2 && e.Data["Name"] == "Alice")
			if e.EventType == 4 && e.Data["State"] == 2.0 {
				if e.Data["TerminationCause"] != 0.0 {
					t.Fatalf("ChatState Terminated = %v; want TerminationCause General (0)", e.Data)
				}
				ended = true
			}
		}
	}
	if !left || !ended {
		t.Fatalf("after the agent ended: AgentLeft %v, ChatState Terminated %v", left, ended)
	}
	var info struct{ State int }
	c.call("GetChatInfo", map[string]any{"ChatID": chatID}, &info)
	if info.State != 2 {
		t.Fatalf("GetChatInfo State = %d; want 2", info.State)
	}
}
