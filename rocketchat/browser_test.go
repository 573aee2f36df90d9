package rocketchat_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
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

// openWidget starts the stack with the widget served at /livechat, and a
// shop page on another site that embeds it; it returns the widget's frame.
// With online, agent1 is available first and its token is returned.
func openWidget(t *testing.T, online bool) (*stack, string, *browsertest.Browser, context.Context, context.Context) {
	t.Helper()
	needNode(t, "@rocket.chat/livechat")
	if os.Getenv("PARLEY_TEST_BROWSER") == "" {
		t.Skip("set PARLEY_TEST_BROWSER=1 to run the browser tests")
	}
	abs, err := filepath.Abs(widgetDir)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, func(o *rocketchat.Options) { o.WidgetDir = abs; o.Theme.Title = "Parley Support" })
	agentTok := ""
	if online {
		agentTok = s.online()
	}
	b, tab := browsertest.New(t)
	// The shop is on another site (localhost against 127.0.0.1), so the
	// widget's iframe is a target of its own.
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shopPage, s.URL+"/livechat/rocketchat-livechat.min.js", s.URL+"/livechat")
	}))
	t.Cleanup(shop.Close)
	if err := chromedp.Do(tab, chromedp.Navigate(strings.Replace(shop.URL, "127.0.0.1", "localhost", 1))); err != nil {
		t.Fatal(err)
	}
	return s, agentTok, b, tab, widgetFrame(t, tab, s.URL)
}

// The published widget, unmodified, embedded with its loader in a page of
// another site: online state and departments, registration, a message
// to the agent's console, the agent's name, typing and reply, files both
// ways, and the end of the chat with the transcript offered and sent.
func TestBrowserRocketChatWidget(t *testing.T) {
	s, agentTok, b, tab, frame := openWidget(t, true)

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for _, a := range actions {
			if err := chromedp.Do(frame, a); err != nil {
				t.Fatalf("%s: %v\n%s", what, err, b.Console())
			}
		}
	}
	openChat(t, b, frame, `input[name="name"]`)
	do("registration form", chromedp.WaitVisible(`input[name="name"]`))
	// Online: the theme's title, and the groups as departments.
	waitText(t, b, frame, "Parley Support")
	waitText(t, b, frame, "Sales")
	do("register",
		chromedp.SendKeys(`input[name="name"]`, "Wendy"),
		chromedp.SendKeys(`input[name="email"]`, "wendy@example.com"),
		chromedp.SetValue(`select[name="department"]`, "1"),
	)
	shot(t, tab, "rocketchat-widget-register.png")
	do("start chat", chromedp.Click(`button[type="submit"]`))
	do("composer", chromedp.WaitVisible(`div[contenteditable]`))
	do("send", chromedp.SendKeys(`div[contenteditable]`, "Hello from the widget\r"))
	waitText(t, b, frame, "Hello from the widget")
	// The widget reloads the room's history half a second after the room
	// opens and replaces its message list with the answer, dropping what
	// the stream delivered meanwhile (its own behaviour against any
	// server); the agent answers once that reload is answered.
	chatID := s.OfferedChat(agentTok)
	waitFor(t, "the widget's history reload", func() bool {
		return s.reqs.answered("GET", "/rocketchat/api/v1/livechat/messages.history/"+chatID)
	})

	// The message lands in the agent's console (the native API).
	_, body := s.Do("GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil)
	if !strings.Contains(string(body), "Hello from the widget") {
		t.Fatalf("the agent's log lacks the widget's message: %s", body)
	}
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	waitText(t, b, frame, "Alice")
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/typing", agentTok, map[string]bool{"typing": true}, nil)
	waitSel(t, b, frame, `[class*="typing"]`)
	shot(t, tab, "rocketchat-widget-typing.png")
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/typing", agentTok, map[string]bool{"typing": false}, nil)
	s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Hi Wendy, Alice here."}, nil)
	waitText(t, b, frame, "Hi Wendy, Alice here.")

	// A file from the visitor reaches the agent; one from the agent shows
	// in the widget.
	receipt := filepath.Join(t.TempDir(), "receipt.txt")
	if err := os.WriteFile(receipt, []byte("order 4711, paid"), 0o644); err != nil {
		t.Fatal(err)
	}
	do("upload", chromedp.SetUploadFiles(`input[type="file"]`, []string{receipt}))
	waitText(t, b, frame, "receipt.txt")
	waitFor(t, "the visitor's file in the agent's log", func() bool {
		_, body := s.Do("GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil)
		return strings.Contains(string(body), "receipt.txt")
	})
	req := s.NewRequest("POST", "/api/v1/chats/"+chatID+"/files?name=dot.png", agentTok, pngDot())
	if code, body := s.Send(req); code != http.StatusCreated {
		t.Fatalf("agent upload = %d %s", code, body)
	}
	waitSel(t, b, frame, `img[src*="dot.png"]`)
	waitFor(t, "the agent's picture to load in the widget", func() bool {
		w, err := chromedp.Run(frame, chromedp.Evaluate[int](`document.querySelector('img[src*="dot.png"]').naturalWidth`))
		return err == nil && w == 24
	}, func() string {
		h, _ := chromedp.Run(frame, chromedp.Evaluate[string](`(() => { const i = document.querySelector('img[src*="dot.png"]'); return i.outerHTML + ' complete=' + i.complete + ' nw=' + i.naturalWidth })()`))
		return h + "\n" + b.Console()
	})
	shot(t, tab, "rocketchat-widget-chat.png")

	// The agent ends the chat: the widget says so and offers the transcript.
	s.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/end", agentTok, nil, nil)
	waitText(t, b, frame, "Would you like a copy of this chat emailed?")
	shot(t, tab, "rocketchat-widget-ended.png")
	if _, err := chromedp.Run(frame, chromedp.Evaluate[bool](`(() => { const y = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Yes'); if (y) y.click(); return !!y })()`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, b, frame, "Transcript sent")
	waitText(t, b, frame, "Conversation finished")
	shot(t, tab, "rocketchat-widget-finished.png")
	mails, err := s.Store.ClaimMail(context.Background(), time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil || len(mails) != 1 || mails[0].To != "wendy@example.com" || !strings.Contains(mails[0].Text, "Hi Wendy, Alice here.") {
		t.Fatalf("transcript mails = %v (%v); want one to wendy@example.com with the chat", len(mails), err)
	}
}

// With no agent online the widget shows the offline form, never a bare
// error, and the message left there is stored for the group.
func TestBrowserRocketChatWidgetOffline(t *testing.T) {
	s, _, b, tab, frame := openWidget(t, false)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for _, a := range actions {
			if err := chromedp.Do(frame, a); err != nil {
				t.Fatalf("%s: %v\n%s", what, err, b.Console())
			}
		}
	}
	openChat(t, b, frame, `textarea[name="message"]`)
	waitText(t, b, frame, "Leave a message")
	do("offline form", chromedp.WaitVisible(`textarea[name="message"]`),
		chromedp.SendKeys(`input[name="name"]`, "Otto"),
		chromedp.SendKeys(`input[name="email"]`, "otto@example.com"),
		chromedp.SetValue(`select[name="department"]`, "1"),
		chromedp.SendKeys(`textarea[name="message"]`, "Please call me back."))
	shot(t, tab, "rocketchat-widget-offline.png")
	do("send", chromedp.Click(`button[type="submit"]`))
	waitText(t, b, frame, "Thank you")
	tok := s.Login("agent1")
	_, body := s.Do("GET", "/api/v1/offline-messages?group_id=1", tok, nil)
	if !strings.Contains(string(body), "Please call me back.") {
		t.Fatalf("the offline message is not stored for Support: %s", body)
	}
}

// pngDot is a small valid PNG.
func pngDot() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 24, 24))
	for x := range 24 {
		for y := range 24 {
			img.Set(x, y, color.RGBA{R: 31, G: 95, B: 168, A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
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

// openChat clicks the widget's chat button until the screen behind it
// shows an element matching ready. The widget renders the button again
// while it starts, so a click on a node found a moment earlier can miss;
// the button also closes an open widget, so each click gets 3 s to show.
func openChat(t *testing.T, b *browsertest.Browser, frame context.Context, ready string) {
	t.Helper()
	shown := func() bool {
		n, err := chromedp.Run(frame, chromedp.Evaluate[int](`document.querySelectorAll(`+jsonString(ready)+`).length`))
		return err == nil && n > 0
	}
	click := `(() => { const b = document.querySelector('button[class*="screen__chat-button"]'); if (b) b.click(); return !!b })()`
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if clicked, err := chromedp.Run(frame, chromedp.Evaluate[bool](click)); err == nil && clicked {
			for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); {
				if shown() {
					return
				}
				time.Sleep(50 * time.Millisecond) // the poll's interval, not a wait for the outcome
			}
		}
		if shown() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("the widget did not open to %s; it shows:\n%s\n%s", ready, got, b.Console())
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
	got, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("the widget has no %s; it shows:\n%s\n%s", sel, got, b.Console())
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
				logFrames(t, ctx)
				return ctx
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the widget's iframe did not appear")
	return nil
}

// logFrames records the WebSocket frames the widget's frame sends and
// receives, and logs them if the test fails.
func logFrames(t *testing.T, frame context.Context) {
	var mu sync.Mutex
	var lines []string
	start := time.Now()
	add := func(dir, payload string) {
		if len(payload) > 300 {
			payload = payload[:300] + "…"
		}
		mu.Lock()
		lines = append(lines, time.Since(start).Round(time.Millisecond).String()+" "+dir+" "+payload)
		mu.Unlock()
	}
	err := chromedp.Listen(frame, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventWebSocketCreated:
			add("open", ev.URL)
		case *network.EventWebSocketClosed:
			add("closed", "")
		case *network.EventWebSocketFrameSent:
			add(">", string(ev.Response.PayloadData))
		case *network.EventWebSocketFrameReceived:
			add("<", string(ev.Response.PayloadData))
		case *network.EventWebSocketFrameError:
			add("error", ev.ErrorMessage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(frame, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Log("the widget's WebSocket frames since it was found:\n" + strings.Join(lines, "\n"))
		}
	})
}

// shot saves a screenshot of the page in docs/img when
// PARLEY_SCREENSHOTS is set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("PARLEY_SCREENSHOTS") == "" {
		return // PARLEY_SCREENSHOTS=1 refreshes the docs' pictures
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
