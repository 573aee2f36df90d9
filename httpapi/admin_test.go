package httpapi

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// testPNG is a small real PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func idOf(t *testing.T, m map[string]any) string {
	t.Helper()
	id, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", m)
	}
	return strconv.FormatFloat(id, 'f', -1, 64)
}

// wantField checks an error answer's code and field.
func wantField(t *testing.T, v any, code, field string) {
	t.Helper()
	e, _ := v.(map[string]any)["error"].(map[string]any)
	if e["code"] != code || e["field"] != field {
		t.Errorf("error %v; want code %s on field %q", e, code, field)
	}
}

// TestAdminTenantIsolation: the superadmin creates tenant Acme with its
// first admin, who signs in with the one-time link; that admin manages
// Acme only: every record of the default tenant is "not found" to it.
func TestAdminTenantIsolation(t *testing.T) {
	_, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	root := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "admin", "password": openAPIPassword})["token"].(string)
	agent1 := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "agent1", "password": openAPIPassword})
	agent1ID := idOf(t, agent1["agent"].(map[string]any))

	// A bad first admin creates nothing, and says which field is wrong.
	_, v := c.call("POST", "/api/v1/admin/tenants", "/api/v1/admin/tenants", root, map[string]any{"name": "Acme", "admin": map[string]any{"login": "no spaces"}})
	wantField(t, v, "invalid", "admin.login")
	_, list := c.call("GET", "/api/v1/admin/tenants", "/api/v1/admin/tenants", root, nil)
	if n := len(list.([]any)); n != 1 {
		t.Fatalf("%d tenants after a refused create; want only the default", n)
	}
	created := c.must(201, "POST", "/api/v1/admin/tenants", "/api/v1/admin/tenants", root,
		map[string]any{"name": "Acme", "admin": map[string]any{"login": "ada", "display_name": "Ada Admin"}})
	acme := idOf(t, created)
	inv := created["invitation"].(map[string]any)
	token := inv["token"].(string)

	// The admin cannot sign in before choosing a password.
	c.must(401, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"tenant_id": created["id"], "login": "ada", "password": ""})
	_, v = c.call("POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": token, "password": "short"})
	wantField(t, v, "invalid", "password")
	signedIn := c.must(200, "POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": token, "password": "acme-admin-password"})
	ada := signedIn["token"].(string)
	c.must(404, "POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": token, "password": "another-password-1"})
	c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"tenant_id": created["id"], "login": "ada", "password": "acme-admin-password"})

	// Acme's admin works in Acme.
	sales := c.must(201, "POST", "/api/v1/admin/groups", "/api/v1/admin/groups", ada, map[string]any{"name": "Sales"})
	if sales["tenant_id"] != created["id"] {
		t.Errorf("Acme's group is in tenant %v", sales["tenant_id"])
	}
	_, gs := c.call("GET", "/api/v1/admin/groups", "/api/v1/admin/groups", ada, nil)
	if n := len(gs.([]any)); n != 1 {
		t.Errorf("Acme's admin lists %d groups; want its one", n)
	}

	// …and nowhere else.
	gid := strconv.FormatInt(group.ID, 10)
	c.must(403, "GET", "/api/v1/admin/tenants", "/api/v1/admin/tenants", ada, nil)
	if own := c.must(200, "GET", "/api/v1/admin/tenant", "/api/v1/admin/tenant", ada, nil); own["name"] != "Acme" {
		t.Errorf("Acme's admin works on %v", own)
	}
	c.must(404, "GET", "/api/v1/admin/tenant", "/api/v1/admin/tenant?tenant_id=-1", ada, nil)
	c.must(403, "PATCH", "/api/v1/admin/tenants/{id}", "/api/v1/admin/tenants/-1", ada, map[string]any{"name": "Mine"})
	c.must(404, "GET", "/api/v1/admin/groups/{id}", "/api/v1/admin/groups/"+gid, ada, nil)
	c.must(404, "PATCH", "/api/v1/admin/groups/{id}", "/api/v1/admin/groups/"+gid, ada, map[string]any{"name": "Mine"})
	c.must(404, "GET", "/api/v1/admin/groups", "/api/v1/admin/groups?tenant_id=-1", ada, nil)
	c.must(404, "GET", "/api/v1/admin/agents", "/api/v1/admin/agents?tenant_id=-1", ada, nil)
	c.must(404, "GET", "/api/v1/admin/agents/{id}", "/api/v1/admin/agents/"+agent1ID, ada, nil)
	c.must(404, "PATCH", "/api/v1/admin/agents/{id}", "/api/v1/admin/agents/"+agent1ID, ada, map[string]any{"chat_name": "x"})
	for _, action := range []string{"invite", "password-reset", "disable", "enable", "sign-out"} {
		c.must(404, "POST", "/api/v1/admin/agents/{id}/"+action, "/api/v1/admin/agents/"+agent1ID+"/"+action, ada, nil)
	}
	c.must(404, "PUT", "/api/v1/admin/agents/{id}/photo", "/api/v1/admin/agents/"+agent1ID+"/photo", ada, testPNG(t))
	c.must(404, "DELETE", "/api/v1/admin/agents/{id}/photo", "/api/v1/admin/agents/"+agent1ID+"/photo", ada, nil)
	c.must(404, "GET", "/api/v1/admin/widget", "/api/v1/admin/widget?tenant_id=-1", ada, nil)
	c.must(404, "PUT", "/api/v1/admin/widget", "/api/v1/admin/widget?tenant_id=-1", ada, map[string]any{"title": "Mine"})
	c.must(404, "GET", "/api/v1/admin/audit", "/api/v1/admin/audit?tenant_id=-1", ada, nil)
	c.must(404, "POST", "/api/v1/admin/groups", "/api/v1/admin/groups", ada, map[string]any{"tenant_id": -1, "name": "Mine"})

	// Each tenant's audit log holds its own entries only.
	_, entries := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit", ada, nil)
	var actions []string
	for _, e := range entries.([]any) {
		m := e.(map[string]any)
		if m["tenant_id"] != created["id"] {
			t.Errorf("Acme's log holds %v", m)
		}
		actions = append(actions, m["action"].(string))
	}
	if got := strings.Join(actions, " "); got != "group.create agent.password_set agent.invite agent.create tenant.create" {
		t.Errorf("Acme's log: %s", got)
	}
	_, rootLog := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit", root, nil)
	if n := len(rootLog.([]any)); n != 0 {
		t.Errorf("the default tenant's log has %d entries; Acme's actions went there", n)
	}
	_, rootAcme := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit?tenant_id="+acme, root, nil)
	if n := len(rootAcme.([]any)); n != 5 {
		t.Errorf("the superadmin reads %d entries of Acme's log; want 5", n)
	}
}

// TestAdminAgents covers an agent's life in the admin API: created
// without a password, invited, disabled (signed out, refused), enabled,
// its password reset and sessions ended, a photo uploaded and served
// publicly; each step in the audit log with the client's address.
func TestAdminAgents(t *testing.T) {
	_, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	root := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "admin", "password": openAPIPassword})["token"].(string)

	_, v := c.call("POST", "/api/v1/admin/agents", "/api/v1/admin/agents", root, map[string]any{"login": "carol", "capacity": 99})
	wantField(t, v, "invalid", "capacity")
	_, v = c.call("POST", "/api/v1/admin/agents", "/api/v1/admin/agents", root, map[string]any{"login": "agent1"})
	wantField(t, v, "invalid", "login")
	_, v = c.call("POST", "/api/v1/admin/agents", "/api/v1/admin/agents", root, map[string]any{"login": "carol", "groups": []any{map[string]any{"group_id": 999}}})
	wantField(t, v, "invalid", "groups")
	carol := c.must(201, "POST", "/api/v1/admin/agents", "/api/v1/admin/agents", root,
		map[string]any{"login": "carol", "display_name": "Carol Clark", "groups": []any{map[string]any{"group_id": group.ID}}})
	id := idOf(t, carol)
	base := "/api/v1/admin/agents/" + id
	inv := c.must(201, "POST", "/api/v1/admin/agents/{id}/invite", base+"/invite", root, nil)
	again := c.must(201, "POST", "/api/v1/admin/agents/{id}/invite", base+"/invite", root, nil)
	c.must(404, "POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": inv["token"], "password": "carols-password-1"})
	carolTok := c.must(200, "POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": again["token"], "password": "carols-password-1"})["token"].(string)
	c.must(200, "GET", "/api/v1/me", "/api/v1/me", carolTok, nil)

	// Disabled: signed out at once, refused at login, absent from the portal.
	c.must(409, "POST", "/api/v1/admin/agents/{id}/disable", "/api/v1/admin/agents/"+idOf(t, c.must(200, "GET", "/api/v1/me", "/api/v1/me", root, nil))+"/disable", root, nil)
	if d := c.must(200, "POST", "/api/v1/admin/agents/{id}/disable", base+"/disable", root, nil); d["disabled"] != true || d["presence"] != "offline" {
		t.Errorf("disabled agent %v", d)
	}
	c.must(401, "GET", "/api/v1/me", "/api/v1/me", carolTok, nil)
	c.must(401, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "carol", "password": "carols-password-1"})
	c.must(404, "GET", "/api/v1/public/agents/{id}", "/api/v1/public/agents/"+id, "", nil)
	c.must(200, "POST", "/api/v1/admin/agents/{id}/enable", base+"/enable", root, nil)
	carolTok = c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "carol", "password": "carols-password-1"})["token"].(string)
	second := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "carol", "password": "carols-password-1"})["token"].(string)

	if n := c.must(200, "POST", "/api/v1/admin/agents/{id}/sign-out", base+"/sign-out", root, nil); n["ended"] != 2.0 {
		t.Errorf("sign out ended %v sessions; want 2", n["ended"])
	}
	c.must(401, "GET", "/api/v1/me", "/api/v1/me", carolTok, nil)
	c.must(401, "GET", "/api/v1/me", "/api/v1/me", second, nil)

	// A reset stops the old password at once.
	reset := c.must(201, "POST", "/api/v1/admin/agents/{id}/password-reset", base+"/password-reset", root, nil)
	if reset["purpose"] != "reset" {
		t.Errorf("reset link %v", reset)
	}
	c.must(401, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "carol", "password": "carols-password-1"})
	c.must(200, "POST", "/api/v1/auth/invite", "/api/v1/auth/invite", "", map[string]any{"token": reset["token"], "password": "carols-password-2"})

	// Photos: not an image is refused next to the field; a PNG is served.
	_, v = c.call("PUT", "/api/v1/admin/agents/{id}/photo", base+"/photo", root, []byte("<svg onload=alert(1)>"))
	wantField(t, v, "invalid", "photo")
	c.must(413, "PUT", "/api/v1/admin/agents/{id}/photo", base+"/photo", root, make([]byte, 600<<10))
	pic := testPNG(t)
	withPhoto := c.must(200, "PUT", "/api/v1/admin/agents/{id}/photo", base+"/photo", root, pic)
	url, _ := withPhoto["photo_url"].(string)
	if !strings.HasPrefix(url, "/api/v1/public/agents/"+id+"/photo?v=") {
		t.Fatalf("photo_url %q", url)
	}
	resp, err := http.Get(ts.URL + url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, pic) ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("photo: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
	}
	if p := c.must(200, "GET", "/api/v1/public/agents/{id}", "/api/v1/public/agents/"+id, "", nil); p["photo_url"] != url {
		t.Errorf("the card's photo_url %v; want %s", p["photo_url"], url)
	}
	c.must(200, "DELETE", "/api/v1/admin/agents/{id}/photo", base+"/photo", root, nil)
	c.must(404, "GET", "/api/v1/public/agents/{id}/photo", "/api/v1/public/agents/"+id+"/photo", "", nil)

	_, entries := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit?target_kind=agent&target_id="+id, root, nil)
	var actions []string
	for _, e := range entries.([]any) {
		m := e.(map[string]any)
		actions = append(actions, m["action"].(string))
		if m["actor_login"] != "admin" && m["action"] != "agent.password_set" {
			t.Errorf("entry by %v", m["actor_login"])
		}
		if m["remote_addr"] != "127.0.0.1" {
			t.Errorf("entry from %q; want 127.0.0.1", m["remote_addr"])
		}
	}
	want := "agent.photo agent.photo agent.password_set agent.password_reset agent.sign_out agent.enable agent.disable agent.password_set agent.invite agent.invite agent.create"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit log\n got %s\nwant %s", got, want)
	}
	_, prefixed := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit?action=agent.invite", root, nil)
	if n := len(prefixed.([]any)); n != 2 {
		t.Errorf("%d invite entries; want 2", n)
	}
	// The log has no write API.
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		req, _ := http.NewRequest(m, ts.URL+"/api/v1/admin/audit", nil)
		req.Header.Set("Authorization", "Bearer "+root)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/v1/admin/audit: %d; want 405", m, resp.StatusCode)
		}
	}
}

// TestAdminGroupSettings: hours and holidays are checked field by field,
// the transcript preview renders the real template, and a group change
// is logged with the names of the changed fields.
func TestAdminGroupSettings(t *testing.T) {
	_, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	root := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "admin", "password": openAPIPassword})["token"].(string)
	gpath := "/api/v1/admin/groups/" + strconv.FormatInt(group.ID, 10)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"routing": map[string]any{"time_zone": "Mars/Olympus"}}, "routing.time_zone"},
		{map[string]any{"routing": map[string]any{"hours": []any{map[string]any{"day": "mon", "open": "18:00", "close": "09:00"}}}}, "routing.hours"},
		{map[string]any{"routing": map[string]any{"holidays": []any{"2026-13-01"}}}, "routing.holidays"},
		{map[string]any{"transcript": map[string]any{"sender": "not an address"}}, "transcript.sender"},
		{map[string]any{"transcript": map[string]any{"offline_to": "x@"}}, "transcript.offline_to"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"limits": map[string]any{"capacity": 0}}, "limits.capacity"},
	} {
		_, v := c.call("PATCH", "/api/v1/admin/groups/{id}", gpath, root, tc.body)
		wantField(t, v, "invalid", tc.field)
	}
	week := []any{map[string]any{"day": "mon", "open": "09:00", "close": "17:00"}, map[string]any{"day": "tue", "open": "09:00", "close": "17:00"}}
	c.must(200, "PATCH", "/api/v1/admin/groups/{id}", gpath, root, map[string]any{
		"closed_message": "We are closed.",
		"routing":        map[string]any{"time_zone": "Europe/Berlin", "hours": week, "holidays": []any{"2026-12-25"}}})
	got := c.must(200, "GET", "/api/v1/admin/groups/{id}", gpath, root, nil)
	if r := got["routing"].(map[string]any); r["time_zone"] != "Europe/Berlin" || len(r["holidays"].([]any)) != 1 {
		t.Errorf("stored routing %v", r)
	}

	preview := c.must(200, "POST", "/api/v1/admin/groups/transcript-preview", "/api/v1/admin/groups/transcript-preview", root, map[string]any{
		"name": "Support", "transcript": map[string]any{"sender": "help@example.com", "subject": "Chat with $ServiceGroup$ for $Customer$",
			"template": "<p>Dear $Customer$,</p>$Transcript$", "html": true}})
	if preview["subject"] != "Chat with Support for Vera Example" || preview["from"] != "help@example.com" ||
		!strings.Contains(preview["html"].(string), "<p>Dear Vera Example,</p>") || !strings.Contains(preview["html"].(string), "arrives tomorrow") {
		t.Errorf("preview %v", preview)
	}
	_, v := c.call("POST", "/api/v1/admin/groups/transcript-preview", "/api/v1/admin/groups/transcript-preview", root, map[string]any{
		"name": "Support", "transcript": map[string]any{"subject": "two\nlines"}})
	wantField(t, v, "invalid", "transcript.subject")

	_, entries := c.call("GET", "/api/v1/admin/audit", "/api/v1/admin/audit?action=group.", root, nil)
	list := entries.([]any)
	if len(list) != 1 {
		t.Fatalf("group entries %v; want the one accepted change", list)
	}
	if d := list[0].(map[string]any)["detail"]; d != "changed: closed_message, routing.holidays, routing.hours, routing.time_zone" {
		t.Errorf("detail %q", d)
	}

	// The widget's appearance.
	_, v = c.call("PUT", "/api/v1/admin/widget", "/api/v1/admin/widget", root, map[string]any{"header_background": "teal"})
	wantField(t, v, "invalid", "header_background")
	_, v = c.call("PUT", "/api/v1/admin/widget", "/api/v1/admin/widget", root, map[string]any{"logo": "http://example.com/x.png"})
	wantField(t, v, "invalid", "logo")
	c.must(200, "PUT", "/api/v1/admin/widget", "/api/v1/admin/widget", root, map[string]any{"header_background": "#0f766e", "title": "Talk to us", "texts": map[string]any{"greeting": "Hi!"}})
	if w := c.must(200, "GET", "/api/v1/admin/widget", "/api/v1/admin/widget", root, nil); w["header_background"] != "#0f766e" {
		t.Errorf("widget %v", w)
	}
}
