package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// TestClientIDNeverAnswersWithAnotherPartysEvent: a client_id makes a send
// idempotent, but the stored event found by it must be the sender's own.
// A visitor who posts a message with the client_id of a whisper must not
// get the whisper back in the answer.
func TestClientIDNeverAnswersWithAnotherPartysEvent(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, _, _ := s.handledChat("Vera", "vera@example.net")
	const secret = "psst: offer a voucher"

	var whisper parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/whisper", bossTok,
		map[string]string{"text": secret, "client_id": "c-1"}, &whisper)

	var got parley.Event
	code := s.call("POST", "/api/v1/chats/"+chatID+"/messages", vtok,
		map[string]string{"text": "hi", "client_id": "c-1"}, &got)
	if got.Text == secret || got.Audience == parley.AudienceAgents {
		t.Fatalf("the visitor's send answered %d with the whisper: %+v", code, got)
	}
}

// otherTenant creates a tenant with a group and a supervisor "boss2" in
// it, and returns the tenant, its group and the supervisor's token.
func (s *server) otherTenant() (parley.Tenant, *parley.Group, string) {
	s.t.Helper()
	adminTok := s.login("admin")
	var tenant parley.Tenant
	s.must(201, "POST", "/api/v1/admin/tenants", adminTok, map[string]any{"name": "Other Corp"}, &tenant)
	g := &parley.Group{TenantID: tenant.ID, Name: "Theirs"}
	boss := &parley.Agent{TenantID: tenant.ID, Login: "boss2", DisplayName: "Other Boss", Role: parley.RoleSupervisor,
		Capacity: 1, Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{}}
	if err := s.svc.Seed(context.Background(), []*parley.Group{g}, nil, password); err != nil {
		s.t.Fatal(err)
	}
	boss.Groups = []parley.Membership{{GroupID: g.ID}}
	if err := s.svc.Seed(context.Background(), nil, []*parley.Agent{boss}, password); err != nil {
		s.t.Fatal(err)
	}
	var res httpapi.LoginResponse
	s.must(200, "POST", "/api/v1/auth/login", "", map[string]any{"tenant_id": tenant.ID, "login": "boss2", "password": password}, &res)
	return tenant, g, res.Token
}

// TestConsoleTenantIsolation: a supervisor of another tenant reaches
// nothing of the default tenant's chats, canned responses, mail or
// offline messages through the console endpoints.
func TestConsoleTenantIsolation(t *testing.T) {
	s := newServer(t, conversation.Config{MailFrom: "chat@example.com"}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, agentTok, _ := s.handledChat("Vera", "vera@example.net")
	tenant, _, foreignTok := s.otherTenant()

	var canned parley.CannedResponse
	s.must(201, "POST", "/api/v1/canned", bossTok, map[string]any{"title": "Hi", "text": "Hello {visitor.name}", "shortcut": "hi"}, &canned)
	var queued httpapi.TranscriptQueuedBody
	s.must(202, "POST", "/api/v1/chats/"+chatID+"/transcript", agentTok, map[string]string{}, &queued)
	s.must(201, "POST", "/api/v1/offline-messages", "", map[string]any{"group": "Support", "name": "Otto", "email": "otto@example.net", "message": "call me"}, nil)
	before := s.lastSeq(chatID)

	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/v1/chats/" + chatID + "/whisper"},
		{"POST", "/api/v1/chats/" + chatID + "/barge"},
		{"POST", "/api/v1/chats/" + chatID + "/transcript"},
		{"GET", "/api/v1/chats/" + chatID + "/transcript"},
		{"GET", "/api/v1/chats/" + chatID + "/canned"},
		{"GET", "/api/v1/chats/" + chatID + "/history"},
		{"GET", "/api/v1/chats/" + chatID + "/events?wait=0"},
		{"GET", fmt.Sprintf("/api/v1/mail/%d", queued.ID)},
		{"PATCH", fmt.Sprintf("/api/v1/canned/%d", canned.ID)},
		{"DELETE", fmt.Sprintf("/api/v1/canned/%d", canned.ID)},
	} {
		var body any
		switch {
		case strings.HasSuffix(tc.path, "/whisper"):
			body = map[string]string{"text": "hi"}
		case tc.method == "PATCH":
			body = map[string]string{"text": "taken over"}
		case tc.method == "POST":
			body = map[string]string{}
		}
		var raw json.RawMessage
		code := s.call(tc.method, tc.path, foreignTok, body, &raw)
		if code != 404 {
			t.Errorf("%s %s by another tenant's supervisor = %d %s; want 404", tc.method, tc.path, code, raw)
		}
	}
	if got := s.lastSeq(chatID); got != before {
		t.Errorf("the chat's log moved from %d to %d", before, got)
	}
	var list []*parley.CannedResponse
	s.must(200, "GET", "/api/v1/canned", foreignTok, nil, &list)
	if len(list) != 0 {
		t.Errorf("another tenant's supervisor lists canned responses %+v", list)
	}
	var arch conversation.ArchiveResult
	s.must(200, "GET", "/api/v1/archive", foreignTok, nil, &arch)
	if len(arch.Chats) != 0 {
		t.Errorf("another tenant's supervisor finds chats %+v", arch.Chats)
	}
	var off httpapi.OfflineMessagesBody
	s.must(200, "GET", "/api/v1/offline-messages?group_id=1", foreignTok, nil, &off)
	if len(off.Messages) != 0 {
		t.Errorf("another tenant's supervisor reads offline messages %+v", off.Messages)
	}
	var ov conversation.Overview
	s.must(200, "GET", "/api/v1/supervisor/overview", foreignTok, nil, &ov)
	for _, a := range ov.Agents {
		if a.Login != "boss2" {
			t.Errorf("another tenant's overview shows agent %+v", a)
		}
	}
	// The public endpoints answer per tenant.
	s.fail(404, parley.ENOTFOUND, "GET", fmt.Sprintf("/api/v1/public/agents/1?tenant_id=%d", tenant.ID), "", nil)
	var pub httpapi.PublicAgentsBody
	s.must(200, "GET", fmt.Sprintf("/api/v1/public/agents?tenant_id=%d", tenant.ID), "", nil, &pub)
	for _, a := range pub.Agents {
		if a.Name != "Other Boss" {
			t.Errorf("tenant %d's public agents show %+v", tenant.ID, a)
		}
	}
	// A visitor of the default tenant rates nothing of the other's and
	// reaches no foreign group's offline form by ID.
	s.fail(404, parley.ENOTFOUND, "POST", "/api/v1/offline-messages", "", map[string]any{"tenant_id": tenant.ID, "group": "1", "name": "O", "email": "o@example.net", "message": "m"})
	_ = vtok
}

// TestConsoleRoles: plain agents and visitors are refused the supervisor
// actions and the chats that are not theirs, and nothing changes.
func TestConsoleRoles(t *testing.T) {
	s := newServer(t, conversation.Config{MailFrom: "chat@example.com"}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, _, _ := s.handledChat("Vera", "vera@example.net")
	other := s.requestChat(2, "Otto") // queued in Sales, another visitor
	bob := s.login("agent2")
	var canned parley.CannedResponse
	s.must(201, "POST", "/api/v1/canned", bossTok, map[string]any{"title": "Hi", "text": "Hello"}, &canned)
	before := s.lastSeq(chatID)

	for _, tc := range []struct {
		who, token, method, path string
		status                   int
	}{
		{"agent", bob, "POST", "/api/v1/chats/" + chatID + "/barge", 403},
		{"agent", bob, "POST", "/api/v1/chats/" + chatID + "/whisper", 403},
		{"agent", bob, "GET", "/api/v1/chats/" + chatID + "/transcript", 403},
		{"agent", bob, "POST", "/api/v1/chats/" + chatID + "/transcript", 403},
		{"agent", bob, "GET", "/api/v1/chats/" + chatID + "/history", 403},
		{"agent", bob, "GET", "/api/v1/chats/" + chatID + "/canned", 403},
		{"agent", bob, "POST", "/api/v1/chats/" + chatID + "/conference", 403},
		{"agent", bob, "GET", "/api/v1/supervisor/kpis", 403},
		{"agent", bob, "GET", "/api/v1/supervisor/overview", 403},
		{"agent", bob, "POST", "/api/v1/canned", 403},
		{"agent", bob, "PATCH", fmt.Sprintf("/api/v1/canned/%d", canned.ID), 403},
		{"agent", bob, "DELETE", fmt.Sprintf("/api/v1/canned/%d", canned.ID), 403},
		{"agent", bob, "POST", "/api/v1/canned/import?format=json", 403},
		{"visitor", vtok, "POST", "/api/v1/chats/" + chatID + "/whisper", 403},
		{"visitor", vtok, "POST", "/api/v1/chats/" + chatID + "/barge", 403},
		{"visitor", vtok, "GET", "/api/v1/chats/" + chatID + "/transcript", 403},
		{"visitor", vtok, "GET", "/api/v1/chats/" + chatID + "/canned", 403},
		{"visitor", vtok, "GET", "/api/v1/chats/" + chatID + "/history", 403},
		{"visitor", vtok, "GET", "/api/v1/archive", 403},
		{"visitor", vtok, "GET", "/api/v1/canned", 403},
		{"visitor", vtok, "GET", "/api/v1/offline-messages", 403},
		{"visitor", vtok, "GET", "/api/v1/supervisor/overview", 403},
		{"visitor", vtok, "POST", "/api/v1/chats/" + other.Chat.ID + "/transcript", 403},
		{"visitor", vtok, "POST", "/api/v1/chats/" + other.Chat.ID + "/rating", 403},
		{"visitor", vtok, "GET", "/api/v1/chats/" + other.Chat.ID + "/events?wait=0", 403},
		{"other visitor", other.VisitorToken, "POST", "/api/v1/chats/" + chatID + "/messages", 403},
	} {
		var body any
		switch {
		case strings.HasSuffix(tc.path, "/whisper") || strings.HasSuffix(tc.path, "/messages"):
			body = map[string]string{"text": "hi"}
		case strings.HasSuffix(tc.path, "/conference"):
			body = map[string]int{"agent_id": 1}
		case strings.HasSuffix(tc.path, "/rating"):
			body = map[string]int{"score": 1}
		case strings.HasPrefix(tc.path, "/api/v1/canned/import"):
			body = `[{"title": "x", "text": "y"}]`
		case tc.method == "POST" && strings.HasSuffix(tc.path, "/canned"):
			body = map[string]string{"title": "x", "text": "y"}
		case tc.method == "PATCH":
			body = map[string]string{"text": "changed"}
		case tc.method == "POST":
			body = map[string]string{}
		}
		var e httpapi.ErrorBody
		if code := s.call(tc.method, tc.path, tc.token, body, &e); code != tc.status || e.Error.Code == "" {
			t.Errorf("%s: %s %s = %d %+v; want %d", tc.who, tc.method, tc.path, code, e, tc.status)
		}
	}
	if got := s.lastSeq(chatID); got != before {
		t.Errorf("the chat's log moved from %d to %d", before, got)
	}
	var list []*parley.CannedResponse
	s.must(200, "GET", "/api/v1/canned", bossTok, nil, &list)
	if len(list) != 1 || list[0].Text != "Hello" {
		t.Errorf("canned responses now %+v", list)
	}
}

// TestConsoleBadInput: malformed, oversize and unknown input on the new
// endpoints answers a 4xx with a code and changes nothing.
func TestConsoleBadInput(t *testing.T) {
	s := newServer(t, conversation.Config{MailFrom: "chat@example.com"}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, agentTok, _ := s.handledChat("Vera", "vera@example.net")
	big := `{"text": "` + strings.Repeat("a", 70<<10) + `"}`
	before := s.lastSeq(chatID)
	for _, tc := range []struct {
		token, method, path string
		body                any
		status              int
		code                string
	}{
		{vtok, "POST", "/api/v1/chats/" + chatID + "/rating", `{"score": "5"}`, 400, parley.EINVALID},
		{vtok, "POST", "/api/v1/chats/" + chatID + "/rating", `{"score": 5, "x": 1}`, 400, parley.EINVALID},
		{vtok, "POST", "/api/v1/chats/" + chatID + "/rating", `{"score": 9}`, 400, parley.EINVALID},
		{vtok, "POST", "/api/v1/chats/" + chatID + "/rating", `{"score": 5}`, 409, parley.ECONFLICT},
		{vtok, "POST", "/api/v1/chats/nope/rating", `{"score": 5}`, 404, parley.ENOTFOUND},
		{vtok, "POST", "/api/v1/chats/" + chatID + "/rating", `{"score": 5, "comment": "` + strings.Repeat("a", 70<<10) + `"}`, 413, parley.ETOOLARGE},
		{"", "POST", "/api/v1/offline-messages", `{"group": 1, "name": "a", "email": "a@example.net", "message": "m"}`, 400, parley.EINVALID},
		{"", "POST", "/api/v1/offline-messages", `{"group": "Nope", "name": "a", "email": "a@example.net", "message": "m"}`, 404, parley.ENOTFOUND},
		{"", "POST", "/api/v1/offline-messages", `{"group": "99", "name": "a", "email": "a@example.net", "message": "m"}`, 404, parley.ENOTFOUND},
		{"", "POST", "/api/v1/offline-messages", `{"group": "1", "name": "a", "email": "A <a@example.net>", "message": "m"}`, 400, parley.EINVALID},
		{"", "POST", "/api/v1/offline-messages", `{"group": "1", "name": "a", "email": "a@example.net", "message": "m", "tenant_id": 99}`, 404, parley.ENOTFOUND},
		{"", "GET", "/api/v1/public/agents?tenant_id=x", nil, 400, parley.EINVALID},
		{"", "GET", "/api/v1/public/agents?group_id=1,x", nil, 400, parley.EINVALID},
		{"", "GET", "/api/v1/public/agents?group_id=99", nil, 404, parley.ENOTFOUND},
		{"", "GET", "/api/v1/public/agents/x", nil, 400, parley.EINVALID},
		{"", "GET", "/api/v1/public/agents/999", nil, 404, parley.ENOTFOUND},
		{bossTok, "POST", "/api/v1/chats/" + chatID + "/whisper", big, 413, parley.ETOOLARGE},
		{bossTok, "POST", "/api/v1/chats/" + chatID + "/whisper", `{"text": 1}`, 400, parley.EINVALID},
		{bossTok, "POST", "/api/v1/chats/" + chatID + "/whisper", `{"text": ""}`, 400, parley.EINVALID},
		{bossTok, "POST", "/api/v1/chats/nope/whisper", `{"text": "x"}`, 404, parley.ENOTFOUND},
		{bossTok, "POST", "/api/v1/chats/nope/barge", nil, 404, parley.ENOTFOUND},
		{agentTok, "POST", "/api/v1/chats/" + chatID + "/conference", `{"agent_id": "2"}`, 400, parley.EINVALID},
		{agentTok, "POST", "/api/v1/chats/" + chatID + "/conference", `{"agent_id": 999}`, 404, parley.ENOTFOUND},
		{agentTok, "POST", "/api/v1/chats/" + chatID + "/transcript", `{"email": "a@example.net, b@example.net"}`, 400, parley.EINVALID},
		{agentTok, "POST", "/api/v1/chats/" + chatID + "/transcript", `{"email": ["a@example.net"]}`, 400, parley.EINVALID},
		{agentTok, "GET", "/api/v1/mail/x", nil, 400, parley.EINVALID},
		{agentTok, "GET", "/api/v1/mail/999", nil, 404, parley.ENOTFOUND},
		{agentTok, "GET", "/api/v1/archive?limit=x", nil, 400, parley.EINVALID},
		{agentTok, "GET", "/api/v1/archive?from=yesterday", nil, 400, parley.EINVALID},
		{agentTok, "GET", "/api/v1/archive?before=garbage", nil, 400, parley.EINVALID},
		{agentTok, "GET", "/api/v1/offline-messages?limit=0", nil, 400, parley.EINVALID},
		{bossTok, "GET", "/api/v1/supervisor/kpis?since=1900-01-01", nil, 400, parley.EINVALID},
		{bossTok, "GET", "/api/v1/supervisor/kpis?tz=../../etc/passwd", nil, 400, parley.EINVALID},
		{bossTok, "GET", "/api/v1/supervisor/kpis?since=2999-01-01", nil, 400, parley.EINVALID},
		{bossTok, "PATCH", "/api/v1/canned/999", `{"text": "x"}`, 404, parley.ENOTFOUND},
		{bossTok, "PATCH", "/api/v1/canned/x", `{"text": "x"}`, 400, parley.EINVALID},
		{bossTok, "DELETE", "/api/v1/canned/999", nil, 404, parley.ENOTFOUND},
		{bossTok, "POST", "/api/v1/canned", `{"title": "t", "text": "x", "group_id": 99}`, 404, parley.ENOTFOUND},
		{bossTok, "POST", "/api/v1/canned/import?format=json", `{"title": "t"}`, 400, parley.EINVALID},
		{bossTok, "POST", "/api/v1/canned/import?format=xml", `[]`, 400, parley.EINVALID},
		{bossTok, "POST", "/api/v1/canned/import?format=csv", strings.Repeat("a", 5<<20), 413, parley.ETOOLARGE},
		{bossTok, "POST", "/api/v1/agents/999/messages", `{"text": "x"}`, 404, parley.ENOTFOUND},
		{bossTok, "GET", "/api/v1/agents/1/messages?limit=9999", nil, 400, parley.EINVALID},
	} {
		var e httpapi.ErrorBody
		if code := s.call(tc.method, tc.path, tc.token, tc.body, &e); code != tc.status || e.Error.Code != tc.code {
			t.Errorf("%s %s %.60v = %d %+v; want %d %s", tc.method, tc.path, tc.body, code, e, tc.status, tc.code)
		}
	}
	if got := s.lastSeq(chatID); got != before {
		t.Errorf("the chat's log moved from %d to %d", before, got)
	}
}

// TestVisitorTranscriptLimit: a visitor names at most three
// addresses per chat; asking again for one answers with its mail.
func TestVisitorTranscriptLimit(t *testing.T) {
	s := newServer(t, conversation.Config{MailFrom: "chat@example.com"}, 2)
	chatID, vtok, _, _ := s.handledChat("Vera", "vera@example.net")
	path := "/api/v1/chats/" + chatID + "/transcript"
	var first, again httpapi.TranscriptQueuedBody
	s.must(202, "POST", path, vtok, map[string]string{}, &first)
	s.must(202, "POST", path, vtok, map[string]string{"email": " VERA@example.net "}, &again)
	if again.ID != first.ID {
		t.Errorf("asking again for the visitor's address queued mail %d, then %d", first.ID, again.ID)
	}
	s.must(202, "POST", path, vtok, map[string]string{"email": "b@example.net"}, nil)
	s.must(202, "POST", path, vtok, map[string]string{"email": "c@example.net"}, nil)
	s.fail(409, parley.ECONFLICT, "POST", path, vtok, map[string]string{"email": "d@example.net"})
	s.must(202, "POST", path, vtok, map[string]string{"email": "c@example.net"}, nil)
}
