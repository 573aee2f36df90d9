package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSessionLimitInEveryDialect: with --limit-for-sessions 3 and three
// chats running, a fourth chat requested in each dialect (native, MiCC,
// Genesys GMS, Rocket.Chat) is refused as "service unavailable" in that
// dialect's shape, and none is created.
func TestSessionLimitInEveryDialect(t *testing.T) {
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--limit-for-sessions", "3", "--gms-services", "customer-support=Support")
	// A signed-in agent who is not ready keeps the group open.
	agent := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "not_ready"}, nil)
	for range 3 {
		p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "V"}, nil)
	}
	post := func(path, ctype, body string) (int, []byte) {
		t.Helper()
		resp, err := http.Post(p.url+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	type kpi struct {
		Sessions        int   `json:"sessions"`
		SessionsRefused int64 `json:"sessions_refused"`
		Opened          int64 `json:"opened"`
	}
	var before kpi
	p.must(200, "GET", "/kpi", "", nil, &before)

	// Native.
	code, body := post("/api/v1/chats", "application/json", `{"group_id":1,"name":"Fourth"}`)
	if code != 503 || !bytes.Contains(body, []byte(`"code":"unavailable"`)) {
		t.Errorf("native: %d %s; want 503 unavailable", code, body)
	}
	// MiCC.
	code, body = post("/chatservice/RequestChat", "application/json", `{"request":{"ServiceGroupID":1,"CustomerName":"M"}}`)
	if code != 503 || !bytes.Contains(body, []byte("unavailable")) {
		t.Errorf("MiCC: %d %s; want 503 with a fault", code, body)
	}
	// Genesys GMS.
	code, body = post("/genesys/2/chat/customer-support", "application/x-www-form-urlencoded", url.Values{"nickname": {"G"}}.Encode())
	var env struct {
		StatusCode int    `json:"statusCode"`
		SecureKey  string `json:"secureKey"`
	}
	if err := json.Unmarshal(body, &env); err != nil || code != 503 || env.StatusCode == 0 || env.SecureKey != "" {
		t.Errorf("GMS: %d %s; want 503 with a non-zero statusCode", code, body)
	}
	// Rocket.Chat: the guest registers (no chat yet); its room is refused.
	code, body = post("/api/v1/livechat/visitor", "application/json", `{"visitor":{"token":"rc-guest-1","name":"R"}}`)
	if code != 200 {
		t.Fatalf("Rocket.Chat visitor: %d %s", code, body)
	}
	resp, err := http.Get(p.url + "/api/v1/livechat/room?token=rc-guest-1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !bytes.Contains(body, []byte(`"error":"service-unavailable"`)) || !bytes.Contains(body, []byte(`"success":false`)) {
		t.Errorf("Rocket.Chat room: %d %s; want 503 service-unavailable", resp.StatusCode, body)
	}

	var after kpi
	p.must(200, "GET", "/kpi", "", nil, &after)
	if after.Sessions != 3 || after.Opened != before.Opened || after.SessionsRefused != before.SessionsRefused+4 {
		t.Errorf("KPIs before %+v, after %+v; want 3 sessions, nothing opened, 4 more refused", before, after)
	}
	p.stop()
}
