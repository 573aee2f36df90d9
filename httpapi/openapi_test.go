package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/sqlite"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	return doc
}

// openAPIResolve follows a local reference ("#/a/b") inside doc.
func openAPIResolve(doc map[string]any, ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("%q is not a reference inside the document", ref)
	}
	var cur any = doc
	if frag == "" {
		return cur, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no %q", ref, tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q: no index %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q: %q is inside a scalar", ref, tok)
		}
	}
	return cur, nil
}

// openAPIDeref follows $ref until it reaches an object without one.
func openAPIDeref(doc, obj map[string]any) (map[string]any, error) {
	for range 20 {
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, nil
		}
		target, err := openAPIResolve(doc, ref)
		if err != nil {
			return nil, err
		}
		if obj, ok = target.(map[string]any); !ok {
			return nil, fmt.Errorf("%q does not point at an object", ref)
		}
	}
	return nil, fmt.Errorf("reference chain too long at %v", obj["$ref"])
}

// openAPIAt returns the value under keys in nested objects, or nil.
func openAPIAt(v any, keys ...string) any {
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

// openAPIWalk calls fn for every object in v, with its JSON path.
func openAPIWalk(where string, v any, fn func(where string, obj map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(where, v)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			openAPIWalk(where+"/"+k, v[k], fn)
		}
	case []any:
		for i, e := range v {
			openAPIWalk(where+"/"+strconv.Itoa(i), e, fn)
		}
	}
}

// openAPIOperations calls fn for every operation of the document.
func openAPIOperations(t *testing.T, doc map[string]any, fn func(method, path string, item, op map[string]any)) {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json has no paths object")
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item, ok := paths[p].(map[string]any)
		if !ok {
			t.Errorf("path %s is not an object", p)
			continue
		}
		for _, m := range openAPIMethods {
			if op, ok := item[m].(map[string]any); ok {
				fn(strings.ToUpper(m), p, item, op)
			} else if item[m] != nil {
				t.Errorf("%s %s is not an object", m, p)
			}
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	doc := openAPIDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q; want 3.x", v)
	}
	if title, version := openAPIAt(doc, "info", "title"), openAPIAt(doc, "info", "version"); title != "Parley native API" || version != "1" {
		t.Errorf("info has title %v and version %v; want %q and %q", title, version, "Parley native API", "1")
	}
	refs := 0
	openAPIWalk("#", doc, func(where string, obj map[string]any) {
		ref, ok := obj["$ref"]
		if !ok {
			return
		}
		s, ok := ref.(string)
		if !ok {
			t.Errorf("%s: $ref is not a string", where)
			return
		}
		refs++
		if _, err := openAPIResolve(doc, s); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	})
	if refs == 0 {
		t.Error("the document has no $ref at all; the schemas are not shared")
	}
	for name, want := range map[string]string{"bearerAuth": "http", "sessionCookie": "apiKey"} {
		if got := openAPIAt(doc, "components", "securitySchemes", name, "type"); got != want {
			t.Errorf("security scheme %s has type %v; want %s", name, got, want)
		}
	}
}

// TestOpenAPIRoutes keeps the document and the route table in step: add a
// route and this fails until it is documented.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	routed := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		if routed[key] {
			t.Errorf("route %s is in the routes table twice", key)
		}
		routed[key] = true
	}
	documented := map[string]bool{}
	paramName := regexp.MustCompile(`\{([^{}]+)\}`)
	openAPIOperations(t, doc, func(method, path string, item, op map[string]any) {
		if strings.HasPrefix(path, "/api/v1/") {
			documented[method+" "+path] = true
		}
		// The path's parameters and the operation's path parameters must
		// be the same set (path-item parameters apply to every operation).
		want := map[string]bool{}
		for _, m := range paramName.FindAllStringSubmatch(path, -1) {
			want[m[1]] = true
		}
		declared := map[string]bool{}
		var params []any
		if ps, ok := item["parameters"].([]any); ok {
			params = append(params, ps...)
		}
		if ps, ok := op["parameters"].([]any); ok {
			params = append(params, ps...)
		}
		for _, p := range params {
			obj, _ := p.(map[string]any)
			param, err := openAPIDeref(doc, obj)
			if err != nil {
				t.Errorf("%s %s: parameter: %v", method, path, err)
				continue
			}
			if param["in"] != "path" {
				continue
			}
			name, _ := param["name"].(string)
			declared[name] = true
			if param["required"] != true {
				t.Errorf("%s %s: path parameter %q is not required", method, path, name)
			}
			if !want[name] {
				t.Errorf("%s %s: declares path parameter %q that the path does not have", method, path, name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(want)) {
			if !declared[name] {
				t.Errorf("%s %s: path parameter {%s} is not declared", method, path, name)
			}
		}
	})
	// The endpoints outside /api/v1 that the server also answers.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if tags, _ := openAPIAt(doc, "paths", p, "get", "tags").([]any); !slices.Contains(tags, any("Operations")) {
			t.Errorf("GET %s is not documented under the Operations tag", p)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(routed)) {
		if !documented[k] {
			t.Errorf("route %s is not documented in openapi.json", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(documented)) {
		if !routed[k] {
			t.Errorf("openapi.json documents %s, which is not in the routes table", k)
		}
	}
}

func TestOpenAPIOperationIDs(t *testing.T) {
	doc := openAPIDoc(t)
	seen := map[string]string{}
	openAPIOperations(t, doc, func(method, path string, _, op map[string]any) {
		where := method + " " + path
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", where)
		} else if prev, dup := seen[id]; dup {
			t.Errorf("operationId %q is used by %s and %s", id, prev, where)
		}
		seen[id] = where
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", where)
		}
		if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
			t.Errorf("%s has no responses", where)
		}
	})
}

// openAPIServer runs the API over a real store and bus with group Support,
// agent1 (in Support) and admin, all with password openAPIPassword.
func openAPIServer(t *testing.T) (*Server, *httptest.Server, *parley.Group) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus, err := natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	svc := conversation.New(store, bus, conversation.Config{FilesDir: t.TempDir()}, nil)
	api := New(svc, Options{})
	ts := httptest.NewServer(api.Handler(nil))
	t.Cleanup(func() {
		api.Shutdown()
		ts.Close()
		svc.Close()
		bus.Close()
		store.Close()
	})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	group := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support", WelcomeMessage: "Welcome!", QueueMessage: "Please wait."}
	agent := func(login string, role parley.Role) *parley.Agent {
		return &parley.Agent{TenantID: parley.DefaultTenantID, Login: login, DisplayName: login, Role: role,
			Capacity: 2, Presence: parley.PresenceOffline, Status: parley.StatusReady,
			Groups: []parley.Membership{}}
	}
	agent1 := agent("agent1", parley.RoleAgent)
	if err := svc.Seed(ctx, []*parley.Group{group}, nil, openAPIPassword); err != nil {
		t.Fatal(err)
	}
	agent1.Groups = []parley.Membership{{GroupID: group.ID}}
	if err := svc.Seed(ctx, nil, []*parley.Agent{agent1, agent("admin", parley.RoleAdmin)}, openAPIPassword); err != nil {
		t.Fatal(err)
	}
	return api, ts, group
}

const openAPIPassword = "openapi-password-1"

func TestOpenAPIServed(t *testing.T) {
	_, ts, _ := openAPIServer(t)
	resp, err := http.Get(ts.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if !bytes.Equal(got, openapiJSON) {
		t.Errorf("served %d bytes that differ from the embedded %d bytes", len(got), len(openapiJSON))
	}
}

// openAPIClient calls the API and checks every answer against the
// document: the status must be documented for the operation, and a JSON
// body must match the documented schema.
type openAPIClient struct {
	t   *testing.T
	url string
	doc map[string]any
}

// call sends method to urlPath (pattern is its path in the document) and
// returns the status and the decoded JSON body (nil when there is none).
// body is sent as JSON, or raw when it is a []byte.
func (c *openAPIClient) call(method, pattern, urlPath, token string, body any) (int, any) {
	c.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/octet-stream"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, c.url+urlPath, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	where := fmt.Sprintf("%s %s → %d", method, urlPath, resp.StatusCode)

	if openAPIAt(c.doc, "paths", pattern, strings.ToLower(method)) == nil {
		c.t.Fatalf("%s: %s %s is not documented", where, method, pattern)
	}
	r, _ := openAPIAt(c.doc, "paths", pattern, strings.ToLower(method), "responses", strconv.Itoa(resp.StatusCode)).(map[string]any)
	if r == nil {
		c.t.Errorf("%s: status %d is not documented for %s %s (body %s)", where, resp.StatusCode, method, pattern, data)
		return resp.StatusCode, nil
	}
	r, err = openAPIDeref(c.doc, r)
	if err != nil {
		c.t.Fatalf("%s: %v", where, err)
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(data) > 0 {
			c.t.Errorf("%s: documented without a body, but got %q", where, data)
		}
		return resp.StatusCode, nil
	}
	media, _ := content["application/json"].(map[string]any)
	if media == nil {
		return resp.StatusCode, nil // not JSON (a file, a text body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s: Content-Type %q; documented as application/json", where, ct)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		c.t.Fatalf("%s: body %q is not JSON: %v", where, data, err)
	}
	schema, _ := media["schema"].(map[string]any)
	for _, p := range openAPICheck(c.doc, "body", v, schema) {
		c.t.Errorf("%s: %s", where, p)
	}
	return resp.StatusCode, v
}

// must is call that requires status want.
func (c *openAPIClient) must(want int, method, pattern, urlPath, token string, body any) map[string]any {
	c.t.Helper()
	got, v := c.call(method, pattern, urlPath, token, body)
	if got != want {
		c.t.Fatalf("%s %s = %d %v; want %d", method, urlPath, got, v, want)
	}
	obj, _ := v.(map[string]any)
	return obj
}

// openAPICheck reports where v breaks schema: a missing required
// property, a property the schema does not list, a wrong type, a value
// outside enum, minimum, maximum or pattern. It follows $ref, allOf, items
// and additionalProperties.
func openAPICheck(doc map[string]any, where string, v any, schema map[string]any) []string {
	schema, err := openAPIDeref(doc, schema)
	if err != nil {
		return []string{where + ": " + err.Error()}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if all, ok := schema["allOf"].([]any); ok {
		for _, s := range all {
			sub, _ := s.(map[string]any)
			problems = append(problems, openAPICheck(doc, where, v, sub)...)
		}
	}
	if typ, ok := schema["type"]; ok && !openAPITypeOK(typ, v) {
		add("%v is not of type %v", v, typ)
		return problems
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if s, ok := v.(string); ok && e == s {
				found = true
			}
		}
		if !found {
			add("%v is not one of %v", v, enum)
		}
	}
	if n, ok := v.(float64); ok {
		if lo, ok := schema["minimum"].(float64); ok && n < lo {
			add("%v is below the minimum %v", n, lo)
		}
		if hi, ok := schema["maximum"].(float64); ok && n > hi {
			add("%v is above the maximum %v", n, hi)
		}
	}
	if s, ok := v.(string); ok {
		if pat, ok := schema["pattern"].(string); ok && !regexp.MustCompile(pat).MatchString(s) {
			add("%q does not match %s", s, pat)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, hasProps := schema["properties"].(map[string]any)
		extra, hasExtra := schema["additionalProperties"].(map[string]any)
		if !hasProps && !hasExtra {
			return problems // an open schema such as {"type": "object"}
		}
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				name, _ := r.(string)
				if _, present := v[name]; !present {
					add("required property %q is missing", name)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			switch ps, ok := props[k].(map[string]any); {
			case ok:
				problems = append(problems, openAPICheck(doc, where+"."+k, v[k], ps)...)
			case hasExtra:
				problems = append(problems, openAPICheck(doc, where+"."+k, v[k], extra)...)
			default:
				add("property %q is not in the schema", k)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				problems = append(problems, openAPICheck(doc, where+"["+strconv.Itoa(i)+"]", e, items)...)
			}
		}
	}
	return problems
}

func openAPITypeOK(typ, v any) bool {
	if list, ok := typ.([]any); ok {
		return slices.ContainsFunc(list, func(t any) bool { return openAPITypeOK(t, v) })
	}
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "null":
		return v == nil
	}
	return false
}

// TestOpenAPICheckerCatches makes sure the checker used below is not
// vacuous.
func TestOpenAPICheckerCatches(t *testing.T) {
	doc := openAPIDoc(t)
	schema := map[string]any{"$ref": "#/components/schemas/QueueInfo"}
	for name, tc := range map[string]struct {
		v    string
		want string
	}{
		"missing":   {`{"position": 1}`, `required property "estimated_wait"`},
		"unknown":   {`{"position": 1, "estimated_wait": 5, "eta": 3}`, `property "eta" is not in the schema`},
		"type":      {`{"position": "1", "estimated_wait": 5}`, "is not of type integer"},
		"minimum":   {`{"position": 1, "estimated_wait": -2}`, "below the minimum"},
		"not array": {`[]`, "is not of type object"},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.v), &v); err != nil {
			t.Fatal(err)
		}
		problems := openAPICheck(doc, "body", v, schema)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("%s: problems %q; want one with %q", name, problems, tc.want)
		}
	}
	var good any
	_ = json.Unmarshal([]byte(`{"position": 0, "estimated_wait": -1}`), &good)
	if p := openAPICheck(doc, "body", good, schema); len(p) > 0 {
		t.Errorf("a valid QueueInfo has problems %q", p)
	}
}

// TestOpenAPIResponses runs a whole chat over the API and checks every
// answer, successes and errors, against the document.
func TestOpenAPIResponses(t *testing.T) {
	_, ts, group := openAPIServer(t)
	c := &openAPIClient{t: t, url: ts.URL, doc: openAPIDoc(t)}
	gid := strconv.FormatInt(group.ID, 10)

	config := c.must(200, "GET", "/api/v1/config", "/api/v1/config", "", nil)
	if config["max_message_length"] != float64(conversation.DefaultMaxMessageLength) ||
		config["offer_timeout_seconds"] != conversation.DefaultOfferTimeout.Seconds() {
		t.Errorf("config = %v", config)
	}
	c.must(200, "GET", "/healthz", "/healthz", "", nil)
	c.must(200, "GET", "/readyz", "/readyz", "", nil)
	if st := c.must(200, "GET", "/api/v1/groups/{id}/status", "/api/v1/groups/"+gid+"/status", "", nil); st["open"] != false {
		t.Errorf("group status with nobody logged in = %v", st)
	}
	request := map[string]any{"group_id": group.ID, "name": "Vera", "message": "Hello"}
	c.must(409, "POST", "/api/v1/chats", "/api/v1/chats", "", request)

	login := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "agent1", "password": openAPIPassword})
	agentTok, _ := login["token"].(string)
	c.must(200, "PUT", "/api/v1/me/presence", "/api/v1/me/presence", agentTok, map[string]any{"presence": "available"})
	c.must(200, "GET", "/api/v1/me", "/api/v1/me", agentTok, nil)
	c.must(200, "GET", "/api/v1/groups", "/api/v1/groups", agentTok, nil)
	c.must(200, "GET", "/api/v1/agents", "/api/v1/agents", agentTok, nil)

	started := c.must(201, "POST", "/api/v1/chats", "/api/v1/chats", "", request)
	visitorTok, _ := started["visitor_token"].(string)
	chat, _ := started["chat"].(map[string]any)
	chatID, _ := chat["id"].(string)
	chatPath := "/api/v1/chats/" + chatID
	_, mine := c.call("GET", "/api/v1/me/chats", "/api/v1/me/chats?wait=0", agentTok, nil)
	if list, _ := mine.([]any); len(list) != 1 {
		t.Fatalf("the agent's chats = %v; want the offered chat", mine)
	}
	c.must(200, "POST", "/api/v1/chats/{id}/accept", chatPath+"/accept", agentTok, nil)

	c.must(201, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", visitorTok, map[string]any{"text": "Where is my order?", "client_id": "c-1"})
	c.must(201, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", agentTok, map[string]any{"text": "Let me check."})
	c.must(204, "POST", "/api/v1/chats/{id}/typing", chatPath+"/typing", agentTok, map[string]any{"typing": true})
	file := c.must(201, "POST", "/api/v1/chats/{id}/files", chatPath+"/files?name=note.txt", visitorTok, []byte("order 42\n"))
	att, _ := file["file"].(map[string]any)
	attID, _ := att["id"].(string)
	c.must(200, "GET", "/api/v1/chats/{id}/files/{file}", chatPath+"/files/"+attID, agentTok, nil)

	c.must(200, "GET", "/api/v1/chats/{id}", chatPath, agentTok, nil)
	c.must(200, "GET", "/api/v1/chats/{id}", chatPath, visitorTok, nil)
	c.must(200, "GET", "/api/v1/chats/{id}/events", chatPath+"/events?after=0", agentTok, nil)
	polled := c.must(200, "GET", "/api/v1/chats/{id}/events", chatPath+"/events?after=0&wait=0", visitorTok, nil)
	events, _ := polled["events"].([]any)
	if len(events) == 0 {
		t.Fatal("the visitor's poll returned no events")
	}
	lastSeq := events[len(events)-1].(map[string]any)["seq"].(float64)
	openAPIWebSocket(t, c, visitorTok, chatID, lastSeq)

	// Errors.
	c.must(401, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", "", map[string]any{"text": "hi"})
	c.must(400, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", visitorTok, map[string]any{"text": "hi", "extra": 1})
	c.must(404, "GET", "/api/v1/chats/{id}", "/api/v1/chats/not-a-chat", agentTok, nil)
	c.must(403, "GET", "/api/v1/me", "/api/v1/me", visitorTok, nil)
	c.must(204, "POST", "/api/v1/chats/{id}/leave", chatPath+"/leave", visitorTok, nil)
	ended := c.must(200, "GET", "/api/v1/chats/{id}", chatPath, visitorTok, nil)
	if ended["state"] != "terminated" || ended["cause"] != "visitor_left" {
		t.Errorf("chat after leave = %v %v", ended["state"], ended["cause"])
	}
	c.must(409, "POST", "/api/v1/chats/{id}/messages", chatPath+"/messages", visitorTok, map[string]any{"text": "hi"})

	// Admin.
	admin := c.must(200, "POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]any{"login": "admin", "password": openAPIPassword})
	adminTok, _ := admin["token"].(string)
	c.must(200, "GET", "/api/v1/admin/tenants", "/api/v1/admin/tenants", adminTok, nil)
	c.must(403, "GET", "/api/v1/admin/tenants", "/api/v1/admin/tenants", agentTok, nil)
	c.must(200, "PUT", "/api/v1/admin/retention", "/api/v1/admin/retention", adminTok, map[string]any{"retention_days": 30})
	if p := c.must(200, "GET", "/api/v1/admin/retention", "/api/v1/admin/retention", adminTok, nil); p["retention_days"] != float64(30) {
		t.Errorf("retention policy = %v; want 30 days", p)
	}
	c.must(400, "PUT", "/api/v1/admin/retention", "/api/v1/admin/retention", adminTok, map[string]any{"retention_days": -1})
	c.must(403, "PUT", "/api/v1/admin/retention", "/api/v1/admin/retention", agentTok, map[string]any{"retention_days": 1})
	c.must(400, "POST", "/api/v1/admin/erasure", "/api/v1/admin/erasure", adminTok, map[string]any{"email": "a@example.com", "phone": "1"})
	c.must(403, "POST", "/api/v1/admin/erasure", "/api/v1/admin/erasure", agentTok, map[string]any{"email": "a@example.com"})
	if rec := c.must(200, "POST", "/api/v1/admin/erasure", "/api/v1/admin/erasure", adminTok, map[string]any{"email": "nobody@example.com"}); rec["key"] != "email" {
		t.Errorf("erasure receipt = %v", rec)
	}
	sales := c.must(201, "POST", "/api/v1/admin/groups", "/api/v1/admin/groups", adminTok, map[string]any{"name": "Sales", "limits": map[string]any{"max_message_length": 500}})
	salesID := strconv.FormatFloat(sales["id"].(float64), 'f', -1, 64)
	c.must(200, "PATCH", "/api/v1/admin/groups/{id}", "/api/v1/admin/groups/"+salesID, adminTok, map[string]any{"queue_message": "One moment."})
	agentID := strconv.FormatFloat(login["agent"].(map[string]any)["id"].(float64), 'f', -1, 64)
	c.must(200, "PATCH", "/api/v1/admin/agents/{id}", "/api/v1/admin/agents/"+agentID, adminTok, map[string]any{"chat_name": "Alice"})
	c.must(204, "POST", "/api/v1/auth/logout", "/api/v1/auth/logout", agentTok, nil)
}

// openAPIWebSocket resumes the chat over the WebSocket as its visitor and
// checks every frame against ServerFrame, until the event with seq last.
func openAPIWebSocket(t *testing.T, c *openAPIClient, token, chatID string, last float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.url, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("upgrade status %d", resp.StatusCode)
	}
	if openAPIAt(c.doc, "paths", "/api/v1/ws", "get", "responses", "101") == nil {
		t.Error("GET /api/v1/ws does not document 101")
	}
	hello := map[string]any{"type": "hello", "token": token, "chats": map[string]any{chatID: 0.0}}
	if p := openAPICheck(c.doc, "hello", hello, map[string]any{"$ref": "#/components/schemas/ClientFrame"}); len(p) > 0 {
		t.Errorf("the hello breaks ClientFrame: %q", p)
	}
	data, _ := json.Marshal(hello)
	if err := conn.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after frames %v: %v", seen, err)
		}
		var f any
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %q: %v", data, err)
		}
		for _, p := range openAPICheck(c.doc, "frame", f, map[string]any{"$ref": "#/components/schemas/ServerFrame"}) {
			t.Errorf("%s (%s)", p, data)
		}
		frame, _ := f.(map[string]any)
		typ, _ := frame["type"].(string)
		seen[typ]++
		if ev, ok := frame["event"].(map[string]any); ok && typ == "event" && ev["seq"] == last {
			break
		}
	}
	if seen["ready"] != 1 || seen["chat"] != 1 || seen["event"] == 0 {
		t.Errorf("frames %v; want ready, chat, events", seen)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}
