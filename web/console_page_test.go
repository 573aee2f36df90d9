package web

import (
	"net/http"
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
	set := embeddedAssets(t)
	page, urls := pageLoads(t, Handler(Options{}), "/agent/")
	total := gzipLen(t, page)
	seen := map[string]bool{}
	for _, u := range urls {
		seen[u] = true
		total += gzipLen(t, set.byName[strings.TrimPrefix(u, staticPrefix)].body)
	}
	t.Logf("console: %d files, %d bytes gzip", len(seen)+1, total)
	if !seen[staticPrefix+set.bySource["vendor/hooks.mjs"].name] {
		t.Error("the console does not load the vendored Preact hooks")
	}
	if total > 80*1024 {
		t.Errorf("the console loads %d bytes gzip, the budget is 80 KB", total)
	}
}
