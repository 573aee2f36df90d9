package web

import (
	"net/http"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestConsolePage checks /agent/ is served with and without demo mode,
// with the page's security headers, and that /agent redirects to it.
func TestConsolePage(t *testing.T) {
	for _, demo := range []bool{false, true} {
		h := Handler(Options{Demo: demo})
		res := get(t, h, "/agent/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("demo=%v: status %d", demo, res.StatusCode)
		}
		if csp := res.Header.Get("Content-Security-Policy"); csp != pageCSP {
			t.Errorf("CSP %q", csp)
		}
		page := string(body(t, res))
		for _, want := range []string{"<title>Parley console</title>", `id="app"`, `src="/static/console.`, `href="/static/vendor/preact.`} {
			if !strings.Contains(page, want) {
				t.Errorf("demo=%v: the page lacks %q", demo, want)
			}
		}
		res = get(t, h, "/agent")
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/agent/" {
			t.Errorf("/agent: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := get(t, h, "/agent/other"); res.StatusCode != http.StatusNotFound {
			t.Errorf("/agent/other: %d", res.StatusCode)
		}
	}
}

// TestConsoleBudget bounds what the console loads: the page and every
// module and stylesheet it reaches, gzip-compressed.
func TestConsoleBudget(t *testing.T) {
	h := Handler(Options{})
	set := embeddedAssets(t)
	page := body(t, get(t, h, "/agent/"))
	total := gzipLen(t, page)
	tags, err := scanTags(string(page))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var visit func(url string)
	visit = func(url string) {
		if seen[url] {
			return
		}
		seen[url] = true
		a := set.byName[strings.TrimPrefix(url, staticPrefix)]
		if a == nil {
			t.Fatalf("no asset %s", url)
		}
		total += gzipLen(t, a.body)
		if rewritable(a.source) {
			for _, m := range regexp.MustCompile(refPattern).FindAllSubmatch(a.body, -1) {
				visit(path.Join(path.Dir(url), string(m[1])))
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
	t.Logf("console: %d files, %d bytes gzip", len(seen)+1, total)
	if !seen[staticPrefix+set.bySource["vendor/hooks.mjs"].name] {
		t.Error("the console does not load the vendored Preact hooks")
	}
	if total > 80*1024 {
		t.Errorf("the console loads %d bytes gzip, the budget is 80 KB", total)
	}
}
