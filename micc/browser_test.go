package micc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/micc"
)

// shopPage calls the Chat service from another origin, as the reference's
// jQuery example does: a JSON POST, which makes the browser send a CORS
// preflight first. It writes the ChatID it got, or "blocked", into #out.
const shopPage = `<!doctype html><title>Shop</title><pre id="out">waiting</pre><script>
fetch(%q + "/ChatService/RequestChat", {
  method: "POST",
  headers: {"Content-Type": "application/json; charset=utf-8"},
  body: JSON.stringify({request: {CustomerName: "John", TenantID: -1, ServiceGroupID: 0, ServiceGroupName: "Support"}})
}).then(r => r.json()).then(d => {
  document.getElementById("out").textContent = d.ChatID ? "chat " + d.QueuePosition : "no chat: " + d.Message;
}).catch(() => { document.getElementById("out").textContent = "blocked"; });
</script>`

// TestBrowserCrossOrigin: a page of an allowed origin can call the
// service from a real browser; a page of another origin cannot read the
// answers.
func TestBrowserCrossOrigin(t *testing.T) {
	b, ctx := browsertest.New(t)
	var parleyURL string
	shop := func() *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, shopPage, parleyURL)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	allowed, other := shop(), shop()
	s := newServer(t, conversation.Config{}, micc.Options{AllowedOrigins: []string{allowed.URL}})
	parleyURL = s.URL
	agent := s.login()
	s.presence(agent, "available", "not_ready")

	out := func(page string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			got, err := chromedp.Run(ctx, chromedp.Text("#out"))
			if err != nil {
				t.Fatal(err)
			}
			if got = strings.TrimSpace(got); got != "waiting" {
				return got
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s did not finish its request\n%s", page, b.Console())
		return ""
	}
	if got := out(allowed.URL); got != "chat 1" {
		t.Fatalf("allowed origin: %q; want a chat at queue position 1\n%s", got, b.Console())
	}
	if got := out(other.URL); got != "blocked" {
		t.Fatalf("other origin: %q; want the browser to block the answer", got)
	}
	// The preflight failed, so the other page's request was never sent.
	if chats, err := s.store.Chats(context.Background(), parley.ChatFilter{}); err != nil || len(chats) != 1 {
		t.Fatalf("%d chats (%v); want only the allowed page's", len(chats), err)
	}
}
