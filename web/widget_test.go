package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// widgetConfigResponse is the JSON of GET /widget/config.
type widgetConfigResponse struct {
	Config   map[string]any    `json:"config"`
	Lang     string            `json:"lang"`
	Strings  map[string]string `json:"strings"`
	Problems []configProblem   `json:"problems"`
}

// fetchConfig asks h for the widget configuration with the given layers.
func fetchConfig(t *testing.T, h http.Handler, q url.Values) widgetConfigResponse {
	t.Helper()
	res := get(t, h, "/widget/config?"+q.Encode())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /widget/config?%s = %d %s", q.Encode(), res.StatusCode, body(t, res))
	}
	var out widgetConfigResponse
	if err := json.Unmarshal(body(t, res), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func layer(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile writes a file under dir, creating its directories.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWidgetConfigDefaults(t *testing.T) {
	got := fetchConfig(t, Handler(Options{}), url.Values{})
	for _, k := range widgetKeys() {
		if _, ok := got.Config[k.name]; !ok {
			t.Errorf("key %s missing from the resolved configuration", k.name)
		}
	}
	if got.Config["position"] != "bottom-right" || got.Config["idleTimeout"] != float64(300) || got.Config["tenant"] != float64(-1) {
		t.Errorf("defaults: position %v idleTimeout %v tenant %v", got.Config["position"], got.Config["idleTimeout"], got.Config["tenant"])
	}
	if len(got.Problems) != 0 {
		t.Errorf("problems without layers: %v", got.Problems)
	}
}

// Each layer overrides the ones below it, and only those.
func TestWidgetConfigServerFileLayer(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "widget/config.json", `{"title": "Server title", "position": "top-left", "idleTimeout": 120}`)
	writeFile(t, dir, "widget/tenant-7/config.json", `{"title": "Tenant seven"}`)
	h := Handler(Options{DataDir: dir})
	got := fetchConfig(t, h, url.Values{})
	if got.Config["title"] != "Server title" || got.Config["position"] != "top-left" || got.Config["idleTimeout"] != float64(120) {
		t.Errorf("server config.json not applied: %v", got.Config)
	}
	if got := fetchConfig(t, h, url.Values{"tenant": {"7"}}); got.Config["title"] != "Tenant seven" {
		t.Errorf("tenant 7 title %v, want its own config.json", got.Config["title"])
	}
	writeFile(t, dir, "widget/config.json", `{"title": `)
	if res := get(t, Handler(Options{DataDir: dir}), "/widget/config"); res.StatusCode != http.StatusInternalServerError {
		t.Errorf("broken config.json: status %d", res.StatusCode)
	}
}

func TestWidgetConfigHostFileLayer(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "widget/config.json", `{"title": "Server title", "position": "top-left"}`)
	got := fetchConfig(t, Handler(Options{DataDir: dir}), url.Values{
		"file": {layer(t, map[string]any{"title": "Host file", "maxAttachmentKB": 100, "hideAgentName": true})},
	})
	if got.Config["title"] != "Host file" || got.Config["maxAttachmentKB"] != float64(100) || got.Config["hideAgentName"] != true {
		t.Errorf("config.json of the host not applied: %v", got.Config)
	}
	if got.Config["position"] != "top-left" {
		t.Errorf("position %v: the server layer should remain where the file is silent", got.Config["position"])
	}
}

func TestWidgetConfigAttributeLayer(t *testing.T) {
	got := fetchConfig(t, Handler(Options{}), url.Values{
		"file":  {layer(t, map[string]any{"title": "Host file", "group": "Sales"})},
		"attrs": {layer(t, map[string]any{"title": "Attribute", "hide-agent-name": "true", "groups": `["g_1","g_2"]`, "id": "chat", "idletimeout": "90"})},
	})
	c := got.Config
	if c["title"] != "Attribute" || c["hideAgentName"] != true || c["idleTimeout"] != float64(90) || c["group"] != "Sales" {
		t.Errorf("attributes not applied: %v", c)
	}
	if g, _ := json.Marshal(c["groups"]); string(g) != `["g_1","g_2"]` {
		t.Errorf("groups %s", g)
	}
	if len(got.Problems) != 0 {
		t.Errorf("an unrelated attribute (id) must not be a problem: %v", got.Problems)
	}
}

func TestWidgetConfigParameterLayer(t *testing.T) {
	got := fetchConfig(t, Handler(Options{}), url.Values{
		"attrs":  {layer(t, map[string]any{"title": "Attribute", "lang": "en", "postedmessageallowedorigin": "https://a.example"})},
		"params": {layer(t, map[string]any{"title": "Parameter", "lang": "de", "position": "center-left", "postedMessageAllowedOrigin": "https://evil.example", "bogus": "1"})},
	})
	c := got.Config
	if c["title"] != "Parameter" || c["position"] != "center-left" || got.Lang != "de" {
		t.Errorf("parameters not applied: %v lang %s", c, got.Lang)
	}
	// The page URL is under the visitor's control: it may not widen who
	// can post messages as the visitor.
	if c["postedMessageAllowedOrigin"] != "https://a.example" {
		t.Errorf("postedMessageAllowedOrigin %v: a GET parameter must not set it", c["postedMessageAllowedOrigin"])
	}
	want := []configProblem{
		{"parameter", "bogus", "unknown key"},
		{"parameter", "postedMessageAllowedOrigin", "this key cannot be set here"},
	}
	if !slices.Equal(got.Problems, want) {
		t.Errorf("problems %v, want %v", got.Problems, want)
	}
}

func TestWidgetConfigBadValues(t *testing.T) {
	got := fetchConfig(t, Handler(Options{}), url.Values{
		"attrs": {layer(t, map[string]any{"position": "middle", "headerbackground": "red;x:url(a)", "idletimeout": "soon", "prechatphone": "maybe", "movable": "perhaps"})},
	})
	if got.Config["position"] != "bottom-right" || got.Config["headerBackground"] != "#4f46e5" || got.Config["idleTimeout"] != float64(300) {
		t.Errorf("bad values changed the configuration: %v", got.Config)
	}
	if len(got.Problems) != 5 {
		t.Errorf("want 5 problems, got %v", got.Problems)
	}
	for _, q := range []string{"attrs=%7B", "file=%5B1%5D", "tenant=x"} {
		if res := get(t, Handler(Options{}), "/widget/config?"+q); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, res.StatusCode)
		}
	}
}

func TestWidgetI18n(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "i18n/de.json", `{"start": "Los geht's"}`)
	writeFile(t, dir, "i18n/nl.json", `{"start": "Begin chat"}`)
	h := Handler(Options{DataDir: dir})
	cases := []struct{ lang, resolved, key, want string }{
		{"de", "de", "title", "Chatten Sie mit uns"},
		{"de-AT", "de", "start", "Los geht's"}, // override from the data dir
		{"fr-BE", "fr", "title", "Discutez avec nous"},
		{"fr", "fr", "queuePosition", "Vous êtes numéro {0} dans la file"},
		{"nl", "nl", "start", "Begin chat"},
		{"nl", "nl", "title", "Chat with us"}, // missing in nl: English
		{"xx", "en", "title", "Chat with us"},
		{"", "en", "tooLong", "Please keep it under {0} characters."},
		{"<script>", "en", "title", "Chat with us"},
	}
	for _, c := range cases {
		got := fetchConfig(t, h, url.Values{"params": {layer(t, map[string]any{"lang": c.lang})}})
		if got.Lang != c.resolved || got.Strings[c.key] != c.want {
			t.Errorf("lang %q: resolved %q %s=%q; want %q %q", c.lang, got.Lang, c.key, got.Strings[c.key], c.resolved, c.want)
		}
	}
	// Without a configured language the browser's decides.
	if got := fetchConfig(t, h, url.Values{"lang": {"fr-CA"}}); got.Lang != "fr" {
		t.Errorf("browser language fr-CA resolved to %q", got.Lang)
	}
}

// Every bundle has the English keys and keeps their placeholders.
func TestWidgetBundlesComplete(t *testing.T) {
	b, err := loadBundles("")
	if err != nil {
		t.Fatal(err)
	}
	ph := regexp.MustCompile(`\{\d\}`)
	for culture, m := range b.byCulture {
		for k, en := range b.byCulture["en"] {
			v, ok := m[k]
			if !ok {
				t.Errorf("%s lacks %s", culture, k)
				continue
			}
			want, got := ph.FindAllString(en, -1), ph.FindAllString(v, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s.%s has placeholders %v, English %v", culture, k, got, want)
			}
		}
	}
}

func TestWidgetLoaderIsStableAndShared(t *testing.T) {
	h := Handler(Options{})
	res := get(t, h, "/widget.js", "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for k, want := range map[string]string{
		"Cache-Control":               "public, max-age=300",
		"Access-Control-Allow-Origin": "*",
		"Content-Encoding":            "gzip",
		"Content-Type":                "text/javascript; charset=utf-8",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	etag := res.Header.Get("ETag")
	if res := get(t, h, "/widget.js", "Accept-Encoding", "gzip", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: status %d", res.StatusCode)
	}
}

func TestWidgetAppFramePolicy(t *testing.T) {
	h := Handler(Options{AllowedOrigins: []string{"https://shop.example", "https://x.example/path", "bad origin;script-src *"}})
	csp := get(t, h, "/widget/app").Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self' https://shop.example https://x.example;") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(csp, "img-src 'self' data: blob: https:;") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q: want logos from HTTPS sites and scripts from Parley only", csp)
	}
	if strings.Contains(csp, "bad") || strings.Contains(csp, "script-src *") {
		t.Errorf("a malformed origin reached the CSP: %q", csp)
	}
	if csp := get(t, Handler(Options{}), "/widget/app").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self';") {
		t.Errorf("without allowed origins: %q", csp)
	}
}

// TestWidgetSizeBudget measures what the server sends, gzipped: the
// loader every page loads, and everything the first open of the chat
// loads (the app page and the JS and CSS it pulls in).
func TestWidgetSizeBudget(t *testing.T) {
	h := Handler(Options{})
	sizeOf := func(u string) int {
		res := get(t, h, u, "Accept-Encoding", "gzip")
		b := body(t, res)
		if res.Header.Get("Content-Encoding") == "gzip" {
			return len(b)
		}
		return gzipLen(t, b)
	}
	loader := sizeOf("/widget.js")
	config := sizeOf("/widget/config")
	t.Logf("loader: %d bytes gzip; config with strings: %d bytes gzip", loader, config)
	if loader > 3*1024 {
		t.Errorf("the loader is %d bytes gzip; the budget is 3 KB", loader)
	}

	set := embeddedAssets(t)
	page, urls := pageLoads(t, h, "/widget/app")
	open := gzipLen(t, page)
	seen := map[string]bool{}
	var files []string
	for _, u := range urls {
		seen[u] = true
		files = append(files, set.byName[strings.TrimPrefix(u, staticPrefix)].source)
		open += sizeOf(u)
	}
	slices.Sort(files)
	t.Logf("first open: app page + %v = %d bytes gzip", files, open)
	for _, want := range []string{"widget/app.js", "widget/app.css", "chatlog.js", "api.js", "dom.js", "parley.css"} {
		if !seen[mustURL(t, want)] {
			t.Errorf("the first open does not load %s; the measurement misses files", want)
		}
	}
	if open > 30*1024 {
		t.Errorf("the first open loads %d bytes gzip; the budget is 30 KB", open)
	}
	// The call code is fetched when a call starts or rings, not before.
	for _, lazy := range []string{"call.js", "call.css"} {
		u := mustURL(t, lazy)
		if seen[u] {
			t.Errorf("the first open loads %s; it must load only when a call starts", lazy)
		}
		t.Logf("loaded with the first call: %s, %d bytes gzip", lazy, sizeOf(u))
	}
}

// TestWidgetDocsListEveryKey keeps docs/widget.md's key table in step
// with widgetKeys: every key, with the layers that may set it.
func TestWidgetDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/widget.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `") {
			cells := strings.Split(line, "|")
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[4])
		}
	}
	for _, k := range widgetKeys() {
		var want []string
		for i, n := range []string{"S", "F", "A", "P"} {
			if k.layers&(1<<i) != 0 {
				want = append(want, n)
			}
		}
		got, ok := rows[k.name]
		if !ok {
			t.Errorf("docs/widget.md does not list %s", k.name)
			continue
		}
		if got != strings.Join(want, " ") {
			t.Errorf("docs/widget.md: %s may be set by %q, the code says %q", k.name, got, strings.Join(want, " "))
		}
		delete(rows, k.name)
	}
	for k := range rows {
		t.Errorf("docs/widget.md lists %s, which is no widget key", k)
	}
}
