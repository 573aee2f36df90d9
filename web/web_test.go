package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func embeddedAssets(t *testing.T) *assetSet {
	t.Helper()
	static, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	set, err := loadAssets(static)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

var hashedPattern = regexp.MustCompile(`^/static/(.+)\.([0-9a-f]{12})(\.[a-z0-9]+)$`)

func TestAssetsAreHashedAndImmutable(t *testing.T) {
	h := Handler(Options{Demo: true})
	set := embeddedAssets(t)
	if len(set.bySource) < 8 {
		t.Fatalf("only %d assets embedded", len(set.bySource))
	}
	wantType := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
	}
	for source := range set.bySource {
		url, err := set.URL(source)
		if err != nil {
			t.Fatal(err)
		}
		m := hashedPattern.FindStringSubmatch(url)
		if m == nil || m[1]+m[3] != source {
			t.Errorf("%s is served as %s, want <name>.<12 hex digits><ext>", source, url)
			continue
		}
		res := get(t, h, url)
		b := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", url, res.StatusCode)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:])[:hashLen]; got != m[2] {
			t.Errorf("%s: content hashes to %s", url, got)
		}
		if want, ok := wantType[path.Ext(source)]; ok && res.Header.Get("Content-Type") != want {
			t.Errorf("%s: Content-Type %q, want %q", url, res.Header.Get("Content-Type"), want)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", url, got)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", url, got)
		}
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: encoded without Accept-Encoding", url)
		}
	}
}

// TestAssetReferencesAreHashed checks that every relative reference in the
// served scripts and stylesheets names a hashed asset that exists.
func TestAssetReferencesAreHashed(t *testing.T) {
	h := Handler(Options{Demo: true})
	set := embeddedAssets(t)
	ref := regexp.MustCompile(refPattern)
	for source, a := range set.bySource {
		if !rewritable(source) {
			continue
		}
		for _, m := range ref.FindAllSubmatch(a.body, -1) {
			target := path.Join(path.Dir(staticPrefix+a.name), string(m[1]))
			if !hashedPattern.MatchString(target) {
				t.Errorf("%s refers to %s, which has no hash", source, m[1])
				continue
			}
			if res := get(t, h, target); res.StatusCode != http.StatusOK {
				t.Errorf("%s refers to %s: status %d", source, target, res.StatusCode)
			}
		}
	}
	// The modules import each other, so the rewriting must have happened.
	if !bytes.Contains(set.bySource["widget/app.js"].body, []byte(`"../`+set.bySource["chatlog.js"].name+`"`)) {
		t.Errorf("widget/app.js does not import the hashed chatlog.js")
	}
}

func TestGzip(t *testing.T) {
	h := Handler(Options{Demo: true})
	set := embeddedAssets(t)
	url, _ := set.URL("widget/app.js")
	plain := body(t, get(t, h, url))
	res := get(t, h, url, "Accept-Encoding", "br;q=1.0, gzip;q=0.8")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", res.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Errorf("gzip body differs from the plain body")
	}
	if res := get(t, h, url, "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got %q", res.Header.Get("Content-Encoding"))
	}
}

func TestNotModified(t *testing.T) {
	h := Handler(Options{Demo: true})
	for _, target := range []string{"/", "/agent/", "/widget/app", "/widget.js", "/CustomerChat/Chat/Toolbox", "/CustomerChat/Chat", mustURL(t, "parley.css")} {
		res := get(t, h, target)
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", target)
		}
		if res := get(t, h, target, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: status %d, want 304", target, res.StatusCode)
		}
	}
}

func mustURL(t *testing.T, source string) string {
	t.Helper()
	url, err := embeddedAssets(t).URL(source)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func TestUnknownPaths(t *testing.T) {
	h := Handler(Options{Demo: true})
	for _, target := range []string{
		"/static/", "/static/dom.js", "/static/dom.000000000000.js", "/static/nope.css",
		"/templates/demo.html", "/nothing", "/demo/agent/x", "/CustomerChat/Chat/Toolbox/x", "/CustomerChat",
	} {
		if res := get(t, h, target); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
	if res := get(t, Handler(Options{}), "/demo/agent"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo/agent without Demo: status %d, want 404", res.StatusCode)
	}
}

// TestDemoAgentRedirects: the demo's agent page is the console now.
func TestDemoAgentRedirects(t *testing.T) {
	res := get(t, Handler(Options{Demo: true}), "/demo/agent")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/agent/" {
		t.Errorf("/demo/agent: %d to %q, want a redirect to /agent/", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestPages(t *testing.T) {
	tests := []struct {
		name   string
		opt    Options
		target string
		want   []string // texts the page must contain
	}{
		{"landing", Options{}, "/", []string{"Parley is running", `href="/api/v1/openapi.json"`, `href="/healthz"`}},
		// The demo home page is a host page: the widget with one script tag,
		// a launcher and a button for each demo group.
		{"demo", Options{Demo: true}, "/", []string{"Parley demo", `<script src="/widget.js" async></script>`,
			`<parley-widget group="1">`, `<parley-directchat group="1"`, `<parley-directchat group="2"`, "Support", "Sales", `href="/agent/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(tt.opt)
			res := get(t, h, tt.target)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			for k, v := range map[string]string{
				"Content-Type":            "text/html; charset=utf-8",
				"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"Cache-Control":           "no-cache",
			} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			html := string(body(t, res))
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			tags, err := scanTags(html)
			if err != nil {
				t.Fatal(err)
			}
			checkInline(t, tags)
			for _, tag := range tags {
				for _, attr := range []string{"src", "href"} {
					v, ok := tag.attrs[attr]
					if !ok || tag.name == "a" && !strings.HasPrefix(v, "/static/") {
						continue // links to pages and the API
					}
					if tag.name == "script" && v == "/widget.js" {
						continue // the widget's loader keeps its address
					}
					if !hashedPattern.MatchString(v) {
						t.Errorf("<%s %s=%q> is not a hashed asset URL", tag.name, attr, v)
						continue
					}
					if res := get(t, h, v); res.StatusCode != http.StatusOK {
						t.Errorf("<%s %s=%q>: status %d", tag.name, attr, v, res.StatusCode)
					}
				}
				if tag.name == "a" {
					href := tag.attrs["href"]
					if strings.HasPrefix(href, "http:") || strings.HasPrefix(href, "https:") || strings.HasPrefix(href, "//") {
						t.Errorf("page links to another site: %s", href)
					}
				}
			}
		})
	}
}

// TestTemplatesHaveNoInlineCode parses the templates themselves.
func TestTemplatesHaveNoInlineCode(t *testing.T) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil || len(names) < 4 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, err := fs.ReadFile(files, name)
			if err != nil {
				t.Fatal(err)
			}
			// Template actions may hold quotes and slashes ({{asset "widget/app.js"}});
			// the scanner sees them as one plain value.
			tags, err := scanTags(regexp.MustCompile(`{{.*?}}`).ReplaceAllString(string(b), "T"))
			if err != nil {
				t.Fatal(err)
			}
			checkInline(t, tags)
		})
	}
}

// checkInline fails on anything the CSP would block or that invites it:
// script bodies, style elements and attributes, event handler attributes
// and javascript: URLs.
func checkInline(t *testing.T, tags []tag) {
	t.Helper()
	for _, tag := range tags {
		if tag.name == "script" {
			if strings.TrimSpace(tag.text) != "" {
				t.Errorf("inline script body: %.60q", tag.text)
			}
			if tag.attrs["src"] == "" {
				t.Errorf("<script> without src")
			}
		}
		if tag.name == "style" {
			t.Errorf("<style> element")
		}
		for k, v := range tag.attrs {
			switch {
			case k == "style":
				t.Errorf("<%s style=%q>", tag.name, v)
			case strings.HasPrefix(k, "on"):
				t.Errorf("<%s %s=...> event handler attribute", tag.name, k)
			case strings.HasPrefix(strings.TrimSpace(strings.ToLower(v)), "javascript:"):
				t.Errorf("<%s %s=%q>", tag.name, k, v)
			}
		}
	}
}

// TestDemoPageBudget keeps everything the demo home page loads before the
// visitor opens the chat (the page, its styles and the widget's loader)
// under 30 KB of gzip. The chat app's own budget is TestWidgetSizeBudget's.
func TestDemoPageBudget(t *testing.T) {
	set := embeddedAssets(t)
	h := Handler(Options{Demo: true})
	page, urls := pageLoads(t, h, "/")
	total := gzipLen(t, page) + gzipLen(t, body(t, get(t, h, "/widget.js")))
	seen := map[string]bool{}
	for _, u := range urls {
		seen[u] = true
		total += gzipLen(t, set.byName[strings.TrimPrefix(u, staticPrefix)].body)
	}
	t.Logf("demo page: %d files, %d bytes gzip", len(seen)+2, total)
	if total > 30*1024 {
		t.Errorf("the demo page loads %d bytes gzip, the budget is 30 KB", total)
	}
}

// pageLoads returns the page at url and the /static/ URLs it loads:
// those its tags name, and what their imports and url()s reach.
func pageLoads(t *testing.T, h http.Handler, url string) (page []byte, urls []string) {
	t.Helper()
	set := embeddedAssets(t)
	page = body(t, get(t, h, url))
	tags, err := scanTags(string(page))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var visit func(u string)
	visit = func(u string) {
		if seen[u] {
			return
		}
		seen[u] = true
		a := set.byName[strings.TrimPrefix(u, staticPrefix)]
		if a == nil {
			t.Fatalf("no asset %s", u)
		}
		urls = append(urls, u)
		if rewritable(a.source) {
			for _, m := range regexp.MustCompile(refPattern).FindAllSubmatchIndex(a.body, -1) {
				// A dynamic import() loads only when the code calls it
				// (the call module, when a call starts): not at first open.
				if bytes.HasSuffix(bytes.TrimRight(a.body[:m[0]], " "), []byte("import(")) {
					continue
				}
				visit(path.Join(path.Dir(u), string(a.body[m[2]:m[3]])))
			}
		}
	}
	for _, tag := range tags {
		for _, attr := range []string{"src", "href"} {
			if v := tag.attrs[attr]; strings.HasPrefix(v, staticPrefix) {
				visit(v)
			}
		}
	}
	return page, urls
}

func gzipLen(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

func TestLoadAssetsRewritesReferences(t *testing.T) {
	fsys := fstest.MapFS{
		"a.js":          {Data: []byte(`import { b } from "./b.js"; import("./lib/c.js"); const s = './missing.js';`)},
		"b.js":          {Data: []byte(`export { c } from './lib/c.js'; export const b = 1;`)},
		"lib/c.js":      {Data: []byte(`export const c = new URL("../img/x.svg", import.meta.url);`)},
		"img/x.svg":     {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"s.css":         {Data: []byte(`.x { background: url("./img/x.svg"); } .y { background: url("./img/x.svg'); }`)},
		"jquery.min.js": {Data: []byte(`// no references`)},
	}
	set, err := loadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	name := func(s string) string { return set.bySource[s].name }
	body := func(s string) string { return string(set.bySource[s].body) }
	checks := []struct{ in, want string }{
		{body("a.js"), `from "./` + name("b.js") + `"`},
		{body("a.js"), `import("./` + name("lib/c.js") + `")`},
		{body("a.js"), `'./missing.js'`},
		{body("b.js"), `'./` + name("lib/c.js") + `'`},
		{body("lib/c.js"), `"../` + name("img/x.svg") + `"`},
		{body("s.css"), `url("./` + name("img/x.svg") + `")`},
		{body("s.css"), `url("./img/x.svg')`},
	}
	for _, c := range checks {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%q lacks %q", c.in, c.want)
		}
	}
	if !regexp.MustCompile(`^jquery\.min\.[0-9a-f]{12}\.js$`).MatchString(name("jquery.min.js")) {
		t.Errorf("hashed name %q", name("jquery.min.js"))
	}
	// A change in a dependency changes the names of its importers.
	fsys["lib/c.js"] = &fstest.MapFile{Data: []byte(`export const c = 2;`)}
	set2, err := loadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a.js", "b.js", "lib/c.js"} {
		if set2.bySource[s].name == set.bySource[s].name {
			t.Errorf("%s kept its name after lib/c.js changed", s)
		}
	}
	if set2.bySource["s.css"].name != set.bySource["s.css"].name {
		t.Errorf("s.css changed its name though its references did not change")
	}

	cyclic := fstest.MapFS{
		"a.js": {Data: []byte(`import "./b.js";`)},
		"b.js": {Data: []byte(`import "./a.js";`)},
	}
	if _, err := loadAssets(cyclic); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cyclic imports: err = %v, want a cycle error", err)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                  false,
		"gzip":              true,
		"GZIP":              true,
		"deflate, gzip":     true,
		"br, gzip;q=0.5":    true,
		"gzip;q=0":          false,
		"gzip; q=0.0":       false,
		"identity":          false,
		"x-gzip-not-really": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// tag is a start tag of an HTML document, with the text of a raw text
// element (script, style, textarea, title).
type tag struct {
	name  string
	attrs map[string]string
	text  string
}

// scanTags reads the start tags of an HTML document. It understands
// comments, the doctype, quoted and unquoted attribute values and raw
// text elements, which is all the templates use.
func scanTags(s string) ([]tag, error) {
	var tags []tag
	i := 0
	for {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			return tags, nil
		}
		i += lt + 1
		switch {
		case strings.HasPrefix(s[i:], "!--"):
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment")
			}
			i += end + 3
			continue
		case strings.HasPrefix(s[i:], "!"), strings.HasPrefix(s[i:], "/"):
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return nil, fmt.Errorf("unterminated tag")
			}
			i += end + 1
			continue
		}
		j := i
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
			j++
		}
		if j == i {
			continue // a "<" in text
		}
		t := tag{name: strings.ToLower(s[i:j]), attrs: map[string]string{}}
		i = j
		for {
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated <%s>", t.name)
			}
			if s[i] == '>' {
				i++
				break
			}
			if strings.HasPrefix(s[i:], "/>") {
				i += 2
				break
			}
			k := i
			for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' && s[k] != '/' {
				k++
			}
			name := strings.ToLower(s[i:k])
			if name == "" {
				return nil, fmt.Errorf("bad attribute in <%s>", t.name)
			}
			i = k
			value := ""
			if i < len(s) && s[i] == '=' {
				i++
				if i < len(s) && (s[i] == '"' || s[i] == '\'') {
					q := s[i]
					end := strings.IndexByte(s[i+1:], q)
					if end < 0 {
						return nil, fmt.Errorf("unterminated attribute value in <%s>", t.name)
					}
					value = s[i+1 : i+1+end]
					i += end + 2
				} else {
					k = i
					for k < len(s) && !isSpace(s[k]) && s[k] != '>' {
						k++
					}
					value = s[i:k]
					i = k
				}
			}
			t.attrs[name] = value
		}
		switch t.name {
		case "script", "style", "textarea", "title":
			end := strings.Index(strings.ToLower(s[i:]), "</"+t.name)
			if end < 0 {
				return nil, fmt.Errorf("unterminated <%s>", t.name)
			}
			t.text = s[i : i+end]
			i += end
		}
		tags = append(tags, t)
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func TestScanTags(t *testing.T) {
	tags, err := scanTags(`<!doctype html><!-- <script>x</script> --><p class="a>b" hidden data-x=1>t</p><script type="module" src="/s.js"></script><img alt='x' src=/i.png/>`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 3 || tags[0].attrs["class"] != "a>b" || tags[0].attrs["data-x"] != "1" ||
		tags[1].attrs["src"] != "/s.js" || tags[1].text != "" || tags[2].attrs["alt"] != "x" {
		t.Errorf("scanTags = %+v", tags)
	}
	tags, _ = scanTags(`<script>alert(1)</script><div style="color:red" onclick="x()">`)
	if len(tags) != 2 || tags[0].text != "alert(1)" || tags[1].attrs["style"] == "" || tags[1].attrs["onclick"] == "" {
		t.Errorf("scanTags did not see the inline code: %+v", tags)
	}
}
