package integration_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/webhook"
)

// TestAccess: only a valid key of the chat's tenant reaches a chat; only
// admins manage keys, bots and webhooks; a revoked key stops at once; keys
// are listed without their secret; bad input is refused and changes
// nothing.
func TestAccess(t *testing.T) {
	ts := stack(t, conversation.Config{}, webhook.Options{})
	admin := ts.Login("admin")
	alice := ts.Login("alice")
	ts.Presence(alice, "available", "not_ready")
	var chat httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "V"}, &chat)
	id := chat.Chat.ID
	key := apiKey(t, ts, "Workflow")
	good := &client{t: t, base: ts.URL, key: key}
	good.must(http.StatusOK, "GET", "/integration/v1/chats/"+id, nil, nil)

	// Another tenant's key does not see the chat.
	ctx := context.Background()
	other := &parley.Tenant{Name: "Other"}
	if err := ts.Store.CreateTenant(ctx, other); err != nil {
		t.Fatal(err)
	}
	foreignKey := "pk_FOREIGNKEYFOREIGNKEYFOREIGNKEY"
	h := sha256.Sum256([]byte(foreignKey))
	if err := ts.Store.CreateAPIKey(ctx, &parley.APIKey{TenantID: other.ID, Name: "Other", Prefix: "pk_FOR", Hash: h[:]}); err != nil {
		t.Fatal(err)
	}
	foreign := &client{t: t, base: ts.URL, key: foreignKey}
	foreign.must(http.StatusOK, "GET", "/integration/v1/bot/chats", nil, nil)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/integration/v1/chats/" + id, nil},
		{"GET", "/integration/v1/chats/" + id + "/events", nil},
		{"POST", "/integration/v1/chats/" + id + "/messages", map[string]string{"text": "x"}},
		{"PUT", "/integration/v1/chats/" + id + "/data", map[string]any{"data": map[string]string{"k": "v"}}},
		{"POST", "/integration/v1/chats/" + id + "/bot", map[string]string{"name": "B"}},
		{"POST", "/integration/v1/chats/" + id + "/handover", map[string]string{}},
		{"POST", "/integration/v1/chats/" + id + "/end", nil},
	} {
		if st, data := foreign.do(c.method, c.path, c.body, nil); st != http.StatusNotFound {
			t.Fatalf("foreign %s %s = %d %s; want 404", c.method, c.path, st, data)
		}
	}

	// Credentials that are not a valid key.
	for _, k := range []string{"", "pk_", "pk_nope", chat.VisitorToken, alice, strings.Repeat("pk_x", 100)} {
		c := &client{t: t, base: ts.URL, key: k}
		if st, _ := c.do("GET", "/integration/v1/chats/"+id, nil, nil); st != http.StatusUnauthorized {
			t.Fatalf("key %.12q = %d; want 401", k, st)
		}
	}
	// A key is no agent or visitor token.
	if st, _ := ts.Do("GET", "/api/v1/chats/"+id, key, nil); st != http.StatusUnauthorized {
		t.Fatalf("API key on the native API = %d; want 401", st)
	}

	// Only admins manage.
	for _, tok := range []string{alice, chat.VisitorToken, key, ""} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/integration/v1/admin/api-keys", nil},
			{"POST", "/integration/v1/admin/api-keys", map[string]string{"name": "x"}},
			{"PUT", "/integration/v1/admin/groups/1/bot", map[string]string{"name": "x"}},
			{"POST", "/integration/v1/admin/webhooks", map[string]string{"url": "https://example.com/h"}},
		} {
			if st, _ := ts.Do(c.method, c.path, tok, c.body); st != http.StatusUnauthorized && st != http.StatusForbidden {
				t.Fatalf("%s %s by a non-admin = %d", c.method, c.path, st)
			}
		}
	}

	// Listed without the key or its hash; revoked at once.
	var keys []map[string]any
	ts.Must(http.StatusOK, "GET", "/integration/v1/admin/api-keys", admin, nil, &keys)
	raw, _ := json.Marshal(keys)
	if len(keys) != 1 || strings.Contains(string(raw), key) || strings.Contains(string(raw), "hash") {
		t.Fatalf("key list %s", raw)
	}
	kid := strconv.FormatInt(int64(keys[0]["id"].(float64)), 10)
	ts.Must(http.StatusNoContent, "DELETE", "/integration/v1/admin/api-keys/"+kid, admin, nil, nil)
	if st, _ := good.do("GET", "/integration/v1/chats/"+id, nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("revoked key = %d; want 401", st)
	}
	if st, _ := ts.Do("DELETE", "/integration/v1/admin/api-keys/99999", admin, nil); st != http.StatusNotFound {
		t.Fatalf("revoking an unknown key = %d", st)
	}
	// The audit log names who made and revoked the key; the refused
	// attempts above left nothing.
	entries, err := ts.Store.AuditLog(context.Background(), parley.AuditFilter{TenantID: parley.DefaultTenantID, Action: "api_key."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.ActorLogin != "admin" || e.TargetID != kid && e.Action == "api_key.revoke" {
			t.Fatalf("audit entry %+v", e)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "api_key.revoke api_key.create" {
		t.Fatalf("audit of the key: %q; want the revoke, then (older) the creation", got)
	}

	// Bad input is refused and changes nothing.
	good = &client{t: t, base: ts.URL, key: apiKey(t, ts, "Second")}
	good.must(http.StatusOK, "PUT", "/integration/v1/chats/"+id+"/data", map[string]any{"data": map[string]string{"a": "1"}}, nil)
	many := map[string]string{}
	for i := range 101 {
		many["k"+strconv.Itoa(i)] = "v"
	}
	for name, body := range map[string]any{
		"no keys":       map[string]any{"data": map[string]string{}},
		"too many":      map[string]any{"data": many},
		"bad key":       map[string]any{"data": map[string]string{"a b": "1"}},
		"control":       map[string]any{"data": map[string]string{"a": "x\x00y"}},
		"oversize":      map[string]any{"data": map[string]string{"a": strings.Repeat("x", 4097)}},
		"wrong type":    map[string]any{"data": map[string]int{"a": 1}},
		"unknown field": map[string]any{"data": map[string]string{"a": "2"}, "extra": 1},
	} {
		if st, data := good.do("PUT", "/integration/v1/chats/"+id+"/data", body, nil); st != http.StatusBadRequest {
			t.Fatalf("%s: %d %s; want 400", name, st, data)
		}
	}
	var d struct{ Data map[string]string }
	good.must(http.StatusOK, "GET", "/integration/v1/chats/"+id+"/data", nil, &d)
	if len(d.Data) != 1 || d.Data["a"] != "1" {
		t.Fatalf("data after refused updates: %v", d.Data)
	}
	for name, body := range map[string]any{
		"javascript": map[string]any{"url": "javascript:alert(1)"},
		"ftp":        map[string]any{"url": "ftp://example.com/"},
		"no host":    map[string]any{"url": "https://"},
		"event":      map[string]any{"url": "https://example.com/h", "events": []string{"everything"}},
	} {
		if st, data := ts.Do("POST", "/integration/v1/admin/webhooks", admin, body); st != http.StatusBadRequest {
			t.Fatalf("webhook %s: %d %s; want 400", name, st, data)
		}
	}
	var hooks []any
	ts.Must(http.StatusOK, "GET", "/integration/v1/admin/webhooks", admin, nil, &hooks)
	if len(hooks) != 0 {
		t.Fatalf("refused webhooks were stored: %v", hooks)
	}
	// A webhook made and deleted, and a group made bot first and back,
	// are in the audit log; the refused ones are not.
	var hook struct{ ID int64 }
	ts.Must(http.StatusCreated, "POST", "/integration/v1/admin/webhooks", admin, map[string]any{"url": "https://example.com/h"}, &hook)
	ts.Must(http.StatusNoContent, "DELETE", "/integration/v1/admin/webhooks/"+strconv.FormatInt(hook.ID, 10), admin, nil, nil)
	ts.Must(http.StatusNoContent, "PUT", "/integration/v1/admin/groups/1/bot", admin, map[string]string{"name": "Helper"}, nil)
	ts.Must(http.StatusNoContent, "PUT", "/integration/v1/admin/groups/1/bot", admin, map[string]string{"name": ""}, nil)
	var logged []string
	for _, action := range []string{"webhook.", "group.bot"} {
		entries, err := ts.Store.AuditLog(context.Background(), parley.AuditFilter{TenantID: parley.DefaultTenantID, Action: action})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			logged = append(logged, e.Action+" "+e.TargetName+" "+e.Detail)
		}
	}
	if got := strings.Join(logged, "|"); got != "webhook.delete  |webhook.create https://example.com/h |group.bot Support bot off|group.bot Support bot Helper" {
		t.Fatalf("audit of webhooks and bots: %q", got)
	}
	// A handover without a bot, a bot twice.
	if st, _ := good.do("POST", "/integration/v1/chats/"+id+"/handover", map[string]any{}, nil); st != http.StatusConflict {
		t.Fatalf("handover without a bot = %d; want 409", st)
	}
	good.must(http.StatusCreated, "POST", "/integration/v1/chats/"+id+"/bot", map[string]string{"name": "Assistant"}, nil)
	if st, _ := good.do("POST", "/integration/v1/chats/"+id+"/bot", map[string]string{"name": "Second"}, nil); st != http.StatusConflict {
		t.Fatalf("a second bot = %d; want 409", st)
	}
	// A bot beside routing: the chat stays queued and its hand-over
	// leaves it there.
	good.must(http.StatusNoContent, "POST", "/integration/v1/chats/"+id+"/handover", map[string]any{}, nil)
	ts.Presence(alice, "available", "ready")
	if got := ts.OfferedChat(alice); got != id {
		t.Fatalf("offered %s; want %s", got, id)
	}
	// An integration ends a chat; twice is a conflict.
	good.must(http.StatusNoContent, "POST", "/integration/v1/chats/"+id+"/end", nil, nil)
	var v conversation.ChatView
	good.must(http.StatusOK, "GET", "/integration/v1/chats/"+id, nil, &v)
	if v.State != parley.StateTerminated {
		t.Fatalf("ended chat is %v", v.State)
	}
	if st, _ := good.do("POST", "/integration/v1/chats/"+id+"/end", nil, nil); st != http.StatusConflict {
		t.Fatalf("ending twice = %d; want 409", st)
	}
}
