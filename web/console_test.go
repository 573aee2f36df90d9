package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/internal/smtptest"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/mail"
	"github.com/parleychat/parley/web"
)

const consolePassword = "console-password-1"

// consoleServer is the real server (SQLite, embedded NATS, the API and
// the web UI) that the console tests drive.
type consoleServer struct {
	t    *testing.T
	URL  string
	svc  *conversation.Service
	smtp *smtptest.Server // receives the transcript mail
	ts   *testserver.Server
}

// newConsoleServer seeds Support (1) and Sales (2, with 30 s of wrap-up)
// with agent1 "Alice Adams" (both groups), agent2 "Bob Brown" (Support)
// and the supervisor "sup".
//
// consoleOptions vary the server for a test.
type consoleOptions struct {
	// noWebSocket answers WebSocket upgrades with 502, as a proxy that
	// does not pass them on.
	noWebSocket bool
	// manualGroup adds Billing (3), where Bob picks chats himself.
	manualGroup bool
}

func newConsoleServer(t *testing.T, options ...consoleOptions) *consoleServer {
	t.Helper()
	var opt consoleOptions
	if len(options) > 0 {
		opt = options[0]
	}
	smtp := smtptest.Start(t)
	agent := func(login, name string, role parley.Role, groups ...int64) *parley.Agent {
		a := testserver.Agent(login, name, groups...)
		a.Role, a.Status = role, parley.StatusNotReady
		return a
	}
	groups := []*parley.Group{
		{ID: 1, Name: "Support", WelcomeMessage: "Hello! How can we help?"},
		{ID: 2, Name: "Sales", Routing: parley.GroupRouting{WrapUpSeconds: 30}},
	}
	bob := agent("agent2", "Bob Brown", parley.RoleAgent, 1)
	if opt.manualGroup {
		groups = append(groups, &parley.Group{ID: 3, Name: "Billing",
			Routing: parley.GroupRouting{Strategy: parley.StrategyManual}})
		bob.Groups = append(bob.Groups, parley.Membership{GroupID: 3})
	}
	var wrap func(http.Handler) http.Handler
	if opt.noWebSocket {
		wrap = func(inner http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/ws" {
					http.Error(w, "upgrades are not passed on", http.StatusBadGateway)
					return
				}
				inner.ServeHTTP(w, r)
			})
		}
	}
	ts := testserver.Start(t, testserver.Options{
		Config: conversation.Config{MailFrom: "support@parley.test"},
		Groups: groups,
		Agents: []*parley.Agent{
			agent("agent1", "Alice Adams", parley.RoleAgent, 1, 2),
			bob,
			agent("sup", "Sam Super", parley.RoleSupervisor, 1, 2),
		},
		Password: consolePassword,
		API:      httpapi.Options{PingInterval: time.Minute},
		Web:      func(*testserver.Server) web.Options { return web.Options{} },
		Mail:     &mail.Options{Host: "127.0.0.1", Port: smtp.Port(), TLS: "none"},
		Wrap:     wrap,
	})
	return &consoleServer{t: t, URL: ts.URL, svc: ts.Svc, smtp: smtp, ts: ts}
}

// call makes a JSON API request and decodes the answer into out.
func (s *consoleServer) call(method, path, token string, body, out any) int {
	s.t.Helper()
	status, data := s.ts.Do(method, path, token, body)
	if out != nil && len(data) > 0 && status < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return status
}

// visitor is a chat requested through the API, as the widget does.
type visitor struct {
	s     *consoleServer
	token string
	chat  string
	after int64
	seen  []parley.Event
}

func (s *consoleServer) visitor(group int64, name, email, message string) *visitor {
	s.t.Helper()
	return s.visitorOn(group, name, email, message, nil)
}

// visitorOn is visitor with the page and browser context a widget sends.
func (s *consoleServer) visitorOn(group int64, name, email, message string, context map[string]any) *visitor {
	s.t.Helper()
	var r httpapi.ChatStartedBody
	body := map[string]any{"group_id": group, "name": name, "email": email, "message": message, "private_data": "plan=gold"}
	if context != nil {
		body["context"] = context
	}
	if st := s.call("POST", "/api/v1/chats", "", body, &r); st != http.StatusCreated {
		s.t.Fatalf("request chat: status %d", st)
	}
	return &visitor{s: s, token: r.VisitorToken, chat: r.Chat.ID}
}

// again starts a new chat for the same visitor, as a returning visitor
// whose widget kept its token.
func (v *visitor) again(group int64, message string) *visitor {
	v.s.t.Helper()
	var r httpapi.ChatStartedBody
	if st := v.s.call("POST", "/api/v1/chats", v.token, map[string]any{"group_id": group, "message": message}, &r); st != http.StatusCreated {
		v.s.t.Fatalf("request chat again: status %d", st)
	}
	return &visitor{s: v.s, token: v.token, chat: r.Chat.ID}
}

func (v *visitor) say(text string) {
	v.s.t.Helper()
	if st := v.s.call("POST", "/api/v1/chats/"+v.chat+"/messages", v.token, map[string]any{"text": text}, nil); st != http.StatusCreated {
		v.s.t.Fatalf("visitor message: status %d", st)
	}
}

func (v *visitor) typing(on bool) {
	v.s.t.Helper()
	v.s.call("POST", "/api/v1/chats/"+v.chat+"/typing", v.token, map[string]any{"typing": on}, nil)
}

// read polls the visitor's view of the chat until match accepts an event
// or the deadline passes; it keeps every event the visitor saw.
func (v *visitor) read(what string, match func(parley.Event) bool) parley.Event {
	v.s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range v.seen {
			if match(e) {
				return e
			}
		}
		var r struct {
			Events  []parley.Event `json:"events"`
			LastSeq int64          `json:"last_seq"`
		}
		v.s.call("GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d&wait=2", v.chat, v.after), v.token, nil, &r)
		for _, e := range r.Events {
			if e.Seq > 0 {
				v.seen = append(v.seen, e)
			}
		}
		if r.LastSeq > v.after {
			v.after = r.LastSeq
		}
	}
	var seqs []string
	for _, e := range v.seen {
		seqs = append(seqs, fmt.Sprintf("%d:%s:%q", e.Seq, e.Type, e.Text))
	}
	var all struct {
		Events  []parley.Event `json:"events"`
		LastSeq int64          `json:"last_seq"`
	}
	v.s.call("GET", fmt.Sprintf("/api/v1/chats/%s/events?after=0", v.chat), v.token, nil, &all)
	var allSeqs []string
	for _, e := range all.Events {
		allSeqs = append(allSeqs, fmt.Sprintf("%d:%s:%q", e.Seq, e.Type, e.Text))
	}
	v.s.t.Fatalf("visitor never saw %s; polled up to seq %d and saw %v; the chat from seq 0 (last %d) holds %v",
		what, v.after, seqs, all.LastSeq, allSeqs)
	return parley.Event{}
}

// enter presses Enter as one keyDown with its text, as a keyboard does,
// so a handler that prevents the default keeps the newline out.
// (chromedp.KeyEvent sends rawKeyDown and char apart, and the char then
// types the newline whatever the keydown handler did.)
func enter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
			Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		_, err := chromedp.Call(ctx, input.DispatchKeyEvent, up)
		return err
	})
}

// socket is a visitor's WebSocket, as the widget keeps it open; it
// records every frame it receives.
type socket struct {
	t      *testing.T
	mu     sync.Mutex
	frames []httpapi.ServerFrame
}

// socket connects v's WebSocket to its chat and waits until the
// subscription has started.
func (v *visitor) socket() *socket {
	t := v.s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(v.s.URL, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": v.token, "chats": map[string]int64{v.chat: 0}})
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	so := &socket{t: t}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f httpapi.ServerFrame
			if json.Unmarshal(data, &f) == nil {
				so.mu.Lock()
				so.frames = append(so.frames, f)
				so.mu.Unlock()
			}
		}
	}()
	so.wait("the chat snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" })
	return so
}

// wait returns the first frame match accepts, waiting up to 15 s.
func (so *socket) wait(what string, match func(httpapi.ServerFrame) bool) httpapi.ServerFrame {
	so.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		so.mu.Lock()
		for _, f := range so.frames {
			if match(f) {
				so.mu.Unlock()
				return f
			}
		}
		so.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // polling the frames received so far, not waiting for an outcome
	}
	so.t.Fatalf("the visitor's socket never got %s", what)
	return httpapi.ServerFrame{}
}

// texts lists the text of every event frame received.
func (so *socket) texts() []string {
	so.mu.Lock()
	defer so.mu.Unlock()
	var out []string
	for _, f := range so.frames {
		if f.Event != nil {
			out = append(out, f.Event.Text)
		}
	}
	return out
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls a JavaScript predicate in the page until it is truthy.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// signIn opens the console in a tab and signs in.
func signIn(t *testing.T, ctx context.Context, url, login string) {
	t.Helper()
	do(t, ctx, "sign in as "+login,
		chromedp.Navigate(url+"/agent/"),
		chromedp.WaitVisible(chromedp.CSS("#login-name")),
		chromedp.SendKeys(chromedp.CSS("#login-name"), login),
		chromedp.SendKeys(chromedp.CSS("#login-password"), consolePassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#status-button")),
	)
	waitJS(t, ctx, "the live connection", `document.querySelector(".conn-online") !== null`)
	watchCSP(t, ctx)
}

// watchCSP records anything the page's Content-Security-Policy blocks
// from now on, for noViolations.
func watchCSP(t *testing.T, ctx context.Context) {
	t.Helper()
	evalJS[bool](t, ctx, `window.cspViolations = []; document.addEventListener("securitypolicyviolation",
		(e) => cspViolations.push(e.violatedDirective + " " + e.blockedURI)); true`)
}

// noViolations fails the test when the page broke its CSP.
func noViolations(t *testing.T, ctx context.Context, who string) {
	t.Helper()
	if v := evalJS[[]string](t, ctx, `window.cspViolations || []`); len(v) > 0 {
		t.Errorf("%s: Content-Security-Policy violations: %q", who, v)
	}
}

func goReady(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "go ready", chromedp.Click(chromedp.CSS("#go-ready")))
	waitJS(t, ctx, "status ready", `document.querySelector("#status-label").textContent === "Ready"`)
}

// logText is the text of a chat column's log.
func logHas(chatID, text string) string {
	return fmt.Sprintf(`(() => { const l = document.querySelector('.column[data-chat=%q] .log'); return !!l && l.textContent.includes(%q); })()`, chatID, text)
}

// kpi is the value shown on a KPI tile of the supervisor view.
func kpi(id, want string) string {
	return fmt.Sprintf(`document.querySelector("#%s .kpi-value")?.textContent === %q`, id, want)
}

// TestConsoleAgentFlow drives the console in Chromium against the real
// server: a supervisor creates a canned response; an agent signs in, goes
// ready, gets an offer (the notification hook fires, the countdown runs),
// accepts, chats both ways with typing, sends the canned response with
// the visitor's name filled in and transfers to a second agent who
// carries on; the supervisor sees the KPIs and queues change, monitors
// the chat and whispers to the agent, and the visitor never receives the
// whisper.
func TestConsoleAgentFlow(t *testing.T) {
	s := newConsoleServer(t)
	b, sup := browsertest.New(t)

	// The supervisor adds a canned response for Support in the console.
	signIn(t, sup, s.URL, "sup")
	do(t, sup, "new canned response",
		chromedp.Click(chromedp.CSS("#nav-responses")),
		chromedp.Click(chromedp.CSS("#canned-new")),
		chromedp.SetValue(chromedp.CSS("#canned-form select"), "1"),
		chromedp.SendKeys(chromedp.CSS(`#canned-form input[name="shortcut"]`), "greet"),
		chromedp.SendKeys(chromedp.CSS(`#canned-form input[name="title"]`), "Greeting"),
		chromedp.SendKeys(chromedp.CSS(`#canned-form textarea[name="text"]`), "Hello {visitor.name}, I am {agent.name}. How can I help?"),
	)
	evalJS[bool](t, sup, `document.querySelector("#canned-form select").dispatchEvent(new Event("change", {bubbles: true}))`)
	do(t, sup, "save canned response", chromedp.Click(chromedp.CSS("#canned-form button.btn-primary")))
	waitJS(t, sup, "the response in the list", `document.querySelector("#canned-table")?.textContent.includes("/greet")`)
	do(t, sup, "open the supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")))
	waitJS(t, sup, "no chats offered yet", kpi("kpi-offered", "0"))

	alice := b.Tab()
	signIn(t, alice, s.URL, "agent1")
	// The hook integrations and this test observe: a "parley:offer" event.
	evalJS[bool](t, alice, `window.offersSeen = []; addEventListener("parley:offer", (e) => offersSeen.push(e.detail)); true`)
	goReady(t, alice)

	v := s.visitor(1, "Vera Lynn", "vera@example.com", "Where is my order?")
	waitJS(t, alice, "the offer notification", fmt.Sprintf(`offersSeen.some((d) => d.chat_id === %q && d.visitor === "Vera Lynn")`, v.chat))
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the offer card", fmt.Sprintf(`document.querySelector('%s .offer-name')?.textContent === "Vera Lynn"`, offer))
	left := evalJS[float64](t, alice, fmt.Sprintf(`Number(document.querySelector('%s .offer-countdown').textContent)`, offer))
	if left < 50 || left > 60 {
		t.Fatalf("offer countdown shows %v s, want about 60", left)
	}
	if n := evalJS[float64](t, alice, `offersSeen.length`); n != 1 {
		t.Fatalf("the offer hook fired %v times, want 1", n)
	}

	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer+" .accept")))
	col := fmt.Sprintf(`.column[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the chat column", logHas(v.chat, "Where is my order?"))
	waitJS(t, alice, "the visitor details", `document.querySelector("#visitor-details")?.textContent.includes("vera@example.com") &&
		document.querySelector("#visitor-details").textContent.includes("plan=gold")`)
	if n := evalJS[float64](t, alice, `document.querySelectorAll(".offer").length`); n != 0 {
		t.Fatalf("%v offers still shown after accepting", n)
	}

	// Typing and messages from the visitor.
	ws := v.socket()
	v.typing(true)
	waitJS(t, alice, "the visitor typing", fmt.Sprintf(`document.querySelector('%s .typing').textContent.includes("Vera Lynn is typing")`, col))
	v.say("Order 4711, placed Monday.")
	waitJS(t, alice, "the visitor's message", logHas(v.chat, "Order 4711, placed Monday."))
	waitJS(t, alice, "typing cleared", fmt.Sprintf(`document.querySelector('%s .typing').textContent === ""`, col))
	waitJS(t, sup, "one chat offered and handled", kpi("kpi-offered", "1")+" && "+kpi("kpi-handled", "1"))

	// "/gre" finds the canned response; Enter inserts it filled in.
	input := col + " .composer-input"
	do(t, alice, "type a shortcut", chromedp.SendKeys(chromedp.CSS(input), "/gre"))
	waitJS(t, alice, "the canned picker", `document.querySelector('#canned-picker [data-shortcut="greet"]') !== null`)
	do(t, alice, "pick the response", enter())
	greeting := "Hello Vera Lynn, I am Alice Adams. How can I help?"
	waitJS(t, alice, "the filled-in response", fmt.Sprintf(`document.querySelector('%s').value === %q`, input, greeting))
	do(t, alice, "send it", enter())
	v.read("the canned response", func(e parley.Event) bool { return e.Text == greeting })

	// The agent answers; the visitor sees the agent typing first; text is
	// rendered as text, never as markup.
	do(t, alice, "reply", chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "It ships <b>tomorrow</b>."))
	ws.wait("the agent typing", func(f httpapi.ServerFrame) bool {
		return f.Event != nil && f.Event.Type == parley.EventTyping && f.Event.Typing && f.Event.From.Kind == parley.PartyAgent
	})
	do(t, alice, "send the reply", enter())
	got := v.read("the agent's reply", func(e parley.Event) bool {
		return e.Type == parley.EventMessage && e.Text == "It ships <b>tomorrow</b>."
	})
	if got.From.Kind != parley.PartyAgent || got.From.Name == "" {
		t.Fatalf("reply from %+v", got.From)
	}
	waitJS(t, alice, "the reply shown as text", logHas(v.chat, "It ships <b>tomorrow</b>."))
	if n := evalJS[float64](t, alice, `document.querySelectorAll(".log b").length`); n != 0 {
		t.Fatal("message text was rendered as markup")
	}

	// Transfer to Bob, who sees the history and carries on.
	bob := b.Tab()
	signIn(t, bob, s.URL, "agent2")
	evalJS[bool](t, bob, `window.offersSeen = []; addEventListener("parley:offer", (e) => offersSeen.push(e.detail)); true`)
	goReady(t, bob)
	do(t, alice, "open transfer", chromedp.Click(chromedp.CSS(col+" .transfer")))
	waitJS(t, alice, "Bob as a transfer target", `document.querySelector('.pop-item[data-agent="agent2"]') !== null`)
	const note = "She needs it before Friday; check express shipping."
	do(t, alice, "a note for Bob", chromedp.SendKeys(chromedp.CSS("#transfer-note"), note))
	do(t, alice, "transfer to Bob", chromedp.Click(chromedp.CSS(`.pop-item[data-agent="agent2"]`)))
	waitJS(t, alice, "the column to close", fmt.Sprintf(`document.querySelector('%s') === null`, col))

	waitJS(t, bob, "the transferred offer", fmt.Sprintf(`offersSeen.some((d) => d.chat_id === %q)`, v.chat))
	waitJS(t, bob, "the note on the offer", fmt.Sprintf(`document.querySelector('%s .offer-note')?.textContent.includes(%q)`, offer, note))
	do(t, bob, "Bob accepts", chromedp.Click(chromedp.CSS(offer+" .accept")))
	waitJS(t, bob, "the history at Bob's", logHas(v.chat, "Order 4711, placed Monday."))
	waitJS(t, bob, "the note in the details", fmt.Sprintf(`document.querySelector("#transfer-note-shown")?.textContent.includes(%q)`, note))
	do(t, bob, "Bob replies",
		chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "Hi Vera, Bob here. It left the warehouse."),
		enter(),
	)
	bobMsg := v.read("Bob's reply", func(e parley.Event) bool { return e.Text == "Hi Vera, Bob here. It left the warehouse." })
	if bobMsg.From.AgentID == got.From.AgentID {
		t.Fatalf("Bob's reply came from agent %d, the same as Alice's", bobMsg.From.AgentID)
	}
	v.say("Thanks Bob!")
	waitJS(t, bob, "the visitor answering Bob", logHas(v.chat, "Thanks Bob!"))

	// The supervisor monitors the chat and whispers to Bob.
	waitJS(t, sup, "the chat in progress", fmt.Sprintf(`document.querySelector('#active-chats tr[data-chat=%q]')?.textContent.includes("Bob Brown")`, v.chat))
	do(t, sup, "monitor", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#active-chats tr[data-chat=%q] .monitor`, v.chat))))
	waitJS(t, sup, "the monitored history", logHas(v.chat, "Thanks Bob!"))
	const whisper = "Offer her the express upgrade."
	do(t, sup, "whisper",
		chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), whisper),
		enter(),
	)
	waitJS(t, bob, "the whisper at Bob's", logHas(v.chat, whisper))
	// The whisper is unmistakable: its own class, not on the agent's side,
	// labelled in words (visible and for screen readers), and styled
	// apart from Bob's own messages, not only by colour.
	tag := evalJS[string](t, bob, fmt.Sprintf(`[...document.querySelectorAll('%s .log .msg-whisper')].map((e) =>
		[e.textContent, e.querySelector(".tag-internal")?.textContent, e.getAttribute("role"), e.getAttribute("aria-label"),
		 e.classList.contains("msg-out") || e.classList.contains("msg-own"), getComputedStyle(e).alignSelf, getComputedStyle(e).borderTopStyle].join("~")).join("|")`, col))
	if !strings.Contains(tag, whisper) || !strings.Contains(tag, "~Whisper~note~Whisper from Sam Super, the visitor can't see this~false~stretch~dashed") {
		t.Fatalf("the whisper is not marked as one at Bob's: %q", tag)
	}
	if os.Getenv("PARLEY_SHOTS") != "" {
		do(t, bob, "show the whisper", chromedp.ScrollIntoView(chromedp.CSS(col+" .msg-whisper")))
		shot(t, bob, "whisper.png")
	}
	if own := evalJS[string](t, bob, fmt.Sprintf(`[...document.querySelectorAll('%s .log .msg-own')].map((e) => getComputedStyle(e).alignSelf + getComputedStyle(e).borderTopStyle).join("|")`, col)); own != "" && !strings.HasPrefix(own, "flex-endnone") {
		t.Fatalf("Bob's own messages look like %q", own)
	}
	do(t, bob, "Bob follows the whisper",
		chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "I can upgrade you to express for free."),
		enter(),
	)
	v.read("Bob's offer", func(e parley.Event) bool { return e.Text == "I can upgrade you to express for free." })
	ws.wait("Bob's offer live", func(f httpapi.ServerFrame) bool {
		return f.Event != nil && f.Event.Text == "I can upgrade you to express for free."
	})
	// Neither the live socket, nor the polls, nor the whole chat read again
	// from the start carry the whisper.
	fresh := &visitor{s: s, token: v.token, chat: v.chat}
	fresh.read("the whole chat", func(e parley.Event) bool { return e.Text == "I can upgrade you to express for free." })
	seen := ws.texts()
	for _, e := range append(v.seen, fresh.seen...) {
		seen = append(seen, e.Text)
	}
	for _, text := range seen {
		if strings.Contains(text, "express upgrade") || strings.Contains(text, note) {
			t.Fatalf("the visitor received the whisper or the transfer note: %q", text)
		}
	}

	// The supervisor barges in: the visitor sees the supervisor join and
	// write; the supervisor leaves again.
	do(t, sup, "barge in", chromedp.Click(chromedp.CSS(col+" .barge")))
	waitJS(t, sup, "joined", fmt.Sprintf(`document.querySelector('%s .leave') !== null`, col))
	do(t, sup, "write to the visitor",
		chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "Hi Vera, Sam here, the team lead."),
		enter(),
	)
	lead := v.read("the supervisor's message", func(e parley.Event) bool { return e.Text == "Hi Vera, Sam here, the team lead." })
	if lead.Audience != "" || lead.From.Name != "Sam Super" {
		t.Fatalf("barge-in message %+v", lead)
	}
	waitJS(t, bob, "the team lead in Bob's chat", logHas(v.chat, "Sam here, the team lead"))
	do(t, sup, "leave", chromedp.Click(chromedp.CSS(col+" .leave")))
	v.read("the supervisor leaving", func(e parley.Event) bool { return e.Type == parley.EventLeft && e.From.Name == "Sam Super" })

	// The supervisor sees the queue change live.
	do(t, sup, "back to the supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")))
	waitJS(t, sup, "the Sales queue empty", `document.querySelector('#queues tr[data-group="2"] .qnum')?.textContent === "0"`)
	// Alice is signed in but not ready, so a Sales chat waits.
	do(t, alice, "Alice not ready", chromedp.Click(chromedp.CSS("#status-button")), chromedp.Click(chromedp.CSS(`[data-reason="Break"]`)))
	waitJS(t, alice, "status not ready", `document.querySelector("#status-label").textContent === "Not ready · Break"`)
	w := s.visitor(2, "Walt Whitman", "", "Do you ship to Canada?")
	waitJS(t, sup, "the Sales queue with one chat", `document.querySelector('#queues tr[data-group="2"] .qnum')?.textContent === "1"`)
	waitJS(t, sup, "the overview pushed live", `parleyConsole.overview?.groups.some((g) => g.group_id === 2 && g.waiting === 1)`)
	waitJS(t, sup, "Alice's status", `document.querySelector('#agents tr[data-agent="agent1"]')?.textContent.includes("Not ready · Break")`)
	waitJS(t, sup, "two chats offered, one waiting", kpi("kpi-offered", "2")+" && "+kpi("kpi-waiting", "1"))
	waitJS(t, sup, "the waiting chat listed", fmt.Sprintf(`document.querySelector('#active-chats tr[data-chat=%q]')?.textContent.includes("waiting")`, w.chat))
	for who, tab := range map[string]context.Context{"Alice": alice, "Bob": bob, "supervisor": sup} {
		noViolations(t, tab, who)
	}

	if os.Getenv("PARLEY_SCREENSHOTS") != "" {
		shoot(t, bob, "console.png")
	}
}

// shoot saves a screenshot of the tab under docs/img.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleTeamwork covers the rest of an agent's shift in the
// browser: declining an offer, unread counts, attachments both ways, a
// conference with a colleague, team chat, ending a chat with wrap-up, and
// finding the chat in the archive with its transcript.
func TestConsoleTeamwork(t *testing.T) {
	s := newConsoleServer(t)
	b, alice := browsertest.New(t)
	signIn(t, alice, s.URL, "agent1")
	goReady(t, alice)

	// Decline: the offer goes away and the chat waits for someone else.
	dora := s.visitor(1, "Dora Kim", "", "Hello?")
	offer := func(v *visitor) string { return fmt.Sprintf(`.offer[data-chat=%q]`, v.chat) }
	waitJS(t, alice, "Dora's offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer(dora)))
	do(t, alice, "decline", chromedp.Click(chromedp.CSS(offer(dora)+" .decline")))
	waitJS(t, alice, "the offer gone", `document.querySelectorAll(".offer").length === 0`)
	var view httpapi.ChatStartedBody
	if st := s.call("GET", "/api/v1/chats/"+dora.chat, dora.token, nil, &view.Chat); st != http.StatusOK || view.Chat.State != parley.StateQueued {
		t.Fatalf("declined chat: status %d, %+v", st, view.Chat)
	}

	vera := s.visitor(1, "Vera Lynn", "vera@example.com", "My invoice is wrong.")
	waitJS(t, alice, "Vera's offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer(vera)))
	do(t, alice, "accept Vera", chromedp.Click(chromedp.CSS(offer(vera)+" .accept")))
	marco := s.visitor(2, "Marco Rossi", "marco@example.com", "Do you offer annual billing?")
	waitJS(t, alice, "Marco's offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer(marco)))
	do(t, alice, "accept Marco", chromedp.Click(chromedp.CSS(offer(marco)+" .accept")))
	veraCol := fmt.Sprintf(`.column[data-chat=%q]`, vera.chat)
	marcoCol := fmt.Sprintf(`.column[data-chat=%q]`, marco.chat)
	waitJS(t, alice, "both columns", fmt.Sprintf(`document.querySelector('%s') && document.querySelector('%s.focused')`, veraCol, marcoCol))

	// A message in the chat not in focus counts as unread until opened.
	vera.say("Are you there?")
	item := fmt.Sprintf(`.chat-item[data-chat=%q]`, vera.chat)
	waitJS(t, alice, "one unread", fmt.Sprintf(`document.querySelector('%s .unread')?.textContent === "1"`, item))
	do(t, alice, "open Vera's chat", chromedp.Click(chromedp.CSS(item)))
	waitJS(t, alice, "no unread", fmt.Sprintf(`document.querySelector('%s .unread') === null && document.querySelector('%s.focused') !== null`, item, veraCol))

	// Attachments both ways.
	file := filepath.Join(t.TempDir(), "credit-note.txt")
	if err := os.WriteFile(file, []byte("credit note 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, alice, "attach", chromedp.SetUploadFiles(chromedp.CSS(veraCol+` input[type="file"]`), []string{file}))
	got := vera.read("the agent's file", func(e parley.Event) bool { return e.Type == parley.EventFile })
	if got.File == nil || got.File.Name != "credit-note.txt" {
		t.Fatalf("file event %+v", got)
	}
	waitJS(t, alice, "the file in the log", fmt.Sprintf(`document.querySelector('%s .file-chip')?.textContent.includes("credit-note.txt")`, veraCol))
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/chats/"+vera.chat+"/files?name=invoice.txt", strings.NewReader("invoice 7\n"))
	req.Header.Set("Authorization", "Bearer "+vera.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("visitor upload: %v %v", err, res)
	}
	res.Body.Close()
	waitJS(t, alice, "the visitor's file", fmt.Sprintf(`[...document.querySelectorAll('%s .file-chip')].some((c) => c.textContent.includes("invoice.txt"))`, veraCol))

	// A reload keeps the session (this tab's) and brings the chats back.
	do(t, alice, "reload", chromedp.Reload())
	waitJS(t, alice, "the chats back", logHas(vera.chat, "Are you there?")+" && "+logHas(marco.chat, "annual billing"))
	waitJS(t, alice, "still ready", `document.querySelector("#status-label")?.textContent === "Ready"`)
	watchCSP(t, alice)

	// Conference: Bob joins Vera's chat, writes, and leaves again.
	bob := b.Tab()
	signIn(t, bob, s.URL, "agent2")
	do(t, alice, "invite", chromedp.Click(chromedp.CSS(veraCol+" .conference")))
	waitJS(t, alice, "Bob in the list", `document.querySelector('.pop-item[data-agent="agent2"]') !== null`)
	do(t, alice, "invite Bob", chromedp.Click(chromedp.CSS(`.pop-item[data-agent="agent2"]`)))
	waitJS(t, bob, "the joined chat", fmt.Sprintf(`document.querySelector('%s .leave') !== null`, veraCol))
	waitJS(t, bob, "the history", logHas(vera.chat, "Are you there?"))
	do(t, bob, "Bob writes",
		chromedp.SendKeys(chromedp.CSS(veraCol+" .composer-input"), "Bob from billing here, I am fixing the invoice."),
		enter(),
	)
	vera.read("Bob's message", func(e parley.Event) bool { return e.Text == "Bob from billing here, I am fixing the invoice." })
	waitJS(t, alice, "Bob's message at Alice's", logHas(vera.chat, "Bob from billing here"))
	do(t, bob, "Bob leaves", chromedp.Click(chromedp.CSS(veraCol+" .leave")))
	waitJS(t, bob, "the column gone", fmt.Sprintf(`document.querySelector('%s') === null`, veraCol))
	vera.read("Bob leaving", func(e parley.Event) bool { return e.Type == parley.EventLeft && e.From.Kind == parley.PartyAgent })

	// Team chat between the two agents.
	do(t, alice, "open the thread with Bob", chromedp.Click(chromedp.CSS(`#team [data-agent="agent2"]`)))
	do(t, alice, "message Bob",
		chromedp.SendKeys(chromedp.CSS(`.team-column .composer-input`), "Thanks! Can you take the next refund?"),
		enter(),
	)
	waitJS(t, bob, "the team message counted", `document.querySelector('#team [data-agent="agent1"] .unread')?.textContent === "1"`)
	do(t, bob, "open the thread", chromedp.Click(chromedp.CSS(`#team [data-agent="agent1"]`)))
	waitJS(t, bob, "the team message", `document.querySelector(".team-column .log")?.textContent.includes("Can you take the next refund?")`)
	for _, e := range vera.seen {
		if strings.Contains(e.Text, "next refund") {
			t.Fatal("a team message reached the visitor")
		}
	}
	// The thread is kept: after a reload Bob reads it again, once.
	do(t, bob, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#status-button")))
	watchCSP(t, bob)
	do(t, bob, "open the thread again", chromedp.Click(chromedp.CSS(`#team [data-agent="agent1"]`)))
	waitJS(t, bob, "the history", `[...document.querySelectorAll(".team-column .bubble")].filter((b) => b.textContent === "Thanks! Can you take the next refund?").length === 1`)

	// End Marco's chat: Sales has wrap-up, then Alice is ready again.
	marco.say("Annual billing, please.")
	do(t, alice, "focus Marco", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.chat-item[data-chat=%q]`, marco.chat))))
	do(t, alice, "end", chromedp.Click(chromedp.CSS(marcoCol+" .end")), chromedp.Click(chromedp.CSS(marcoCol+" .end-yes")))
	marco.read("the end", func(e parley.Event) bool {
		return e.Type == parley.EventState && e.State.State == parley.StateTerminated
	})
	waitJS(t, alice, "the ended chat and wrap-up", fmt.Sprintf(`document.querySelector('%s .col-ended')?.textContent.includes("wrap-up") &&
		document.querySelector("#status-label").textContent === "Wrap-up"`, marcoCol))
	// A toast (Bob's invitation) may still cover the column's buttons.
	waitJS(t, alice, "the toasts gone", `document.querySelectorAll(".toast").length === 0`)
	do(t, alice, "ready after wrap-up", chromedp.Click(chromedp.CSS(marcoCol+" .col-ended .btn-primary")))
	waitJS(t, alice, "ready", `document.querySelector("#status-label").textContent === "Ready"`)
	// Mail the transcript of the ended chat to the visitor.
	do(t, alice, "open the mail form", chromedp.Click(chromedp.CSS(marcoCol+" .mail")))
	waitJS(t, alice, "the visitor's address", fmt.Sprintf(`document.querySelector('%s .pop-mail input').value === "marco@example.com"`, marcoCol))
	do(t, alice, "send the transcript", chromedp.Click(chromedp.CSS(marcoCol+" .mail-send")))
	msgs := s.smtp.WaitFor(t, 1, 15*time.Second)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "marco@example.com" {
		t.Fatalf("transcript mail to %+v", msgs)
	}
	parts, err := msgs[0].Parts()
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, p := range parts {
		text += p
	}
	if !strings.Contains(text, "Annual billing, please.") || strings.Contains(text, "next refund") {
		t.Fatalf("transcript mail text %q", text)
	}
	waitJS(t, alice, "the delivery reported", `[...document.querySelectorAll(".toast")].some((t) => t.textContent.includes("mailed to marco@example.com"))`)
	waitJS(t, alice, "the toasts gone", `document.querySelectorAll(".toast").length === 0`)
	do(t, alice, "close the chat", chromedp.Click(chromedp.CSS(marcoCol+" .close-chat")))
	waitJS(t, alice, "the column closed", fmt.Sprintf(`document.querySelector('%s') === null`, marcoCol))

	// The archive finds the chat; its transcript has the messages.
	do(t, alice, "archive search",
		chromedp.Click(chromedp.CSS("#nav-archive")),
		chromedp.SendKeys(chromedp.CSS(`#archive-form input[name="customer"]`), "marco@"),
		chromedp.Click(chromedp.CSS("#archive-search")),
	)
	row := fmt.Sprintf(`#archive-results tr[data-chat=%q]`, marco.chat)
	// The archive lists the latest chats at once; the search narrows them
	// to Marco's.
	waitJS(t, alice, "the chat found", fmt.Sprintf(`document.querySelector('%s')?.textContent.includes("marco@example.com") &&
		document.querySelectorAll("#archive-results tbody tr").length === 1`, row))
	do(t, alice, "open the transcript", chromedp.Click(chromedp.CSS(row+" a")))
	waitJS(t, alice, "the transcript", `document.querySelector(".tr-log")?.textContent.includes("Annual billing, please.")`)

	// Marco comes back: the visitor details list his earlier chat.
	back := marco.again(2, "Me again, about the invoice.")
	do(t, alice, "back to the chats", chromedp.Click(chromedp.CSS("#nav-chats")))
	waitJS(t, alice, "Marco's new offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer(back)))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer(back)+" .accept")))
	waitJS(t, alice, "the earlier chat", fmt.Sprintf(`document.querySelector('#visitor-details .det-earlier a[href="#transcript/%s"]') !== null`, marco.chat))

	noViolations(t, alice, "Alice")
	noViolations(t, bob, "Bob")
}

// TestConsolePollingFallback serves the console behind a "proxy" that
// refuses WebSocket upgrades: the console falls back to long-polling and
// an agent still gets the offer, accepts and chats both ways.
func TestConsolePollingFallback(t *testing.T) {
	s := newConsoleServer(t, consoleOptions{noWebSocket: true})
	_, alice := browsertest.New(t)
	do(t, alice, "sign in",
		chromedp.Navigate(s.URL+"/agent/"),
		chromedp.SendKeys(chromedp.CSS("#login-name"), "agent1"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), consolePassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	waitJS(t, alice, "the polling fallback", `document.querySelector(".conn-polling") !== null`)
	goReady(t, alice)

	v := s.visitor(1, "Pia Polling", "", "Hello from behind a proxy")
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer+" .accept")))
	waitJS(t, alice, "the history", logHas(v.chat, "Hello from behind a proxy"))
	v.say("Can you read me?")
	waitJS(t, alice, "the visitor's message", logHas(v.chat, "Can you read me?"))
	col := fmt.Sprintf(`.column[data-chat=%q]`, v.chat)
	do(t, alice, "reply", chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "Loud and clear."), enter())
	v.read("the reply", func(e parley.Event) bool { return e.Text == "Loud and clear." })
	waitJS(t, alice, "the reply once", fmt.Sprintf(`[...document.querySelectorAll('%s .bubble')].filter((b) => b.textContent === "Loud and clear.").length === 1`, col))
	s.call("POST", "/api/v1/chats/"+v.chat+"/leave", v.token, nil, nil)
	waitJS(t, alice, "the end", fmt.Sprintf(`document.querySelector('%s .col-ended') !== null`, col))
}

// TestConsolePick covers groups with the manual strategy: nothing is
// offered, the waiting chat is listed and the agent picks it.
func TestConsolePick(t *testing.T) {
	s := newConsoleServer(t, consoleOptions{manualGroup: true})
	_, bob := browsertest.New(t)
	signIn(t, bob, s.URL, "agent2")
	goReady(t, bob)
	waitJS(t, bob, "the empty pick list", `[...document.querySelectorAll(".list-section .empty")].some((e) => e.textContent.includes("Nobody is waiting in Billing"))`)
	v := s.visitor(3, "Bea Billing", "", "A question about my bill")
	row := fmt.Sprintf(`#pickable [data-chat=%q]`, v.chat)
	waitJS(t, bob, "the waiting chat", fmt.Sprintf(`document.querySelector('%s')?.textContent.includes("Bea Billing")`, row))
	if n := evalJS[float64](t, bob, `document.querySelectorAll(".offer").length`); n != 0 {
		t.Fatalf("%v offers in a manual group", n)
	}
	do(t, bob, "pick", chromedp.Click(chromedp.CSS(row+" .pick-chat")))
	waitJS(t, bob, "the picked chat", logHas(v.chat, "A question about my bill"))
	waitJS(t, bob, "the pick list empty again", `document.querySelector("#pickable") === null`)
	v.read("Bob joining", func(e parley.Event) bool { return e.Type == parley.EventJoined && e.From.Kind == parley.PartyAgent })
}

// TestConsoleCannedManagement edits, deletes and imports canned
// responses in the console and checks them in the API; an agent sees
// the list but cannot change it.
func TestConsoleCannedManagement(t *testing.T) {
	s := newConsoleServer(t)
	b, sup := browsertest.New(t)
	signIn(t, sup, s.URL, "sup")
	do(t, sup, "responses", chromedp.Click(chromedp.CSS("#nav-responses")))
	waitJS(t, sup, "the empty list", `document.querySelector(".responses .empty") !== null`)

	// Import a CSV file for Support.
	csv := filepath.Join(t.TempDir(), "responses.csv")
	data := "folder,shortcut,title,text\nGreetings,greet,Hello,\"Hello {visitor.name}, how can I help?\"\nClosing,bye,Goodbye,Thank you for contacting {group.name}!\n"
	if err := os.WriteFile(csv, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	evalJS[bool](t, sup, `(() => { const s = document.querySelector(".responses select.sel-sm"); s.value = "1";
		s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
	do(t, sup, "import", chromedp.SetUploadFiles(chromedp.CSS(`.responses input[type="file"]`), []string{csv}))
	waitJS(t, sup, "the imported responses", `document.querySelectorAll("#canned-table tbody tr").length === 2`)
	var list []struct {
		ID       int64  `json:"id"`
		GroupID  int64  `json:"group_id"`
		Shortcut string `json:"shortcut"`
		Text     string `json:"text"`
	}
	tok := s.agentToken("sup")
	s.call("GET", "/api/v1/canned", tok, nil, &list)
	if len(list) != 2 || list[0].GroupID != 1 || list[1].GroupID != 1 {
		t.Fatalf("imported %+v, want two responses of group 1", list)
	}

	// Edit the greeting.
	var greet int64
	for _, r := range list {
		if r.Shortcut == "greet" {
			greet = r.ID
		}
	}
	row := fmt.Sprintf(`#canned-table tr[data-id="%d"]`, greet)
	do(t, sup, "edit", chromedp.Click(chromedp.CSS(row+" .btn")))
	waitJS(t, sup, "the form", `document.querySelector('#canned-form textarea[name="text"]')?.value === "Hello {visitor.name}, how can I help?"`)
	evalJS[bool](t, sup, `(() => { const ta = document.querySelector('#canned-form textarea[name="text"]'); ta.value = "";
		ta.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)
	do(t, sup, "new text",
		chromedp.SendKeys(chromedp.CSS(`#canned-form textarea[name="text"]`), "Good morning {visitor.name}!"),
		chromedp.Click(chromedp.CSS("#canned-form button.btn-primary")),
	)
	waitJS(t, sup, "the edited text", fmt.Sprintf(`document.querySelector('%s')?.textContent.includes("Good morning {visitor.name}!")`, row))

	// Delete the other one.
	del := `#canned-table tr:not([data-id="` + fmt.Sprint(greet) + `"]) .btn-danger-ghost`
	do(t, sup, "delete", chromedp.Click(chromedp.CSS(del)))
	waitJS(t, sup, "one response left", `document.querySelectorAll("#canned-table tbody tr").length === 1`)
	list = nil
	s.call("GET", "/api/v1/canned", tok, nil, &list)
	if len(list) != 1 || list[0].Text != "Good morning {visitor.name}!" {
		t.Fatalf("after edit and delete: %+v", list)
	}

	// An agent sees the list without the controls to change it.
	alice := b.Tab()
	signIn(t, alice, s.URL, "agent1")
	do(t, alice, "responses", chromedp.Click(chromedp.CSS("#nav-responses")))
	waitJS(t, alice, "the list", `document.querySelector("#canned-table")?.textContent.includes("Good morning")`)
	if n := evalJS[float64](t, alice, `document.querySelectorAll("#canned-new, #canned-table .btn, .responses input[type=file]").length`); n != 0 {
		t.Fatalf("an agent sees %v controls to change responses", n)
	}
	noViolations(t, sup, "supervisor")
}

// agentToken signs an agent in through the API.
func (s *consoleServer) agentToken(login string) string {
	s.t.Helper()
	return s.ts.Login(login)
}

// TestConsoleScreenshots stages a busy shift and saves the screenshots
// of docs/console.md (docs/img/console.png, supervisor.png and the dark
// variants). It runs only with PARLEY_SCREENSHOTS=1, as it writes files.
func TestConsoleScreenshots(t *testing.T) {
	if os.Getenv("PARLEY_SCREENSHOTS") == "" {
		t.Skip("set PARLEY_SCREENSHOTS=1 to write docs/img/console.png and supervisor.png")
	}
	s := newConsoleServer(t)
	supTok := s.agentToken("sup")
	for _, c := range []map[string]any{
		{"group_id": 1, "folder": "Greetings", "shortcut": "greet", "title": "Hello", "text": "Hello {visitor.name}, I am {agent.name}. How can I help?"},
		{"group_id": 1, "folder": "Orders/Shipping", "shortcut": "ship", "title": "Shipping times", "text": "Orders placed before 3 pm ship the same day."},
		{"group_id": 1, "folder": "Orders/Returns", "shortcut": "return", "title": "Return label", "text": "I have emailed a prepaid return label to {visitor.email}."},
		{"folder": "Closing", "shortcut": "bye", "title": "Goodbye", "text": "Thank you for contacting {group.name}, {visitor.name}!"},
	} {
		if st := s.call("POST", "/api/v1/canned", supTok, c, nil); st != http.StatusCreated {
			t.Fatalf("canned: status %d", st)
		}
	}
	bobTok := s.agentToken("agent2")
	s.call("PUT", "/api/v1/me/presence", bobTok, map[string]any{"presence": "available", "status": "ready"}, nil)
	aliceTok := s.agentToken("agent1")

	b, alice := browsertest.New(t)
	do(t, alice, "viewport", chromedp.EmulateViewport(1440, 900))
	signIn(t, alice, s.URL, "agent1")

	accept := func(v *visitor) {
		t.Helper()
		offer := fmt.Sprintf(`.offer[data-chat=%q] .accept`, v.chat)
		waitJS(t, alice, "offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer))
		do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer)))
		waitJS(t, alice, "column", fmt.Sprintf(`document.querySelector('.column[data-chat=%q]') !== null`, v.chat))
	}
	say := func(chat, text string) {
		t.Helper()
		if st := s.call("POST", "/api/v1/chats/"+chat+"/messages", aliceTok, map[string]any{"text": text}, nil); st != http.StatusCreated {
			t.Fatalf("agent message: %d", st)
		}
	}

	// Bob takes some chats and ends one, so the KPIs have history; then
	// he is not ready, so the next chats go to Alice.
	bobAccept := func(v *visitor) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.call("POST", "/api/v1/chats/"+v.chat+"/accept", bobTok, nil, nil) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("Bob never got %s", v.chat)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	nora := s.visitor(1, "Nora Diaz", "nora@example.com", "Is the blue jacket back in stock?")
	bobAccept(nora)
	ken := s.visitor(1, "Ken Ito", "", "How do I reset my password?")
	bobAccept(ken)
	s.call("POST", "/api/v1/chats/"+ken.chat+"/end", bobTok, nil, nil)
	s.call("POST", "/api/v1/chats/"+ken.chat+"/rating", ken.token, map[string]any{"score": 5, "comment": "Solved in a minute, thanks!"}, nil)
	s.call("PUT", "/api/v1/me/presence", bobTok, map[string]any{"presence": "available", "status": "not_ready", "reason": "Lunch"}, nil)
	gone := s.visitor(1, "Lee Park", "", "Hello?")
	s.call("POST", "/api/v1/chats/"+gone.chat+"/leave", gone.token, nil, nil)

	goReady(t, alice)
	vera := s.visitorOn(1, "Vera Lynn", "vera.lynn@example.com", "Hi, my order #4711 hasn't arrived yet.", map[string]any{
		"url":        "https://shop.example.com/orders/4711",
		"title":      "Order #4711 – Acme Outdoor",
		"referrer":   "https://mail.example.com/",
		"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"language":   "de-DE",
		"time_zone":  "Europe/Berlin",
	})
	accept(vera)
	say(vera.chat, "Hello Vera, I am Alice. Let me check order #4711 for you.")
	vera.say("Thanks! It was placed on Monday.")
	say(vera.chat, "It left our warehouse yesterday and should arrive tomorrow before noon. Tracking: https://track.example.com/4711")
	vera.say("Great. Can I still change the delivery address?")

	marco := s.visitor(2, "Marco Rossi", "marco@rossi.it", "Do you offer volume discounts for 50 seats?")
	accept(marco)
	say(marco.chat, "Hi Marco, yes: from 25 seats the price drops by 15%.")
	marco.say("And annual billing?")

	s.visitor(1, "Priya Shah", "priya@example.org", "I need help with a refund")
	waitJS(t, alice, "the third offer", `document.querySelectorAll(".offer").length === 1`)
	do(t, alice, "focus Vera", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.chat-item[data-chat=%q]`, vera.chat))))
	vera.typing(true)
	waitJS(t, alice, "typing", `document.querySelector(".typing .dots") !== null`)
	do(t, alice, "type a reply", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`.column[data-chat=%q] .composer-input`, vera.chat)), "/"))
	waitJS(t, alice, "picker", `document.querySelectorAll("#canned-picker .pick").length >= 3`)
	shoot(t, alice, "console.png")
	evalJS[bool](t, alice, `parleyConsole.setTheme("dark"), true`)
	waitJS(t, alice, "dark theme", `document.documentElement.dataset.theme === "dark"`)
	// Let the colour transitions finish before the picture.
	waitJS(t, alice, "transitions", `new Promise((ok) => setTimeout(() => ok(true), 400))`)
	shoot(t, alice, "console-dark.png")

	// The supervisor watches the queues fill and drain.
	sup := b.Tab()
	do(t, sup, "viewport", chromedp.EmulateViewport(1440, 900))
	signIn(t, sup, s.URL, "sup")
	do(t, sup, "supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")))
	offered := 6 // Nora, Ken, Lee, Vera, Marco, Priya
	waitJS(t, sup, "the KPIs", kpi("kpi-offered", fmt.Sprint(offered)))
	names := []string{"Olga Petrova", "Sam Lee", "Ines Costa", "Tom Berg", "Aiko Sato", "Ravi Nair", "Emma Stone"}
	var queued []*visitor
	for i, name := range names {
		v := s.visitor(int64(1+i%2), name, strings.ToLower(strings.Fields(name)[0])+"@example.com", "Hello, I have a question.")
		queued = append(queued, v)
		offered++
		if i == 3 {
			s.call("POST", "/api/v1/chats/"+queued[1].chat+"/leave", queued[1].token, nil, nil)
		}
		waitJS(t, sup, "the offer counted", kpi("kpi-offered", fmt.Sprint(offered)))
		waitJS(t, sup, "a fresh sample", `new Promise((ok) => setTimeout(() => ok(true), 2100))`)
	}
	s.call("PUT", "/api/v1/me/presence", bobTok, map[string]any{"presence": "available", "status": "ready"}, nil)
	bobAccept(queued[0])
	waitJS(t, sup, "a fresh sample", `new Promise((ok) => setTimeout(() => ok(true), 2100))`)
	bobAccept(queued[2])
	waitJS(t, sup, "Bob's load", `document.querySelector('#agents tr[data-agent="agent2"]')?.textContent.includes("3/3")`)
	// The theme is kept per browser; this tab inherited Alice's dark one.
	evalJS[bool](t, sup, `parleyConsole.setTheme("light"), true`)
	waitJS(t, sup, "light theme", `document.documentElement.dataset.theme === "light"`)
	// Let the colour transitions finish before the picture.
	waitJS(t, sup, "transitions", `new Promise((ok) => setTimeout(() => ok(true), 400))`)
	shoot(t, sup, "supervisor.png")
	evalJS[bool](t, sup, `parleyConsole.setTheme("dark"), true`)
	waitJS(t, sup, "dark theme", `document.documentElement.dataset.theme === "dark"`)
	// Let the colour transitions finish before the picture.
	waitJS(t, sup, "transitions", `new Promise((ok) => setTimeout(() => ok(true), 400))`)
	shoot(t, sup, "supervisor-dark.png")

	// Phone width: the supervisor on the go, and an agent's chat.
	evalJS[bool](t, sup, `parleyConsole.setTheme("light"), true`)
	do(t, sup, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	waitJS(t, sup, "transitions", `new Promise((ok) => setTimeout(() => ok(true), 400))`)
	shoot(t, sup, "supervisor-phone.png")
	evalJS[bool](t, alice, `parleyConsole.setTheme("light"), true`)
	do(t, alice, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.ScrollIntoView(chromedp.CSS(fmt.Sprintf(`.column[data-chat=%q] .col-head`, vera.chat))))
	waitJS(t, alice, "transitions", `new Promise((ok) => setTimeout(() => ok(true), 400))`)
	shoot(t, alice, "console-phone.png")
}
