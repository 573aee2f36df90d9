package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/smtptest"
	"github.com/parleychat/parley/mail"
)

func TestRateChat(t *testing.T) {
	s := newServer(t, conversation.Config{}, 1)
	agent := s.login("agent1")
	s.presence(agent, "available")
	started := s.requestChat(1, "Vera")
	id, visitor := started.Chat.ID, started.VisitorToken
	rate := "/api/v1/chats/" + id + "/rating"

	s.fail(409, "conflict", "POST", rate, visitor, map[string]any{"score": 5})
	s.must(204, "POST", "/api/v1/chats/"+id+"/leave", visitor, nil, nil)

	s.fail(401, "unauthorized", "POST", rate, "", map[string]any{"score": 5})
	s.fail(403, "forbidden", "POST", rate, agent, map[string]any{"score": 5})
	other := s.requestChat(1, "Otto").VisitorToken
	s.fail(403, "forbidden", "POST", rate, other, map[string]any{"score": 5})
	for _, bad := range []any{
		map[string]any{"score": 0},
		map[string]any{"score": 6},
		map[string]any{"score": "5"},
		map[string]any{"score": 4, "comment": strings.Repeat("x", conversation.MaxRatingComment+1)},
		map[string]any{"score": 4, "stars": 4},
	} {
		s.fail(400, "invalid", "POST", rate, visitor, bad)
	}
	var got parley.Rating
	s.must(201, "POST", rate, visitor, map[string]any{"score": 4, "comment": "  Quick and friendly "}, &got)
	if got.ChatID != id || got.Score != 4 || got.Comment != "Quick and friendly" || got.CreatedAt.IsZero() {
		t.Errorf("rating %+v", got)
	}
	s.fail(409, "conflict", "POST", rate, visitor, map[string]any{"score": 1})
	stored, err := s.store.Rating(t.Context(), id)
	if err != nil || stored.Score != 4 {
		t.Fatalf("stored rating %+v %v; the refused second rating must not replace it", stored, err)
	}
	s.fail(404, "not_found", "POST", "/api/v1/chats/00000000-0000-0000-0000-000000000000/rating", visitor, map[string]any{"score": 3})
}

func TestOfflineMessages(t *testing.T) {
	s := newServer(t, conversation.Config{}, 1)
	const path = "/api/v1/offline-messages"
	ok := func(group string) map[string]any {
		return map[string]any{"group": group, "name": "Vera", "email": "vera@example.com", "message": "Please call me back about order 4711."}
	}
	var created map[string]any
	s.must(201, "POST", path, "", ok("Sales"), &created)
	if created["group_id"] != float64(2) || created["id"] == nil {
		t.Errorf("created %v", created)
	}
	if _, leaked := created["email"]; leaked {
		t.Error("the answer repeats the visitor's email")
	}
	s.must(201, "POST", path, "", ok("1"), nil)
	s.must(201, "POST", path, "", ok("g_2"), nil)

	bad := func(change func(m map[string]any)) map[string]any {
		m := ok("Sales")
		change(m)
		return m
	}
	for name, body := range map[string]map[string]any{
		"no name":      bad(func(m map[string]any) { m["name"] = "  " }),
		"long name":    bad(func(m map[string]any) { m["name"] = strings.Repeat("n", 201) }),
		"no email":     bad(func(m map[string]any) { delete(m, "email") }),
		"bad email":    bad(func(m map[string]any) { m["email"] = "Vera <vera@example.com>" }),
		"no message":   bad(func(m map[string]any) { m["message"] = "" }),
		"long message": bad(func(m map[string]any) { m["message"] = strings.Repeat("m", conversation.DefaultMaxMessageLength+1) }),
		"no group":     bad(func(m map[string]any) { m["group"] = "" }),
		"extra field":  bad(func(m map[string]any) { m["phone"] = "123" }),
	} {
		t.Run(name, func(t *testing.T) {
			var e httpapi.ErrorBody
			if got := s.call("POST", path, "", body, &e); got != 400 || e.Error.Code != "invalid" {
				t.Errorf("status %d %+v, want 400 invalid", got, e)
			}
		})
	}
	s.fail(404, "not_found", "POST", path, "", ok("Marketing"))

	// Listing: agent2 is in Support only; agent1 in both; visitors none.
	list := func(token, query string) []*parley.OfflineMessage {
		var b httpapi.OfflineMessagesBody
		s.must(200, "GET", path+query, token, nil, &b)
		return b.Messages
	}
	if got := list(s.login("agent1"), ""); len(got) != 3 || got[0].GroupID != 2 || got[0].Email != "vera@example.com" {
		t.Errorf("agent1 sees %d messages", len(got))
	}
	if got := list(s.login("agent2"), ""); len(got) != 1 || got[0].GroupID != 1 {
		t.Errorf("agent2 (Support only) sees %d messages", len(got))
	}
	if got := list(s.login("agent2"), "?group_id=2"); len(got) != 0 {
		t.Errorf("agent2 sees %d messages of a group it is not in", len(got))
	}
	if got := list(s.login("admin"), "?group_id=2&limit=1"); len(got) != 1 || got[0].GroupID != 2 {
		t.Errorf("admin, group 2, limit 1: %d messages", len(got))
	}
	visitor := s.requestChatOpen(t)
	s.fail(403, "forbidden", "GET", path, visitor, nil)
	s.fail(401, "unauthorized", "GET", path, "", nil)
	for _, q := range []string{"?limit=0", "?limit=x", "?group_id=y"} {
		s.fail(400, "invalid", "GET", path+q, s.login("admin"), nil)
	}
}

// requestChatOpen logs an agent in so a chat can start and returns the
// new visitor's token.
func (s *server) requestChatOpen(t *testing.T) string {
	t.Helper()
	s.presence(s.login("agent1"), "available")
	return s.requestChat(1, fmt.Sprintf("visitor-%d", len(t.Name()))).VisitorToken
}

// TestRequestChatWithAgent: the contact portal asks for one agent, who is
// offered the chat although another member has waited longer.
func TestRequestChatWithAgent(t *testing.T) {
	s := newServer(t, conversation.Config{}, 1)
	a1, a2 := s.login("agent1"), s.login("agent2")
	s.presence(a1, "available")
	s.presence(a2, "available")
	admin := s.login("admin")
	var me struct {
		ID int64 `json:"id"`
	}
	s.must(200, "GET", "/api/v1/me", a2, nil, &me)

	var started httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "For Bob", "agent_id": me.ID}, &started)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var v conversation.ChatView
		s.must(200, "GET", "/api/v1/chats/"+started.Chat.ID, admin, nil, &v)
		if v.OfferedTo != 0 || v.Agent != nil {
			if v.OfferedTo != me.ID && (v.Agent == nil || v.Agent.AgentID != me.ID) {
				t.Fatalf("the chat went to %d/%v, want the requested agent %d", v.OfferedTo, v.Agent, me.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the chat was not offered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// agent2 is not in Sales; 999 does not exist.
	s.fail(400, "invalid", "POST", "/api/v1/chats", "", map[string]any{"group_id": 2, "name": "V", "agent_id": me.ID})
	s.fail(400, "invalid", "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "V", "agent_id": 999})
}

func TestPublicAgents(t *testing.T) {
	s := newServer(t, conversation.Config{}, 1)
	s.presence(s.login("agent2"), "available")
	var all httpapi.PublicAgentsBody
	s.must(200, "GET", "/api/v1/public/agents", "", nil, &all)
	// admin is in no group and is not listed; sorted by name.
	if len(all.Agents) != 2 || all.Agents[0].Name != "Alice" || all.Agents[1].Name != "Bob" {
		t.Fatalf("agents %+v", all.Agents)
	}
	if all.Agents[0].Available || !all.Agents[1].Available {
		t.Errorf("presence: Alice %v, Bob %v; want false, true", all.Agents[0].Available, all.Agents[1].Available)
	}
	if len(all.Agents[0].Groups) != 2 || all.Agents[0].Groups[1].Name != "Sales" {
		t.Errorf("Alice's groups %+v", all.Agents[0].Groups)
	}
	// Nothing private: the raw JSON has no login, email or role.
	var raw json.RawMessage
	s.must(200, "GET", "/api/v1/public/agents?group_id=g_2", "", nil, &raw)
	for _, leak := range []string{"login", "agent1", "email", "role", "status"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("public agents show %q: %s", leak, raw)
		}
	}
	var sales httpapi.PublicAgentsBody
	s.must(200, "GET", "/api/v1/public/agents?group_id=2", "", nil, &sales)
	if len(sales.Agents) != 1 || sales.Agents[0].Name != "Alice" {
		t.Errorf("Sales agents %+v", sales.Agents)
	}
	var one conversation.PublicAgent
	s.must(200, "GET", fmt.Sprintf("/api/v1/public/agents/%d", sales.Agents[0].ID), "", nil, &one)
	if one.Name != "Alice" || len(one.Groups) != 2 {
		t.Errorf("agent %+v", one)
	}
	s.fail(400, "invalid", "GET", "/api/v1/public/agents?group_id=x", "", nil)
	s.fail(404, "not_found", "GET", "/api/v1/public/agents?group_id=99", "", nil)
	s.fail(404, "not_found", "GET", "/api/v1/public/agents/9999", "", nil)
	var admin struct {
		Agent struct {
			ID int64 `json:"id"`
		} `json:"agent"`
	}
	s.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": password}, &admin)
	s.fail(404, "not_found", "GET", fmt.Sprintf("/api/v1/public/agents/%d", admin.Agent.ID), "", nil)
}

// TestOfflineMessageMailed shows an offline message reaching the group's
// offline_to address through the outbox, and a group without one sending
// nothing.
func TestOfflineMessageMailed(t *testing.T) {
	srv, err := smtptest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	_, portStr, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portStr)

	s := newServer(t, conversation.Config{}, 1)
	admin := s.login("admin")
	s.fail(400, "invalid", "PATCH", "/api/v1/admin/groups/1", admin,
		map[string]any{"transcript": map[string]any{"sender": "chat@example.com", "offline_to": "not an address"}})
	s.must(200, "PATCH", "/api/v1/admin/groups/1", admin,
		map[string]any{"transcript": map[string]any{"sender": "chat@example.com", "offline_to": "support-team@example.com"}}, nil)

	const path = "/api/v1/offline-messages"
	s.must(201, "POST", path, "", map[string]any{"group": "Sales", "name": "Otto", "email": "otto@example.com", "message": "Sales has no offline_to."}, nil)
	s.must(201, "POST", path, "", map[string]any{"group": "1", "name": "Vera\r\nBcc: x@y.z", "email": "vera@example.com",
		"message": "Please call me back about <b>order 4711</b>."}, nil)

	ob, err := mail.NewOutbox(s.store, mail.Options{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Pass(t.Context(), time.Now()); n != 1 || err != nil {
		t.Fatalf("the outbox sent %d mails (%v), want 1", n, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "support-team@example.com" || msgs[0].From != "chat@example.com" {
		t.Fatalf("delivered %+v", msgs)
	}
	m, err := msgs[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	if subj := m.Header.Get("Subject"); subj != "Offline message for Support from Vera Bcc: x@y.z" {
		t.Errorf("subject %q", subj)
	}
	if m.Header.Get("Bcc") != "" {
		t.Error("the visitor's name added a header")
	}
	parts, err := msgs[0].Parts()
	if err != nil {
		t.Fatal(err)
	}
	body := parts["text/plain"]
	for _, want := range []string{"vera@example.com", "Please call me back about <b>order 4711</b>."} {
		if !strings.Contains(body, want) {
			t.Errorf("the mail lacks %q:\n%s", want, body)
		}
	}
}
