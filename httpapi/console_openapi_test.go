package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestOpenAPIConsoleResponses calls every console and supervisor endpoint,
// successes and errors, and checks each answer against the document.
func TestOpenAPIConsoleResponses(t *testing.T) {
	api, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	gid := strconv.FormatInt(group.ID, 10)
	agent2 := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "agent2", DisplayName: "Bob", Role: parley.RoleAgent,
		Capacity: 2, Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{{GroupID: group.ID}}}
	if err := api.svc.Seed(context.Background(), nil, []*parley.Agent{agent2}, openAPIPassword); err != nil {
		t.Fatal(err)
	}
	login := func(name string) (string, string) {
		res := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": name, "password": openAPIPassword})
		tok, _ := res["token"].(string)
		return tok, strconv.FormatFloat(res["agent"].(map[string]any)["id"].(float64), 'f', -1, 64)
	}
	agentTok, _ := login("agent1")
	bobTok, bobID := login("agent2")
	adminTok, _ := login("admin")
	c.must(200, "PUT", "/api/v1/me/presence", "/api/v1/me/presence", agentTok, map[string]any{"presence": "available"})
	c.must(200, "PUT", "/api/v1/me/presence", "/api/v1/me/presence", bobTok, map[string]any{"presence": "busy"})

	started := c.must(201, "POST", "/api/v1/chats", "/api/v1/chats", "", map[string]any{"group_id": group.ID, "name": "Vera", "email": "vera@example.net", "message": "Hi"})
	vtok, _ := started["visitor_token"].(string)
	chatID := started["chat"].(map[string]any)["id"].(string)
	chatPath := "/api/v1/chats/" + chatID
	c.must(200, "POST", "/api/v1/chats/{id}/accept", chatPath+"/accept", agentTok, nil)

	// Canned responses.
	created := c.must(201, "POST", "/api/v1/canned", "/api/v1/canned", adminTok, map[string]any{
		"group_id": group.ID, "folder": "Greetings", "shortcut": "/Greet", "title": "Hello", "text": "Hello {visitor.name}, I am {agent.name} of {group.name}."})
	if created["shortcut"] != "greet" {
		t.Errorf("shortcut stored as %v; want greet", created["shortcut"])
	}
	cannedID := strconv.FormatFloat(created["id"].(float64), 'f', -1, 64)
	c.must(403, "POST", "/api/v1/canned", "/api/v1/canned", agentTok, map[string]any{"title": "x", "text": "y"})
	c.must(400, "POST", "/api/v1/canned", "/api/v1/canned", adminTok, map[string]any{"title": "x", "text": "y", "shortcut": "no spaces"})
	c.must(409, "POST", "/api/v1/canned", "/api/v1/canned", adminTok, map[string]any{"group_id": group.ID, "title": "x", "text": "y", "shortcut": "greet"})
	c.must(404, "POST", "/api/v1/canned", "/api/v1/canned", adminTok, map[string]any{"group_id": 999, "title": "x", "text": "y"})
	c.must(200, "GET", "/api/v1/canned", "/api/v1/canned?group_id="+gid, agentTok, nil)
	c.must(200, "PATCH", "/api/v1/canned/{id}", "/api/v1/canned/"+cannedID, adminTok, map[string]any{"folder": "Greetings/Formal"})
	c.must(404, "PATCH", "/api/v1/canned/{id}", "/api/v1/canned/99999", adminTok, map[string]any{"folder": "x"})
	_, expanded := c.call("GET", "/api/v1/chats/{id}/canned", chatPath+"/canned", agentTok, nil)
	list, _ := expanded.([]any)
	if len(list) != 1 || list[0].(map[string]any)["text"] != "Hello Vera, I am agent1 of Support." {
		t.Errorf("expanded canned responses %v", expanded)
	}
	c.must(403, "GET", "/api/v1/chats/{id}/canned", chatPath+"/canned", vtok, nil)
	csv := "folder,shortcut,title,text\nClosing,bye,Goodbye,\"Thanks, {visitor.name}!\"\nGreetings/Formal,greet,Hello,Good day {visitor.name}.\n"
	imp := c.importCall("/api/v1/canned/import?group_id="+gid, adminTok, "text/csv", csv)
	if imp["created"] != 1.0 || imp["updated"] != 1.0 {
		t.Errorf("import = %v; want 1 created, 1 updated", imp)
	}
	c.importCall("/api/v1/canned/import?format=json", adminTok, "application/octet-stream", `[{"title": "Shared", "text": "For every group"}]`)
	c.importCallStatus(400, "/api/v1/canned/import?format=csv", adminTok, "text/csv", "title\nno text column\n")
	c.importCallStatus(400, "/api/v1/canned/import?format=xml", adminTok, "text/xml", "<x/>")
	c.importCallStatus(403, "/api/v1/canned/import?format=csv", agentTok, "text/csv", "title,text\na,b\n")
	c.importCallStatus(413, "/api/v1/canned/import?format=csv", adminTok, "text/csv", "title,text\n"+strings.Repeat("a,b\n", 1<<20+1))
	c.must(204, "DELETE", "/api/v1/canned/{id}", "/api/v1/canned/"+cannedID, adminTok, nil)
	c.must(404, "DELETE", "/api/v1/canned/{id}", "/api/v1/canned/"+cannedID, adminTok, nil)

	// Supervisor: whisper, barge-in, conference, internal chat.
	c.must(201, "POST", "/api/v1/chats/{id}/whisper", chatPath+"/whisper", adminTok, map[string]any{"text": "offer a voucher"})
	c.must(403, "POST", "/api/v1/chats/{id}/whisper", chatPath+"/whisper", vtok, map[string]any{"text": "x"})
	c.must(413, "POST", "/api/v1/chats/{id}/whisper", chatPath+"/whisper", adminTok, map[string]any{"text": strings.Repeat("x", conversation.DefaultMaxMessageLength+1)})
	c.must(413, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages", agentTok, map[string]any{"text": strings.Repeat("x", conversation.DefaultMaxMessageLength+1)})
	c.must(200, "POST", "/api/v1/chats/{id}/barge", chatPath+"/barge", adminTok, nil)
	c.must(409, "POST", "/api/v1/chats/{id}/barge", chatPath+"/barge", adminTok, nil)
	c.must(403, "POST", "/api/v1/chats/{id}/barge", chatPath+"/barge", agentTok, nil)
	c.must(201, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", adminTok, map[string]any{"text": "Hello, I am the supervisor."})
	c.must(204, "POST", "/api/v1/chats/{id}/leave", chatPath+"/leave", adminTok, nil)
	c.must(403, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", adminTok, map[string]any{"text": "gone"})
	c.must(409, "POST", "/api/v1/chats/{id}/leave", chatPath+"/leave", agentTok, nil)
	c.must(400, "POST", "/api/v1/chats/{id}/conference", chatPath+"/conference", agentTok, map[string]any{})
	c.must(404, "POST", "/api/v1/chats/{id}/conference", chatPath+"/conference", agentTok, map[string]any{"agent_id": 9999})
	c.must(403, "POST", "/api/v1/chats/{id}/conference", chatPath+"/conference", bobTok, map[string]any{"agent_id": 1})
	c.must(200, "POST", "/api/v1/chats/{id}/conference", chatPath+"/conference", agentTok, map[string]any{"agent_id": mustInt(t, bobID)})
	c.must(201, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", bobTok, map[string]any{"text": "Bob here, from billing."})
	c.must(204, "POST", "/api/v1/chats/{id}/leave", chatPath+"/leave", bobTok, nil)
	c.must(403, "POST", "/api/v1/chats/{id}/leave", chatPath+"/leave", bobTok, nil)
	c.must(201, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages", agentTok, map[string]any{"text": "Can you take over?"})
	c.must(201, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/1/messages", bobTok, map[string]any{"text": "Sure."})
	_, internalHist := c.call("GET", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages?limit=10", agentTok, nil)
	if msgs, _ := internalHist.([]any); len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "Sure." {
		t.Errorf("internal chat history %v", internalHist)
	}
	c.must(400, "GET", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages?limit=0x", agentTok, nil)
	c.must(404, "GET", "/api/v1/agents/{id}/messages", "/api/v1/agents/9999/messages", agentTok, nil)
	c.must(403, "GET", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages", vtok, nil)
	c.must(400, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages", bobTok, map[string]any{"text": "me"})
	c.must(404, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/9999/messages", agentTok, map[string]any{"text": "x"})
	c.must(403, "POST", "/api/v1/agents/{id}/messages", "/api/v1/agents/"+bobID+"/messages", vtok, map[string]any{"text": "x"})

	kpis := c.must(200, "GET", "/api/v1/supervisor/kpis", "/api/v1/supervisor/kpis?service_level_seconds=30", adminTok, nil)
	if total := kpis["total"].(map[string]any); total["offered"] != 1.0 || total["handled"] != 1.0 || kpis["service_level_seconds"] != 30.0 {
		t.Errorf("kpis = %v", kpis)
	}
	c.must(400, "GET", "/api/v1/supervisor/kpis", "/api/v1/supervisor/kpis?since=yesterday", adminTok, nil)
	c.must(400, "GET", "/api/v1/supervisor/kpis", "/api/v1/supervisor/kpis?tz=Mars/Olympus", adminTok, nil)
	berlin := c.must(200, "GET", "/api/v1/supervisor/kpis", "/api/v1/supervisor/kpis?tz=Europe/Berlin&since=2026-01-15", adminTok, nil)
	if berlin["since"] != "2026-01-14T23:00:00Z" {
		t.Errorf("since midnight in Berlin = %v", berlin["since"])
	}
	c.must(403, "GET", "/api/v1/supervisor/kpis", "/api/v1/supervisor/kpis", agentTok, nil)
	ov := c.must(200, "GET", "/api/v1/supervisor/overview", "/api/v1/supervisor/overview", adminTok, nil)
	if len(ov["agents"].([]any)) != 3 || len(ov["groups"].([]any)) != 1 {
		t.Errorf("overview = %v", ov)
	}
	c.must(403, "GET", "/api/v1/supervisor/overview", "/api/v1/supervisor/overview", agentTok, nil)

	// Transcripts.
	c.must(409, "POST", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", vtok, map[string]any{})
	c.must(400, "PATCH", "/api/v1/admin/groups/{id}", "/api/v1/admin/groups/"+gid, adminTok, map[string]any{"transcript": map[string]any{"sender": "nobody"}})
	c.must(200, "PATCH", "/api/v1/admin/groups/{id}", "/api/v1/admin/groups/"+gid, adminTok, map[string]any{"transcript": map[string]any{
		"sender": "chat@example.com", "subject": "Your chat with $Agent$", "on_close": true, "locale": "de"}})
	q := c.must(202, "POST", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", vtok, map[string]any{})
	if q["status"] != "pending" {
		t.Errorf("queued %v", q)
	}
	mailID := strconv.FormatFloat(q["id"].(float64), 'f', -1, 64)
	if m := c.must(200, "GET", "/api/v1/mail/{id}", "/api/v1/mail/"+mailID, vtok, nil); m["to"] != "vera@example.net" || m["status"] != "pending" {
		t.Errorf("mail = %v", m)
	}
	c.must(200, "GET", "/api/v1/mail/{id}", "/api/v1/mail/"+mailID, agentTok, nil)
	other := c.must(201, "POST", "/api/v1/chats", "/api/v1/chats", "", map[string]any{"group_id": group.ID, "name": "Eve", "message": "Hi"})
	c.must(404, "GET", "/api/v1/mail/{id}", "/api/v1/mail/"+mailID, other["visitor_token"].(string), nil)
	c.must(404, "GET", "/api/v1/mail/{id}", "/api/v1/mail/99999", agentTok, nil)
	c.must(400, "GET", "/api/v1/mail/{id}", "/api/v1/mail/x", agentTok, nil)
	c.must(202, "POST", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", agentTok, map[string]any{"email": "copy@example.com"})
	c.must(400, "POST", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", agentTok, map[string]any{"email": "x"})
	c.must(404, "POST", "/api/v1/chats/{id}/transcript", "/api/v1/chats/nope/transcript", agentTok, map[string]any{})
	c.must(200, "GET", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", agentTok, nil)
	c.must(403, "GET", "/api/v1/chats/{id}/transcript", chatPath+"/transcript", vtok, nil)

	// Archive.
	hist := c.must(200, "GET", "/api/v1/chats/{id}/history", chatPath+"/history?limit=5", agentTok, nil)
	if len(hist["chats"].([]any)) != 0 {
		t.Errorf("a new visitor has history %v", hist)
	}
	c.must(400, "GET", "/api/v1/chats/{id}/history", chatPath+"/history?limit=500", agentTok, nil)
	c.must(403, "GET", "/api/v1/chats/{id}/history", chatPath+"/history", vtok, nil)
	c.must(204, "POST", "/api/v1/chats/{id}/end", chatPath+"/end", agentTok, nil)
	arch := c.must(200, "GET", "/api/v1/archive", "/api/v1/archive?customer=vera&text=supervisor&group_id="+gid, adminTok, nil)
	if chats := arch["chats"].([]any); len(chats) != 1 || chats[0].(map[string]any)["from"] != "vera@example.net" {
		t.Errorf("archive = %v", arch)
	}
	mine := c.must(200, "GET", "/api/v1/archive", "/api/v1/archive?limit=1&from=2020-01-01&to=2099-12-31", bobTok, nil)
	if len(mine["chats"].([]any)) != 1 {
		t.Errorf("bob took part in the chat; his archive is %v", mine)
	}
	c.must(403, "GET", "/api/v1/archive", "/api/v1/archive?agent_id=1", bobTok, nil)
	c.must(400, "GET", "/api/v1/archive", "/api/v1/archive?limit=5000", adminTok, nil)
	c.must(400, "GET", "/api/v1/archive", "/api/v1/archive?from=2030-01-01&to=2020-01-01", adminTok, nil)
	c.must(400, "GET", "/api/v1/archive", "/api/v1/archive?before=garbage", adminTok, nil)
	c.must(403, "GET", "/api/v1/archive", "/api/v1/archive", vtok, nil)
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// importCall posts a file to the import endpoint and requires 200.
func (c *openAPIClient) importCall(urlPath, token, contentType, body string) map[string]any {
	c.t.Helper()
	return c.importCallStatus(200, urlPath, token, contentType, body)
}

func (c *openAPIClient) importCallStatus(want int, urlPath, token, contentType, body string) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.url+urlPath, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		c.t.Fatalf("POST %s = %d; want %d", urlPath, resp.StatusCode, want)
	}
	if openAPIAt(c.doc, "paths", "/api/v1/canned/import", "post", "responses", strconv.Itoa(want)) == nil {
		c.t.Errorf("status %d of the import is not documented", want)
	}
	var v map[string]any
	if err := decodeJSON(resp.Body, &v); err != nil {
		c.t.Fatal(err)
	}
	if want == 200 {
		for _, p := range openAPICheck(c.doc, "body", v, map[string]any{"$ref": "#/components/schemas/ImportResult"}) {
			c.t.Error(p)
		}
	}
	return v
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
