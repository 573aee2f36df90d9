package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/sqlite"
	"github.com/parleychat/parley/web"
)

const agentPassword = "test-password-123"

// stack is a real Parley server (SQLite, embedded NATS, the API and the
// web UI) on http://127.0.0.1:<port>, and a host web site on another
// origin, http://localhost:<port2>. The same host server reached as
// http://127.0.0.1:<port2> is a third, foreign origin.
type stack struct {
	t       *testing.T
	parley  string // Parley's origin
	host    string // the host page's origin
	foreign string // an origin that is not allowed
	svc     *conversation.Service
	store   *sqlite.Store
	data    string
	ts      *testserver.Server

	mu    sync.Mutex
	pages map[string]string // host path → HTML; PARLEY and FOREIGN are replaced
}

func newStack(t *testing.T, cfg ...conversation.Config) *stack {
	t.Helper()
	var c conversation.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	return newStackOpts(t, c, false)
}

// newStackOpts is newStack with the web UI in demo mode or not.
func newStackOpts(t *testing.T, c conversation.Config, demo bool) *stack {
	t.Helper()
	s := &stack{t: t, pages: map[string]string{}}

	hostSrv := httptest.NewServer(http.HandlerFunc(s.serveHost))
	t.Cleanup(hostSrv.Close)
	_, port, _ := net.SplitHostPort(hostSrv.Listener.Addr().String())
	s.host = "http://localhost:" + port
	s.foreign = "http://127.0.0.1:" + port

	ts := testserver.Start(t, testserver.Options{
		Config: c,
		Groups: []*parley.Group{
			{ID: 1, Name: "Support", WelcomeMessage: "Hello! How can we help?", Routing: parley.GroupRouting{AutoAccept: true}},
			{ID: 2, Name: "Sales"},
		},
		Agents:   []*parley.Agent{testserver.Agent("alice", "Alice", 1), testserver.Agent("bob", "Bob", 2)},
		Password: agentPassword,
		API:      httpapi.Options{AllowedOrigins: []string{s.host}, PingInterval: time.Minute},
		Web: func(ts *testserver.Server) web.Options {
			return web.Options{Demo: demo, DataDir: ts.Dir, AllowedOrigins: []string{s.host}, GroupStatus: ts.GroupStatus,
				HasTriggers: ts.Svc.HasTriggers, WidgetAppearance: ts.Svc.PublicWidgetAppearance}
		},
	})
	s.svc, s.store, s.data, s.parley, s.ts = ts.Svc, ts.Store, ts.Dir, ts.URL, ts
	return s
}

// publicAgentID returns the ID the public agent list gives the agent
// shown as name.
func (s *stack) publicAgentID(name string) int64 {
	s.t.Helper()
	var list httpapi.PublicAgentsBody
	s.call("GET", "/api/v1/public/agents", "", nil, &list)
	for _, a := range list.Agents {
		if a.Name == name {
			return a.ID
		}
	}
	s.t.Fatalf("no public agent named %q in %+v", name, list.Agents)
	return 0
}

// page registers a host page.
func (s *stack) page(path, html string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = html
}

func (s *stack) serveHost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	html, ok := s.pages[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	html = strings.NewReplacer("PARLEY", s.parley, "FOREIGN", s.foreign).Replace(html)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if strings.HasSuffix(r.URL.Path, ".json") {
		w.Header().Set("Content-Type", "application/json")
	}
	if strings.HasSuffix(r.URL.Path, ".xhtml") {
		w.Header().Set("Content-Type", "application/xhtml+xml")
	}
	io.WriteString(w, html)
}

// hostPage is a host site's page embedding the widget with one script tag.
func hostPage(attrs string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Outdoor</title>
<script src="PARLEY/widget.js" async></script></head>
<body><h1>Acme Outdoor</h1><p>Tents, boots and good advice.</p><a id="other" href="/other">Other page</a>
<parley-widget ` + attrs + `></parley-widget></body></html>`
}

// call makes an API request and decodes the answer into out.
func (s *stack) call(method, path, token string, body, out any) int {
	s.t.Helper()
	status, data := s.ts.Do(method, path, token, body)
	if status >= 300 {
		s.t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatal(err)
		}
	}
	return status
}

// agentSession is an agent driven through the API, with a WebSocket that
// collects every frame it receives.
type agentSession struct {
	s     *stack
	token string

	mu     sync.Mutex
	frames []httpapi.ServerFrame
}

func (s *stack) agent(login string) *agentSession {
	s.t.Helper()
	token := s.ts.Login(login)
	s.ts.Presence(token, "available", "ready")
	a := &agentSession{s: s, token: token}
	ctx, cancel := context.WithCancel(context.Background())
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.parley, "http", "ws", 1)+"/api/v1/ws", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	s.t.Cleanup(func() {
		cancel()
		conn.CloseNow()
	})
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": token})
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var f httpapi.ServerFrame
			if json.Unmarshal(b, &f) == nil {
				a.mu.Lock()
				a.frames = append(a.frames, f)
				a.mu.Unlock()
			}
		}
	}()
	a.waitFrame("ready", func(f httpapi.ServerFrame) bool { return f.Type == "ready" })
	return a
}

// waitFrame waits until a received frame satisfies ok and returns it.
func (a *agentSession) waitFrame(what string, ok func(httpapi.ServerFrame) bool) httpapi.ServerFrame {
	a.s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		for _, f := range a.frames {
			if ok(f) {
				a.mu.Unlock()
				return f
			}
		}
		a.mu.Unlock()
		time.Sleep(25 * time.Millisecond)
	}
	a.mu.Lock()
	var got []string
	for _, f := range a.frames {
		g := f.Type
		if f.Event != nil {
			g += fmt.Sprintf(" %s/%d %s %q", f.Event.ChatID, f.Event.Seq, f.Event.Type, f.Event.Text)
		} else if f.ChatID != "" {
			g += " " + f.ChatID
		}
		got = append(got, g)
	}
	a.mu.Unlock()
	a.s.t.Fatalf("the agent did not receive %s; it received:\n%s", what, strings.Join(got, "\n"))
	return httpapi.ServerFrame{}
}

// sawEvent reports whether any received event satisfies ok.
func (a *agentSession) sawEvent(ok func(*parley.Event) bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.frames {
		if f.Type == "event" && f.Event != nil && ok(f.Event) {
			return true
		}
	}
	return false
}

// message waits for a visitor message with the given text and returns its chat.
func (a *agentSession) message(text string) string {
	a.s.t.Helper()
	f := a.waitFrame(fmt.Sprintf("the message %q", text), func(f httpapi.ServerFrame) bool {
		return f.Type == "event" && f.Event.Type == parley.EventMessage && f.Event.From.Kind == parley.PartyVisitor && f.Event.Text == text
	})
	return f.Event.ChatID
}

func (a *agentSession) send(chatID, text string) {
	a.s.call("POST", "/api/v1/chats/"+chatID+"/messages", a.token, map[string]string{"text": text}, nil)
}

// frameCtx attaches to the widget's iframe (a cross-site iframe has its
// own target) once the loader has created it. Iframes attached before
// (of pages navigated away from) are skipped.
func frameCtx(t *testing.T, tab context.Context, parley string) context.Context {
	t.Helper()
	seen, _ := tab.Value(seenFrames{}).(map[target.ID]bool)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(tab)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, parley+"/widget/app") && !seen[info.TargetID] {
				seen[info.TargetID] = true
				ctx, _ := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID))
				if err := chromedp.Do(ctx, chromedp.WaitReady("#card")); err != nil {
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

// strconvQuote quotes s as a JS string literal.
func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// seenFrames keys the set of iframe targets a tab's tests attached to.
type seenFrames struct{}

// newTab starts the browser with a tab that remembers its iframes.
func newTab(t *testing.T) context.Context {
	_, tab := browsertest.New(t)
	return context.WithValue(tab, seenFrames{}, map[target.ID]bool{})
}

// newTabIn opens another tab in the browser of tab.
func newTabIn(t *testing.T, tab context.Context) context.Context {
	t.Helper()
	ctx, _ := chromedp.NewContext(tab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// anotherTab opens a further tab (with its own sessionStorage); seen is
// shared by the tabs, as chromedp.Targets lists the whole browser's.
func anotherTab(b *browsertest.Browser, seen map[target.ID]bool) context.Context {
	return context.WithValue(b.Tab(), seenFrames{}, seen)
}

// act runs actions and fails the test on error.
func act(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates JS and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitJS polls a JS condition in ctx until it is true.
func wWaitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

// launcher clicks the widget's launcher in the host page.
const clickLauncher = `document.querySelector("parley-widget").shadowRoot.querySelector("button").click(), true`

// TestWidgetEndToEnd: a host page on another origin embeds the widget
// with one script tag; the visitor chats with an agent, both see the
// other typing, a file goes up with a progress bar, the visitor leaves
// the page and comes back to the same chat, and the host's postMessage
// API works for the allowed origin only.
func TestWidgetEndToEnd(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	s.page("/other", `<!doctype html><title>Other</title><h1 id="h">Another page of the shop</h1>`)
	s.page("/relay.html", `<!doctype html><script>
window.addEventListener("message", (e) => {
  for (let i = 0; i < parent.frames.length; i++) if (parent.frames[i] !== window) parent.frames[i].postMessage(e.data, "*");
  parent.postMessage("relayed", "*");
});</script>`)
	alice := s.agent("alice")
	tab := newTab(t)

	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	if n := eval[int](t, tab, `document.querySelectorAll("iframe, parley-widget iframe").length + document.querySelector("parley-widget").shadowRoot.querySelectorAll("iframe").length`); n != 0 {
		t.Fatalf("%d iframes before the visitor opened the chat; the app must load on open only", n)
	}
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)

	// Pre-chat form, then the chat.
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Do you ship to Austria?"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	chatID := alice.message("Do you ship to Austria?")
	wWaitJS(t, app, "the agent's name in the header", `document.querySelector("#chat-title").textContent === "Alice"`)
	// Typing is not stored: send it once the visitor's connection is live,
	// which the join line (an event of the stream) shows.
	wWaitJS(t, app, "the join line", `document.querySelector("#log").textContent.includes("Alice joined the chat")`)

	// Agent → visitor: typing, then a message.
	s.call("POST", "/api/v1/chats/"+chatID+"/typing", alice.token, map[string]bool{"typing": true}, nil)
	wWaitJS(t, app, "the agent typing", `document.querySelector("#typing").textContent.includes("Alice")`)
	alice.send(chatID, "Yes, in 3 to 5 days.")
	wWaitJS(t, app, "the agent's message", `document.querySelector("#log").textContent.includes("Yes, in 3 to 5 days.")`)

	// Visitor → agent: typing, then a message.
	act(t, app, chromedp.SendKeys("#text", "Great"))
	alice.waitFrame("the visitor typing", func(f httpapi.ServerFrame) bool {
		return f.Type == "event" && f.Event.Type == parley.EventTyping && f.Event.From.Kind == parley.PartyVisitor && f.Event.Typing
	})
	act(t, app, chromedp.SendKeys("#text", ", thanks!\r"))
	alice.message("Great, thanks!")

	// An attachment: the log shows a progress bar while it uploads.
	file := filepath.Join(t.TempDir(), "order-4711.txt")
	if err := os.WriteFile(file, bytes.Repeat([]byte("order line\n"), 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, app, `window.sawProgress = false;
new MutationObserver(() => { if (document.querySelector("#log progress")) window.sawProgress = true; })
  .observe(document.querySelector("#log"), { childList: true, subtree: true }); true`)
	act(t, app, chromedp.SetUploadFiles("#file", []string{file}))
	alice.waitFrame("the file", func(f httpapi.ServerFrame) bool {
		return f.Type == "event" && f.Event.Type == parley.EventFile && f.Event.File != nil && f.Event.File.Name == "order-4711.txt"
	})
	wWaitJS(t, app, "the uploaded file in the log", `!document.querySelector("#log progress") && document.querySelector("#log").textContent.includes("order-4711.txt")`)
	if !eval[bool](t, app, `window.sawProgress`) {
		t.Error("no progress bar was shown during the upload")
	}

	// Navigate away and back: the same chat with its history.
	act(t, tab, chromedp.Navigate(s.host+"/other"), chromedp.WaitVisible("#h"))
	alice.send(chatID, "Sent while you were away")
	act(t, tab, chromedp.Navigate(s.host+"/"))
	app = frameCtx(t, tab, s.parley)
	wWaitJS(t, app, "the history and the message sent meanwhile", `(() => { const t = document.querySelector("#log").textContent;
  return t.includes("Do you ship to Austria?") && t.includes("Yes, in 3 to 5 days.") && t.includes("Sent while you were away"); })()`)
	act(t, app, chromedp.SendKeys("#text", "I am back\r"))
	if got := alice.message("I am back"); got != chatID {
		t.Fatalf("after navigating back the visitor wrote in chat %s, want the same chat %s", got, chatID)
	}

	// postMessage: a foreign origin is ignored, the host page is heard.
	eval[bool](t, tab, `window.relayed = 0; window.addEventListener("message", (e) => { if (e.data === "relayed") window.relayed++; });
const f = document.createElement("iframe"); f.id = "relay"; f.onload = () => { window.relayLoaded = true; };
f.src = "`+s.foreign+`/relay.html"; document.body.append(f); true`)
	wWaitJS(t, tab, "the relay frame", `window.relayLoaded === true`)
	// The relay forwards this to the widget from the foreign origin and
	// then answers, so the widget has it before the host's own posts.
	eval[bool](t, tab, `document.querySelector("#relay").contentWindow.postMessage({ parley: "send", text: "from a foreign origin" }, "*"), true`)
	wWaitJS(t, tab, "the relay's answer", `window.relayed > 0`)
	eval[bool](t, tab, `document.querySelector("parley-widget").send("Cart: 2 items, 149 EUR", { hideLocal: true }), true`)
	eval[bool](t, tab, `document.querySelector("parley-widget").send("Visible from the host page"), true`)
	alice.message("Cart: 2 items, 149 EUR")
	alice.message("Visible from the host page")
	wWaitJS(t, app, "the visible host message", `document.querySelector("#log").textContent.includes("Visible from the host page")`)
	if eval[bool](t, app, `document.querySelector("#log").textContent.includes("Cart: 2 items")`) {
		t.Error("a hideLocal message is shown to the visitor")
	}
	if alice.sawEvent(func(e *parley.Event) bool { return strings.Contains(e.Text, "foreign origin") }) {
		t.Error("a message posted from a foreign origin was sent")
	}
}

// TestWidgetOfflineForm: the group is closed, so opening the widget shows
// the offline form instead of the pre-chat form.
func TestWidgetOfflineForm(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="2"`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#offline"))
	if eval[bool](t, app, `!document.querySelector("#start").hidden`) {
		t.Error("the pre-chat form is shown for a closed group")
	}
	// A missing email is refused in the form, then the message is stored.
	act(t, app,
		chromedp.SendKeys("#off-name", "Vera"),
		chromedp.SendKeys("#off-message", "Please send me a quote for 20 tents."),
		chromedp.Click("#off-button"),
		chromedp.WaitVisible("#off-email-error"),
		chromedp.SendKeys("#off-email", "vera@example.com"),
		chromedp.Click("#off-button"),
		chromedp.WaitVisible("#off-sent"),
	)
	var list httpapi.OfflineMessagesBody
	var bob httpapi.LoginResponse
	s.call("POST", "/api/v1/auth/login", "", map[string]any{"login": "bob", "password": agentPassword}, &bob)
	s.call("GET", "/api/v1/offline-messages", bob.Token, nil, &list)
	if len(list.Messages) != 1 || list.Messages[0].Email != "vera@example.com" || list.Messages[0].GroupID != 2 ||
		list.Messages[0].Message != "Please send me a quote for 20 tents." {
		t.Fatalf("offline messages for Sales: %+v", list.Messages)
	}
}

// TestWidgetPostChat: when the agent ends the chat the visitor gets the
// post-chat page, rates the chat and can start again.
func TestWidgetPostChat(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Where is my order?"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	chatID := alice.message("Where is my order?")
	s.call("POST", "/api/v1/chats/"+chatID+"/end", alice.token, nil, nil)
	act(t, app, chromedp.WaitVisible("#rating"))
	if got := eval[string](t, app, `document.querySelector("#ended-text").textContent`); got != "The agent ended the chat" {
		t.Errorf("post-chat reason %q", got)
	}
	act(t, app,
		chromedp.Click(`#stars input[value="4"]`),
		chromedp.SendKeys("#rate-comment", "Fast answer"),
		chromedp.Click("#rating button[type=submit]"),
	)
	wWaitJS(t, app, "the thanks", `document.querySelector("#rate-result").textContent === "Thank you for your feedback."`)
	r, err := s.store.Rating(context.Background(), chatID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Score != 4 || r.Comment != "Fast answer" {
		t.Errorf("stored rating %+v", *r)
	}
	act(t, app, chromedp.Click("#restart"), chromedp.WaitVisible("#start"))
}

// TestWidgetMessagesAreText: markup in messages is shown as text and
// never runs, in either direction.
func TestWidgetMessagesAreText(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	const evil1 = `<img src=x onerror="window.pwned=1;parent.postMessage('pwned','*')">`
	const evil2 = `<script>window.pwned=2</script><b>bold</b>`
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", `<i>Mallory</i>`),
		chromedp.SendKeys("#question", evil2),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	chatID := alice.message(evil2)
	alice.send(chatID, evil1)
	alice.send(chatID, "done")
	wWaitJS(t, app, "the agent's messages", `document.querySelector("#log").textContent.includes("done")`)
	text := eval[string](t, app, `document.querySelector("#log").textContent`)
	for _, want := range []string{evil1, evil2} {
		if !strings.Contains(text, want) {
			t.Errorf("the log does not show %q as text; it shows %q", want, text)
		}
	}
	if n := eval[int](t, app, `document.querySelectorAll("#log img, #log script, #log b, #log i").length`); n != 0 {
		t.Errorf("%d elements were made from message text", n)
	}
	if v := eval[any](t, app, `window.pwned ?? null`); v != nil {
		t.Errorf("a script from a message ran: window.pwned = %v", v)
	}
	if v := eval[any](t, tab, `window.pwned ?? null`); v != nil {
		t.Errorf("a script from a message ran in the host page: %v", v)
	}
}

// TestWidgetLanguages: a German page (lang from a GET parameter) shows the
// German strings; fr-BE falls back to French.
func TestWidgetLanguages(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	s.page("/be", hostPage(`group="1" lang="fr-BE"`))
	s.agent("alice") // Support is open
	b, _ := browsertest.New(t)
	seen := map[target.ID]bool{}
	for _, c := range []struct{ url, launcher, start, joined string }{
		{s.host + "/?parley-lang=de", "Chatten Sie mit uns", "Chat starten", "Alice ist dem Chat beigetreten"},
		{s.host + "/be", "Discutez avec nous", "Démarrer la discussion", "Alice a rejoint la discussion"},
	} {
		tab := anotherTab(b, seen)
		act(t, tab, chromedp.Navigate(c.url))
		wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
		if got := eval[string](t, tab, `document.querySelector("parley-widget").shadowRoot.querySelector("button").textContent`); got != c.launcher {
			t.Errorf("%s: launcher %q, want %q", c.url, got, c.launcher)
		}
		eval[bool](t, tab, clickLauncher)
		app := frameCtx(t, tab, s.parley)
		act(t, app, chromedp.WaitVisible("#start"))
		if got := eval[string](t, app, `document.querySelector("#start-button").textContent`); got != c.start {
			t.Errorf("%s: start button %q, want %q", c.url, got, c.start)
		}
		// The chat log's own lines are translated too.
		act(t, app, chromedp.SendKeys("#name", "Vera"), chromedp.SendKeys("#question", "Hallo"), chromedp.Click("#start-button"))
		wWaitJS(t, app, c.joined, `document.querySelector("#log").textContent.includes(`+strconvQuote(c.joined)+`)`)
	}
}

// showcasePage is a plausible shop page for the screenshots.
const showcasePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Outdoor</title>
<style>
body{margin:0;font:16px/1.55 Georgia,serif;color:#1f2a24;background:#f6f3ee}
header{display:flex;justify-content:space-between;align-items:center;padding:22px 56px;border-bottom:1px solid #e4ddd2;background:#fff}
header b{font:700 22px system-ui,sans-serif;letter-spacing:-.02em;color:#2f5d46}
nav a{margin-left:28px;color:#1f2a24;text-decoration:none;font:500 15px system-ui,sans-serif}
main{display:grid;grid-template-columns:1.1fr 1fr;gap:48px;padding:64px 56px;max-width:1100px}
h1{font-size:46px;line-height:1.1;margin:0 0 18px;letter-spacing:-.01em}
p{color:#4b574f;max-width:34em}
.cta{display:inline-block;margin-top:18px;padding:12px 22px;border-radius:8px;background:#2f5d46;color:#fff;font:600 15px system-ui,sans-serif;text-decoration:none}
.img{border-radius:18px;min-height:340px;background:linear-gradient(160deg,#7aa48c,#2f5d46 60%,#1d3a2c)}
</style>
<script src="PARLEY/widget.js" async></script></head>
<body><header><b>Acme Outdoor</b><nav><a href="#">Tents</a><a href="#">Boots</a><a href="#">Jackets</a><a href="#">Stores</a></nav></header>
<main><div><h1>Gear for the long way round.</h1><p>Lightweight tents, boots that last and advice from people who have been there. Free shipping to Germany, Austria and Switzerland.</p><a class="cta" href="#">Shop the collection</a></div><div class="img"></div></main>
<parley-widget ATTRS></parley-widget></body></html>`

// TestWidgetScreenshots writes the screenshots of docs/widget.md when
// PARLEY_SCREENSHOTS names a directory (go test -run Screenshots ./web/
// with PARLEY_SCREENSHOTS=$PWD/docs/img).
func TestWidgetScreenshots(t *testing.T) {
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		t.Skip("set PARLEY_SCREENSHOTS to a directory to write the screenshots")
	}
	s := newStack(t, conversation.Config{MailFrom: "support@acme.test"}) // so the post-chat page offers the transcript
	s.page("/", strings.Replace(showcasePage, "ATTRS", `group="1" title="Acme Support" header-background="#2f5d46" highlight="#2f5d46"`, 1))
	s.page("/sales", strings.Replace(showcasePage, "ATTRS", `group="2" title="Acme Sales" header-background="#2f5d46" highlight="#2f5d46"`, 1))
	alice := s.agent("alice")
	b, _ := browsertest.New(t)
	seen := map[target.ID]bool{}
	shot := func(tab context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tab := anotherTab(b, seen)
	act(t, tab, chromedp.EmulateViewport(1100, 760), chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	shot(tab, "widget-launcher.png")

	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"), chromedp.SendKeys("#name", "Vera Lindqvist"), chromedp.SendKeys("#email", "vera@example.com"))
	shot(tab, "widget-prechat.png")

	act(t, app, chromedp.SendKeys("#question", "Hi! Does the Trail 2 tent fit two people with backpacks inside?"), chromedp.Click("#start-button"), chromedp.WaitVisible("#log"))
	chatID := alice.message("Hi! Does the Trail 2 tent fit two people with backpacks inside?")
	alice.send(chatID, "Hi Vera! It fits two sleeping pads side by side, and the two vestibules take a 60 l pack each.")
	act(t, app, chromedp.SendKeys("#text", "Perfect, and is it ok for snow?"), chromedp.Click("#send"))
	alice.message("Perfect, and is it ok for snow?")
	s.call("POST", "/api/v1/chats/"+chatID+"/typing", alice.token, map[string]bool{"typing": true}, nil)
	wWaitJS(t, app, "the typing line", `document.querySelector("#typing").textContent.includes("Alice")`)
	shot(tab, "widget-chat.png")

	s.call("POST", "/api/v1/chats/"+chatID+"/end", alice.token, nil, nil)
	act(t, app, chromedp.WaitVisible("#rating"), chromedp.Click(`#stars input[value="5"]`))
	shot(tab, "widget-postchat.png")

	tab2 := anotherTab(b, seen)
	act(t, tab2, chromedp.EmulateViewport(1100, 760), chromedp.Navigate(s.host+"/sales"))
	wWaitJS(t, tab2, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab2, clickLauncher)
	app2 := frameCtx(t, tab2, s.parley)
	act(t, app2, chromedp.WaitVisible("#offline"))
	shot(tab2, "widget-offline.png")

	tab3 := anotherTab(b, seen)
	act(t, tab3, chromedp.EmulateViewport(1100, 640), chromedp.Navigate(s.parley+"/contact"))
	wWaitJS(t, tab3, "the agents", `document.querySelectorAll("#agents .agent").length === 2`)
	shot(tab3, "contact-portal.png")
}

// TestContactPortal: the portal lists the groups' agents with live
// presence; a chat started from an agent's card goes to that agent; the
// business card follows the agent's presence.
func TestContactPortal(t *testing.T) {
	s := newStack(t)
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.parley+"/contact?groups=1,2"))
	wWaitJS(t, tab, "two agents", `document.querySelectorAll("#agents .agent").length === 2`)
	cards := eval[[]string](t, tab, `[...document.querySelectorAll("#agents .agent")].map((li) => li.querySelector("h2").textContent + "|" + li.querySelector(".presence").textContent + "|" + li.querySelector("button").disabled)`)
	if want := []string{"Alice|Available now|false", "Bob|Not available right now|true"}; strings.Join(cards, ",") != strings.Join(want, ",") {
		t.Fatalf("portal shows %q, want %q", cards, want)
	}

	// Chat with Alice from her card: the widget opens straight away.
	eval[bool](t, tab, `document.querySelector("#agents .agent.on button").click(), true`)
	const doc = `document.querySelector("parley-widget")?.shadowRoot?.querySelector("iframe")?.contentDocument`
	wWaitJS(t, tab, "the chat form", `!!`+doc+`?.querySelector("#start:not([hidden])")`)
	eval[bool](t, tab, `(() => { const d = `+doc+`;
  d.querySelector("#name").value = "Vera"; d.querySelector("#question").value = "A question for Alice";
  d.querySelector("#start-button").click(); return true; })()`)
	alice.message("A question for Alice")

	// Bob's business card follows his presence.
	bobID := s.publicAgentID("Bob")
	card := newTabIn(t, tab)
	act(t, card, chromedp.Navigate(fmt.Sprintf("%s/card/%d", s.parley, bobID)))
	wWaitJS(t, card, "Bob's card", `document.querySelector(".agent h2")?.textContent === "Bob" && document.querySelector(".presence").textContent === "Not available right now"`)
	s.agent("bob")
	wWaitJS(t, card, "Bob available", `document.querySelector(".presence").textContent === "Available now" && !document.querySelector(".agent button").disabled`)
}

// TestWidgetConfigInBrowser: the host's config.json (configurl) sets the
// title and position, and a GET parameter of the page overrides the
// position again.
func TestWidgetConfigInBrowser(t *testing.T) {
	s := newStack(t)
	s.page("/cfg.json", `{"title": "From the file", "position": "top-left", "headerBackground": "#2f5d46"}`)
	s.page("/", hostPage(`group="1" configurl="/cfg.json"`))
	tab := newTab(t)
	const button = `document.querySelector("parley-widget").shadowRoot.querySelector("button")`
	for _, c := range []struct{ url, class string }{
		{s.host + "/", "l top left"},
		{s.host + "/?parley-position=center-right", "l center right"},
	} {
		act(t, tab, chromedp.Navigate(c.url))
		wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
		got := eval[[]string](t, tab, `[`+button+`.textContent, `+button+`.className, getComputedStyle(`+button+`).backgroundColor]`)
		if want := []string{"From the file", c.class, "rgb(47, 93, 70)"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: launcher %q, want %q", c.url, got, want)
		}
	}
}

// TestWidgetKeyboard: the widget works without a mouse. The launcher is
// reached with Tab and opened with Enter, focus moves into the card,
// Escape closes it and gives focus back to the launcher.
func TestWidgetKeyboard(t *testing.T) {
	s := newStack(t)
	s.agent("alice")
	s.page("/", hostPage(`group="1"`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	const active = `document.activeElement?.tagName === "PARLEY-WIDGET" && document.querySelector("parley-widget").shadowRoot.activeElement`
	// The page's link comes first, then the launcher.
	for i := 0; i < 2; i++ {
		act(t, tab, chromedp.KeyEvent("\t"))
	}
	wWaitJS(t, tab, "focus on the launcher", active+`?.tagName === "BUTTON"`)
	act(t, tab, chromedp.KeyEvent("\r"))
	app := frameCtx(t, tab, s.parley)
	wWaitJS(t, app, "focus in the name field", `document.activeElement?.id === "name"`)
	wWaitJS(t, tab, "focus in the card's frame", active+`?.tagName === "IFRAME"`)
	if got := eval[string](t, tab, `document.querySelector("parley-widget").shadowRoot.querySelector("button").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("aria-expanded %q after opening", got)
	}
	// Open, the launcher is a round close button: its icon shows, its label and status dot do not.
	if got := eval[[]bool](t, tab, `(() => { const b = document.querySelector("parley-widget").shadowRoot.querySelector("button");
  const seen = (el) => !!el && el.getBoundingClientRect().width > 0;
  return [seen(b.querySelector("svg path")), seen(b.querySelector("span")), seen(b.querySelector("i"))]; })()`); fmt.Sprint(got) != "[true false false]" {
		t.Errorf("the open launcher shows icon, label, dot: %v, want only the icon", got)
	}
	act(t, app, chromedp.KeyEvent("Vera"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"))
	wWaitJS(t, app, "focus in the question", `document.activeElement?.id === "question"`)
	act(t, app, chromedp.KeyEvent("Can I pay by invoice?"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"))
	wWaitJS(t, app, "the chat, with focus in the composer", `!document.querySelector("#chat").hidden && document.activeElement?.id === "text"`)
	act(t, app, chromedp.KeyEvent(kb.Escape))
	wWaitJS(t, tab, "the card closed and focus back on the launcher", active+`?.getAttribute("aria-expanded") === "false"`)
}

// TestWidgetHideAgentName: with hide-agent-name the visitor never sees
// the agent's name, neither in the header, the log nor the typing line.
func TestWidgetHideAgentName(t *testing.T) {
	s := newStack(t)
	alice := s.agent("alice")
	s.page("/", hostPage(`group="1" hide-agent-name`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Anonymous please"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	chatID := alice.message("Anonymous please")
	// Typing is not stored: send it once the visitor's connection is live.
	wWaitJS(t, app, "the join line", `document.querySelector("#log").textContent.includes("Your agent joined the chat")`)
	s.call("POST", "/api/v1/chats/"+chatID+"/typing", alice.token, map[string]bool{"typing": true}, nil)
	wWaitJS(t, app, "the typing line", `document.querySelector("#typing").textContent.includes("Your agent")`)
	alice.send(chatID, "Happy to help")
	wWaitJS(t, app, "the agent's message", `document.querySelector("#log").textContent.includes("Happy to help")`)
	text := eval[string](t, app, `document.querySelector("#card").textContent`)
	if strings.Contains(text, "Alice") {
		t.Errorf("the agent's name is shown: %q", text)
	}
	if !strings.Contains(text, "Your agent joined the chat") {
		t.Errorf("no anonymous join line in %q", text)
	}
}

// TestWidgetIdleWarning: the visitor is warned before the idle timeout,
// in the page's language, and the chat then ends with the post-chat page.
func TestWidgetIdleWarning(t *testing.T) {
	s := newStack(t, conversation.Config{IdleWarning: 3 * time.Second})
	alice := s.agent("alice")
	// The widget's idle timeout applies when it is below the server's.
	s.page("/", hostPage(`group="1" lang="de" idle-timeout="4"`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Hallo"),
		chromedp.Click("#start-button"),
	)
	alice.message("Hallo")
	wWaitJS(t, app, "the German idle warning", `document.querySelector("#log").textContent.includes("Sind Sie noch da? Der Chat schließt in 3 Sekunden")`)
	wWaitJS(t, app, "the end for inactivity", `!document.querySelector("#post").hidden && document.querySelector("#log").textContent.includes("Wegen Inaktivität geschlossen")`)
}

// TestWidgetMovableCard: dragging the card's header moves the card on the
// host page.
func TestWidgetMovableCard(t *testing.T) {
	s := newStack(t)
	s.agent("alice")
	s.page("/", hostPage(`group="1"`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"))
	const frame = `document.querySelector("parley-widget").shadowRoot.querySelector("iframe")`
	before := eval[[]float64](t, tab, `(() => { const r = `+frame+`.getBoundingClientRect(); return [r.left, r.top]; })()`)
	x, y := before[0]+150, before[1]+30 // on the title, in the header
	// Hover first until the card's page sees the pointer: input reaches a
	// new cross-site frame only once the browser routes events to it.
	eval[bool](t, app, `window.hovered = false; document.addEventListener("pointermove", () => { window.hovered = true; }); true`)
	for i := 0; !eval[bool](t, app, `window.hovered`); i++ {
		if i == 100 {
			t.Fatal("the card's page never saw the pointer")
		}
		act(t, tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y+float64(i%2)))
	}
	eval[bool](t, app, `window.downs = 0; document.addEventListener("pointerdown", () => { window.downs++; }); true`)
	act(t, tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft))
	wWaitJS(t, app, "the press in the card", `window.downs > 0`)
	act(t, tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x-40, y+20, chromedp.ButtonLeft))
	wWaitJS(t, tab, "the first step", frame+`.style.translate === "-40px 20px"`)
	// Once the frame has moved, the browser routes pointer events to it
	// again only after it has drawn it at its new place: repeat the move
	// (the same point, so a repeat adds nothing) until it arrives.
	for i := 0; eval[string](t, tab, frame+`.style.translate`) != "-120px 60px"; i++ {
		if i == 100 {
			t.Fatalf("the second step did not arrive; translate %q", eval[string](t, tab, frame+`.style.translate`))
		}
		act(t, tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x-120, y+60, chromedp.ButtonLeft))
	}
	act(t, tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x-120, y+60, chromedp.ButtonLeft))
	wWaitJS(t, tab, "the card moved", `(() => { const r = `+frame+`.getBoundingClientRect();
  return Math.abs(r.left - (`+fmt.Sprint(before[0]-120)+`)) < 2 && Math.abs(r.top - (`+fmt.Sprint(before[1]+60)+`)) < 2; })()`)
}

// TestWidgetFollowsAvailability: with show-when-unavailable="false" the
// launcher stays hidden while the group is closed and appears, with the
// online color, when an agent comes (polled every state-poll-interval).
func TestWidgetFollowsAvailability(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="2" show-when-unavailable="false" state-poll-interval="1" online-color="#00aa00"`))
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	const w = `document.querySelector("parley-widget")`
	wWaitJS(t, tab, "the launcher drawn", `!!`+w+`?.shadowRoot?.querySelector("button i")`)
	if !eval[bool](t, tab, w+`.hidden && getComputedStyle(`+w+`).display === "none"`) {
		t.Fatal("the launcher shows while the group is closed")
	}
	s.agent("bob")
	wWaitJS(t, tab, "the launcher shown", `!`+w+`.hidden && getComputedStyle(`+w+`.shadowRoot.querySelector("button i")).backgroundColor === "rgb(0, 170, 0)"`)
}
