package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRunsPage shows the browser starts, runs a page's script and
// reports its console output.
func TestBrowserRunsPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id=out></p><script>
document.getElementById("out").textContent = "ran " + (6*7); console.log("hello from page")</script>`)
	}))
	defer srv.Close()
	b, ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text("#out"))
	if err != nil {
		t.Fatal(err)
	}
	if got != "ran 42" {
		t.Fatalf("page text %q, want %q", got, "ran 42")
	}
	tab := b.Tab()
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(tab, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "t" {
		t.Fatalf("second tab title %q", title)
	}
	if !strings.Contains(b.Console(), "hello from page") {
		t.Fatalf("console %q lacks the page's log line", b.Console())
	}
}
