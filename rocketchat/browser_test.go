package rocketchat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/rocketchat"
)

// shopPage embeds the Rocket.Chat widget with its own loader snippet,
// pointed at Parley's /livechat, as a Rocket.Chat admin page gives it.
const shopPage = `<!doctype html><html><head><title>Shop</title></head><body>
<h1>Example shop</h1><p>Questions? Chat with us.</p>
<script type="text/javascript">
(function(w, d, s, u) {
	w.RocketChat = function(c) { w.RocketChat._.push(c) }; w.RocketChat._ = []; w.RocketChat.url = u;
	var h = d.getElementsByTagName(s)[0], j = d.createElement(s);
	j.async = true; j.src = %q;
	h.parentNode.insertBefore(j, h);
})(window, document, 'script', %q);
</script></body></html>`

// widgetDir is the published widget build, installed by npm ci.
var widgetDir = filepath.Join(nodeDir, "node_modules", "@rocket.chat", "livechat", "build")

func TestBrowserRocketChatWidget(t *testing.T) {
	needNode(t, "@rocket.chat/livechat")
	if os.Getenv("PARLEY_TEST_BROWSER") == "" {
		t.Skip("set PARLEY_TEST_BROWSER=1 to run the browser tests")
	}
	abs, err := filepath.Abs(widgetDir)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, func(o *rocketchat.Options) { o.WidgetDir = abs; o.Theme.Title = "Parley Support" })
	b, tab := browsertest.New(t)
	// The shop is on another site (localhost against 127.0.0.1), so the
	// widget's iframe is a target of its own.
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shopPage, s.URL+"/livechat/rocketchat-livechat.min.js", s.URL+"/livechat")
	}))
	t.Cleanup(shop.Close)
	shopURL := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1)
	agentTok := s.online()
	_ = agentTok

	if err := chromedp.Do(tab, chromedp.Navigate(shopURL)); err != nil {
		t.Fatal(err)
	}
	frame := widgetFrame(t, tab, s.URL)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for _, a := range actions {
			if err := chromedp.Do(frame, a); err != nil {
				t.Fatalf("%s: %v\n%s", what, err, b.Console())
			}
		}
	}
	do("open the widget", chromedp.WaitVisible(`button[class*="screen__chat-button"]`), chromedp.Click(`button[class*="screen__chat-button"]`))
	do("registration form", chromedp.WaitVisible(`input[name="name"]`))
	shot(t, tab, "rocketchat-widget-1.png")
	do("register",
		chromedp.SendKeys(`input[name="name"]`, "Wendy"),
		chromedp.SendKeys(`input[name="email"]`, "wendy@example.com"),
		chromedp.SetValue(`select[name="department"]`, "1"),
	)
	shot(t, tab, "rocketchat-widget-2.png")
	do("start chat", chromedp.Click(`button[type="submit"]`))
	do("composer", chromedp.WaitVisible(`div[contenteditable]`))
	do("send", chromedp.SendKeys(`div[contenteditable]`, "Hello from the widget\r"))
	waitText(t, b, frame, "Hello from the widget")

	// The message lands in the agent's console (the native API).
	chatID := s.OfferedChat(agentTok)
	_, body := s.Do("GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil)
	if !strings.Contains(string(body), "Hello from the widget") {
		t.Fatalf("the agent's log lacks the widget's message: %s", body)
	}
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	waitText(t, b, frame, "Alice")
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/typing", agentTok, map[string]bool{"typing": true}, nil)
	waitSel(t, b, frame, `[class*="typing"]`)
	shot(t, tab, "rocketchat-widget-typing.png")
	s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Hi Wendy, Alice here."}, nil)
	waitText(t, b, frame, "Hi Wendy, Alice here.")
	shot(t, tab, "rocketchat-widget-reply.png")
	html, _ := chromedp.Run(frame, chromedp.OuterHTML("#app"))
	t.Logf("%s", html)
}

// waitText waits until the frame's text shows want.
func waitText(t *testing.T, b *browsertest.Browser, frame context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(frame, chromedp.Evaluate[string](`document.body.innerText`))
		if err == nil && strings.Contains(got, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("the widget does not show %q; it shows:\n%s\n%s", want, got, b.Console())
}

// waitSel waits until an element matching sel is in the frame.
func waitSel(t *testing.T, b *browsertest.Browser, frame context.Context, sel string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		n, err := chromedp.Run(frame, chromedp.Evaluate[int](`document.querySelectorAll(`+jsonString(sel)+`).length`))
		if err == nil && n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the widget has no %s\n%s", sel, b.Console())
}

// widgetFrame attaches to the widget's iframe.
func widgetFrame(t *testing.T, tab context.Context, parley string) context.Context {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(tab)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, parley+"/livechat") {
				ctx, _ := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID))
				if err := chromedp.Do(ctx); err != nil {
					t.Fatal(err)
				}
				return ctx
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the widget's iframe did not appear")
	return nil
}

// shot saves a screenshot of the page in docs/img.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
