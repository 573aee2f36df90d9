package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// TestTriggersAPI manages triggers through the admin API (validation,
// tenant isolation), reads them as the widget does and starts a chat
// from a trigger's greeting; every answer is checked against the
// OpenAPI document.
func TestTriggersAPI(t *testing.T) {
	_, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	gid := strconv.FormatInt(group.ID, 10)
	login := func(tenant any, name, password string) string {
		res := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"tenant_id": tenant, "login": name, "password": password})
		tok, _ := res["token"].(string)
		return tok
	}
	adminTok := login(0, "admin", openAPIPassword)
	agentTok := login(0, "agent1", openAPIPassword)
	idOf := func(m map[string]any) string { return strconv.FormatFloat(m["id"].(float64), 'f', -1, 64) }

	pricing := c.must(201, "POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", adminTok, map[string]any{
		"group_id": group.ID, "name": " Pricing ", "url_pattern": `/pricing(/|$)`, "time_on_site": 3,
		"run_once": true, "sender_name": "Pia", "message": "Questions about our plans?"})
	if pricing["name"] != "Pricing" || pricing["enabled"] != true || pricing["tenant_id"] != float64(parley.DefaultTenantID) {
		t.Errorf("created %v; want the name trimmed, enabled by default, in the default tenant", pricing)
	}
	pricingID := idOf(pricing)
	opened := c.must(201, "POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", adminTok, map[string]any{
		"name": "Opened", "chat_opened": true, "message": "Hi, how can we help?"})
	off := c.must(201, "POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", adminTok, map[string]any{
		"name": "Off", "enabled": false, "time_on_site": 1, "message": "never shown"})

	// Validation: each refused, nothing stored.
	for name, body := range map[string]map[string]any{
		"no condition":      {"name": "x", "message": "y"},
		"no message":        {"name": "x", "chat_opened": true},
		"flags":             {"name": "x", "message": "y", "url_pattern": "(?i)/pricing"},
		"nested repetition": {"name": "x", "message": "y", "url_pattern": "(a+)+$"},
		"not compilable":    {"name": "x", "message": "y", "url_pattern": "(/a"},
		"too long pattern":  {"name": "x", "message": "y", "url_pattern": strings.Repeat("a", 501)},
		"negative time":     {"name": "x", "message": "y", "time_on_site": -1},
		"script in name":    {"name": "a\u202eb", "message": "y", "chat_opened": true},
		"foreign group":     {"name": "x", "message": "y", "chat_opened": true, "group_id": 999},
		"unknown field":     {"name": "x", "message": "y", "chat_opened": true, "color": "red"},
		"wrong type":        {"name": "x", "message": "y", "time_on_site": "5"},
	} {
		if got, v := c.call("POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", adminTok, body); got != 400 {
			t.Errorf("%s: %d %v; want 400", name, got, v)
		}
	}
	c.must(403, "POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", agentTok, map[string]any{"name": "x", "message": "y", "chat_opened": true})
	c.must(401, "GET", "/api/v1/admin/triggers", "/api/v1/admin/triggers", "", nil)
	_, listed := c.call("GET", "/api/v1/admin/triggers", "/api/v1/admin/triggers", adminTok, nil)
	if list, _ := listed.([]any); len(list) != 3 {
		t.Fatalf("listed %v; want the 3 valid triggers", listed)
	}

	// Changes.
	changed := c.must(200, "PATCH", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, map[string]any{"time_on_site": 1, "description": "Plans page"})
	if changed["time_on_site"] != 1.0 || changed["url_pattern"] != `/pricing(/|$)` || changed["description"] != "Plans page" {
		t.Errorf("changed %v", changed)
	}
	c.must(400, "PATCH", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, map[string]any{"url_pattern": `\pL`})
	if got := c.must(200, "GET", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, nil); got["url_pattern"] != `/pricing(/|$)` {
		t.Errorf("a refused change was stored: %v", got)
	}
	c.must(404, "GET", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/99999", adminTok, nil)
	c.must(400, "GET", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/abc", adminTok, nil)

	// Another tenant's admin sees none of them and reaches none by ID.
	tenant := c.must(201, "POST", "/api/v1/admin/tenants", "/api/v1/admin/tenants", adminTok, map[string]any{"name": "Other"})
	c.must(201, "POST", "/api/v1/admin/agents", "/api/v1/admin/agents", adminTok, map[string]any{
		"tenant_id": tenant["id"], "login": "otheradmin", "password": "other-password-123", "display_name": "Olga", "role": "admin"})
	otherTok := login(tenant["id"], "otheradmin", "other-password-123")
	_, listed = c.call("GET", "/api/v1/admin/triggers", "/api/v1/admin/triggers", otherTok, nil)
	if list, _ := listed.([]any); len(list) != 0 {
		t.Errorf("the other tenant lists %v", listed)
	}
	c.must(404, "GET", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, otherTok, nil)
	c.must(404, "PATCH", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, otherTok, map[string]any{"enabled": false})
	c.must(404, "DELETE", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, otherTok, nil)
	c.must(400, "POST", "/api/v1/admin/triggers", "/api/v1/admin/triggers", otherTok, map[string]any{
		"name": "x", "message": "y", "chat_opened": true, "group_id": group.ID})
	if got := c.must(200, "GET", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, nil); got["enabled"] != true {
		t.Errorf("the other tenant changed the trigger: %v", got)
	}

	// The widget's read: enabled only, the group's and every group's,
	// only the widget's fields, cacheable.
	pub := c.must(200, "GET", "/api/v1/public/triggers", "/api/v1/public/triggers?tenant_id=-1&group_id="+gid, "", nil)
	var ids []string
	for _, x := range pub["triggers"].([]any) {
		m := x.(map[string]any)
		ids = append(ids, idOf(m))
		for k := range m {
			if k == "name" || k == "description" || k == "tenant_id" || k == "enabled" || k == "created_at" {
				t.Errorf("public trigger has %q: %v", k, m)
			}
		}
	}
	if strings.Join(ids, ",") != pricingID+","+idOf(opened) {
		t.Errorf("public triggers %v; want %s and %s, not the disabled %s", ids, pricingID, idOf(opened), idOf(off))
	}
	pub = c.must(200, "GET", "/api/v1/public/triggers", "/api/v1/public/triggers", "", nil)
	if list := pub["triggers"].([]any); len(list) != 1 {
		t.Errorf("without a group: %v; want only the trigger of every group", list)
	}
	pub = c.must(200, "GET", "/api/v1/public/triggers", "/api/v1/public/triggers?tenant_id="+idOf(tenant), "", nil)
	if list := pub["triggers"].([]any); len(list) != 0 {
		t.Errorf("the other tenant's widget gets %v", list)
	}
	c.must(400, "GET", "/api/v1/public/triggers", "/api/v1/public/triggers?group_id=x", "", nil)
	res, err := http.Get(ts.URL + "/api/v1/public/triggers")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control %q", cc)
	}
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/public/triggers", nil)
	req.Header.Set("If-None-Match", etag)
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if etag == "" || res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating with ETag %q: %d; want 304", etag, res.StatusCode)
	}

	// A chat started from the greeting begins with the trigger's message
	// from its sender, before the visitor's reply.
	c.must(200, "PUT", "/api/v1/me/presence", "/api/v1/me/presence", agentTok, map[string]any{"presence": "available"})
	request := map[string]any{"group_id": group.ID, "name": "Vera", "message": "Yes: is there a yearly plan?", "trigger_id": pricing["id"]}
	started := c.must(201, "POST", "/api/v1/chats", "/api/v1/chats", "", request)
	vtok, _ := started["visitor_token"].(string)
	chatPath := "/api/v1/chats/" + started["chat"].(map[string]any)["id"].(string)
	polled := c.must(200, "GET", "/api/v1/chats/{id}/events", chatPath+"/events?after=0&wait=0", vtok, nil)
	var messages []string
	for _, x := range polled["events"].([]any) {
		e := x.(map[string]any)
		if e["type"] == "message" {
			from := e["from"].(map[string]any)
			messages = append(messages, from["kind"].(string)+"/"+str(from["name"])+": "+e["text"].(string))
		}
	}
	want := []string{"agent/Pia: Questions about our plans?", "visitor/Vera: Yes: is there a yearly plan?", "system/: Please wait."}
	if strings.Join(messages, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages\n%s\nwant\n%s", strings.Join(messages, "\n"), strings.Join(want, "\n"))
	}
	// A trigger that does not apply (any more) adds nothing; the chat starts.
	for name, id := range map[string]any{"disabled": off["id"], "missing": 99999, "negative": -3} {
		request["trigger_id"] = id
		started := c.must(201, "POST", "/api/v1/chats", "/api/v1/chats", "", request)
		chatPath := "/api/v1/chats/" + started["chat"].(map[string]any)["id"].(string)
		polled := c.must(200, "GET", "/api/v1/chats/{id}/events", chatPath+"/events?after=0&wait=0", started["visitor_token"].(string), nil)
		for _, x := range polled["events"].([]any) {
			if e := x.(map[string]any); e["type"] == "message" && e["from"].(map[string]any)["kind"] == "agent" {
				t.Errorf("a chat from a %s trigger has the message %v", name, e)
			}
		}
	}
	request["trigger_id"] = "7"
	c.must(400, "POST", "/api/v1/chats", "/api/v1/chats", "", request)

	c.must(204, "DELETE", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, nil)
	c.must(404, "DELETE", "/api/v1/admin/triggers/{id}", "/api/v1/admin/triggers/"+pricingID, adminTok, nil)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
