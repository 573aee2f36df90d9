package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/browsertest"
)

// openWidget shows the host page at path in a window of w×h and opens the
// widget; it returns the widget's frame.
func openWidget(t *testing.T, s *stack, tab context.Context, path string, w, h int64) context.Context {
	t.Helper()
	act(t, tab, chromedp.EmulateViewport(w, h), chromedp.Navigate(s.host+path))
	wWaitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, clickLauncher)
	return frameCtx(t, tab, s.parley)
}

// startChat fills the pre-chat form and waits for the agent to get the question.
func startChat(t *testing.T, app context.Context, agent *agentSession, question string) string {
	t.Helper()
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera Lindqvist"),
		chromedp.SendKeys("#question", question),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	return agent.message(question)
}

// darkMode switches the frame's colour scheme.
func darkMode(t *testing.T, ctx context.Context, dark bool) {
	t.Helper()
	v := "light"
	if dark {
		v = "dark"
	}
	act(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}})
		return err
	}))
	wWaitJS(t, ctx, "the "+v+" scheme", `matchMedia("(prefers-color-scheme: `+v+`)").matches`)
}

// inView is JS for: the element is inside the frame's viewport and on top
// at its centre (not clipped, not covered).
func inView(sel string) string {
	return `(() => { const el = document.querySelector(` + strconvQuote(sel) + `); const r = el.getBoundingClientRect();
  if (r.height === 0 || r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit)); })()`
}

// TestWidgetOfflineFormErrors: in a small card, the offline form with
// every field in error keeps its send button in view; the message field's
// error names the message; once sent, a success state replaces the form,
// which is cleared. Every text of both states meets WCAG AA, light and
// dark.
func TestWidgetOfflineFormErrors(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="2"`))
	tab := newTab(t)
	app := openWidget(t, s, tab, "/", 1280, 600) // a card of 488 px
	act(t, app, chromedp.WaitVisible("#offline"), chromedp.Click("#off-button"), chromedp.WaitVisible("#off-message-error"))
	if got := eval[string](t, app, `document.querySelector("#off-message-error").textContent`); got != "Please write your message." {
		t.Errorf("the message field's error says %q", got)
	}
	for _, sel := range []string{"#off-button", "#off-name-error"} {
		if !eval[bool](t, app, inView(sel)) {
			t.Errorf("%s is out of view or covered with the errors shown (card %v px)", sel, eval[float64](t, app, `innerHeight`))
		}
	}
	// Scrolled to the top, the button still shows.
	eval[bool](t, app, `document.querySelector("#offline").scrollTop = 0, true`)
	if !eval[bool](t, app, inView("#off-button")) {
		t.Error("the send button is out of view at the top of the form")
	}
	browsertest.CheckContrast(t, app, "the offline form with errors")
	darkMode(t, app, true)
	browsertest.CheckContrast(t, app, "the offline form with errors, dark")
	darkMode(t, app, false)

	act(t, app,
		chromedp.SendKeys("#off-name", "Vera"),
		chromedp.SendKeys("#off-email", "vera@example.com"),
		chromedp.SendKeys("#off-message", "Please send me a quote for 20 tents."),
		chromedp.Click("#off-button"),
		chromedp.WaitVisible("#off-done"),
	)
	if !eval[bool](t, app, `document.querySelector("#offline").hidden`) {
		t.Error("the form stays on screen after sending: it looks unsent")
	}
	if got := eval[[]string](t, app, `["#off-name", "#off-email", "#off-message"].map((s) => document.querySelector(s).value)`); strings.Join(got, "") != "" {
		t.Errorf("the form keeps %q after sending", got)
	}
	if got := eval[string](t, app, `document.querySelector("#off-sent").textContent`); got != "Thank you, Vera. We will get back to you soon." {
		t.Errorf("thank-you %q", got)
	}
	if !eval[bool](t, app, inView("#off-sent")) || !eval[bool](t, app, inView("#off-done-title")) {
		t.Error("the thank-you is cut off")
	}
	// A success, not a warning: the check mark in the success colour, no alert box.
	if eval[bool](t, app, `!!document.querySelector("#off-sent").closest(".alert")`) {
		t.Error("the thank-you is shown as an alert")
	}
	browsertest.CheckContrast(t, app, "the offline thank-you")
	darkMode(t, app, true)
	browsertest.CheckContrast(t, app, "the offline thank-you, dark")
}

// TestWidgetPostChatRoomy: after the chat the transcript keeps most of
// the card and the rating stars are large, in colours with AA contrast.
func TestWidgetPostChatRoomy(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	app := openWidget(t, s, tab, "/", 1280, 760)
	chatID := startChat(t, app, alice, "Where is my order?")
	for _, m := range []string{"Let me look.", "It left the warehouse today.", "Tracking: 4711-0815."} {
		alice.send(chatID, m)
	}
	s.call("POST", "/api/v1/chats/"+chatID+"/end", alice.token, nil, nil)
	act(t, app, chromedp.WaitVisible("#rating"))
	got := eval[map[string]float64](t, app, `({ log: document.querySelector("#log").clientHeight, card: document.querySelector("#card").clientHeight,
  star: parseFloat(getComputedStyle(document.querySelector("#stars .star span")).fontSize) })`)
	if got["log"] < got["card"]*0.4 {
		t.Errorf("the transcript gets %v of the card's %v px", got["log"], got["card"])
	}
	if got["star"] < 28 {
		t.Errorf("stars of %v px", got["star"])
	}
	act(t, app, chromedp.Click(`#stars input[value="4"]`), chromedp.WaitVisible("#rate-comment"))
	browsertest.CheckContrast(t, app, "the post-chat page")
	darkMode(t, app, true)
	browsertest.CheckContrast(t, app, "the post-chat page, dark")
}

// TestWidgetTranscriptOnlyWhenMailable: "email me the transcript" is
// offered only when the chat's group can mail (here: the server has a
// sender address), and then it works.
func TestWidgetTranscriptOnlyWhenMailable(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    conversation.Config
		offers bool
	}{
		{"no sender address", conversation.Config{}, false},
		{"a sender address", conversation.Config{MailFrom: "chat@acme.test"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, c.cfg)
			s.page("/", hostPage(`group="1"`))
			alice := s.agent("alice")
			tab := newTab(t)
			app := openWidget(t, s, tab, "/", 1280, 760)
			chatID := startChat(t, app, alice, "Can I get this in writing?")
			s.call("POST", "/api/v1/chats/"+chatID+"/end", alice.token, nil, nil)
			act(t, app, chromedp.WaitVisible("#rating"))
			if got := eval[bool](t, app, `!document.querySelector("#transcript").hidden`); got != c.offers {
				t.Fatalf("transcript offered: %v, want %v", got, c.offers)
			}
			if !c.offers {
				return
			}
			act(t, app, chromedp.Click("#transcript-open"), chromedp.WaitVisible("#transcript-email"),
				chromedp.SendKeys("#transcript-email", "vera@example.com"), chromedp.Click("#transcript button[type=submit]"))
			wWaitJS(t, app, "the confirmation", `document.querySelector("#transcript-result").textContent === "The transcript is on its way to vera@example.com."`)
		})
	}
}

// TestWidgetBargeIn: a supervisor joining the chat keeps the agent in the
// header; the visitor sees that a second person joined.
func TestWidgetBargeIn(t *testing.T) {
	s := newStack(t)
	sam := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "sam", DisplayName: "Sam Super", Role: parley.RoleSupervisor,
		Capacity: 3, Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{}}
	if err := s.svc.Seed(context.Background(), nil, []*parley.Agent{sam}, agentPassword); err != nil {
		t.Fatal(err)
	}
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	app := openWidget(t, s, tab, "/", 1280, 760)
	chatID := startChat(t, app, alice, "My tent pole broke.")
	wWaitJS(t, app, "Alice in the header", `document.querySelector("#chat-title").textContent === "Alice"`)
	var login httpapi.LoginResponse
	s.call("POST", "/api/v1/auth/login", "", map[string]any{"login": "sam", "password": agentPassword}, &login)
	s.call("POST", "/api/v1/chats/"+chatID+"/barge", login.Token, nil, nil)
	wWaitJS(t, app, "Sam's join line", `document.querySelector("#log").textContent.includes("Sam Super joined the chat")`)
	wWaitJS(t, app, "Sam in the header's status", `document.querySelector("#chat-status").textContent.includes("Sam Super also joined")`)
	got := eval[[]string](t, app, `[document.querySelector("#chat-title").textContent, document.querySelector("#avatar").textContent,
  String(document.querySelector("#guest-avatar").hidden), document.querySelector("#guest-avatar").textContent]`)
	if want := []string{"Alice", "A", "false", "SS"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("header %q, want %q (title, agent's face, guest face hidden, guest's face)", got, want)
	}
	// After a reload the same: the chat's view says who is who.
	act(t, tab, chromedp.Reload())
	app = frameCtx(t, tab, s.parley)
	wWaitJS(t, app, "the header after a reload", `document.querySelector("#chat-title").textContent === "Alice" && document.querySelector("#chat-status").textContent.includes("Sam Super also joined")`)
	// Sam leaves: Alice stays, the second face goes.
	s.call("POST", "/api/v1/chats/"+chatID+"/leave", login.Token, nil, nil)
	wWaitJS(t, app, "Sam gone", `document.querySelector("#guest-avatar").hidden && !document.querySelector("#chat-status").textContent.includes("Sam") && document.querySelector("#chat-title").textContent === "Alice"`)
	browsertest.CheckContrast(t, app, "the chat with a supervisor")
}

// TestWidgetReceiptsEmojiAvatar: the agent's initials in the header; an
// emoji from the picker goes into the message; read receipts both ways.
func TestWidgetReceiptsEmojiAvatar(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	app := openWidget(t, s, tab, "/", 1280, 760)
	act(t, app, chromedp.WaitVisible("#start"), chromedp.SendKeys("#email", "vera@"))
	browsertest.CheckContrast(t, app, "the pre-chat form")
	darkMode(t, app, true)
	browsertest.CheckContrast(t, app, "the pre-chat form, dark")
	darkMode(t, app, false)
	eval[bool](t, app, `document.querySelector("#email").value = "", true`)
	chatID := startChat(t, app, alice, "Is the Trail 2 in stock?")
	wWaitJS(t, app, "Alice's face in the header", `document.querySelector("#avatar").textContent === "A" && getComputedStyle(document.querySelector("#avatar")).backgroundColor !== "rgba(0, 0, 0, 0)"`)

	// The visitor reads Alice's message: Alice gets a receipt.
	alice.send(chatID, "Yes, 12 left.")
	wWaitJS(t, app, "Alice's message", `document.querySelector("#log").textContent.includes("Yes, 12 left.")`)
	agentSeq := alice.waitFrame("Alice's own message", func(f httpapi.ServerFrame) bool { return f.Type == "event" && f.Event.Text == "Yes, 12 left." }).Event.Seq
	f := alice.waitFrame("the visitor's receipt", func(f httpapi.ServerFrame) bool {
		return f.Type == "event" && f.Event.Type == parley.EventSeen && f.Event.From.Kind == parley.PartyVisitor && f.Event.Seen >= agentSeq
	})
	if f.Event.Seq == 0 || agentSeq == 0 {
		t.Errorf("receipt %+v for seq %d", f.Event, agentSeq)
	}

	// Emoji: the picker inserts at the caret; the message carries it.
	act(t, app, chromedp.SendKeys("#text", "Great "), chromedp.Click("#emoji"), chromedp.WaitVisible("#emoji-grid"))
	if n := eval[int](t, app, `document.querySelectorAll("#emoji-grid button.emoji").length`); n < 20 {
		t.Errorf("%d emoji in the picker", n)
	}
	browsertest.CheckContrast(t, app, "the chat with the emoji picker")
	act(t, app, chromedp.Click(`#emoji-grid button[aria-label="👍"]`))
	wWaitJS(t, app, "the emoji in the composer, the picker closed", `document.querySelector("#text").value === "Great 👍" && document.querySelector("#emoji-grid").hidden && document.activeElement.id === "text"`)
	act(t, app, chromedp.Click("#send"))
	alice.message("Great 👍")

	// Alice reads it: the visitor sees "Seen" under the message.
	seq := alice.waitFrame("the emoji message", func(f httpapi.ServerFrame) bool { return f.Type == "event" && f.Event.Text == "Great 👍" }).Event.Seq
	if eval[bool](t, app, `document.querySelector("#log").textContent.includes("Seen")`) {
		t.Fatal("Seen before the agent read")
	}
	s.call("POST", "/api/v1/chats/"+chatID+"/seen", alice.token, map[string]int64{"seq": seq}, nil)
	wWaitJS(t, app, "Seen under the message", `[...document.querySelectorAll("#log li.msg.mine")].pop()?.querySelector(".seen")?.textContent === "Seen"`)
	browsertest.CheckContrast(t, app, "the chat")
	darkMode(t, app, true)
	browsertest.CheckContrast(t, app, "the chat, dark")
}

// TestWidgetAgentPhoto: an agent's photo (photo_url, https only) shows in
// the widget's header and on the contact portal.
func TestWidgetAgentPhoto(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	aliceID := s.publicAgentID("Alice")
	admin := conversation.Actor{Kind: parley.PartyAgent, TenantID: parley.DefaultTenantID,
		Agent: &parley.Agent{ID: 1000, TenantID: parley.DefaultTenantID, Role: parley.RoleAdmin}}
	bad := "http://photos.example/alice.jpg"
	if _, err := s.svc.UpdateAgent(context.Background(), admin, aliceID, conversation.AgentUpdate{PhotoURL: &bad}); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("an http photo: %v, want invalid", err)
	}
	const photo = "https://photos.example/alice.jpg"
	p := photo
	if _, err := s.svc.UpdateAgent(context.Background(), admin, aliceID, conversation.AgentUpdate{PhotoURL: &p}); err != nil {
		t.Fatal(err)
	}
	tab := newTab(t)
	app := openWidget(t, s, tab, "/", 1280, 760)
	startChat(t, app, alice, "Hello")
	wWaitJS(t, app, "Alice's photo in the header", `document.querySelector("#avatar img")?.getAttribute("src") === `+strconvQuote(photo))
	portal := newTabIn(t, tab)
	act(t, portal, chromedp.Navigate(s.parley+"/contact?groups=1"))
	wWaitJS(t, portal, "the photo on the portal", `document.querySelector("#agents .face img")?.getAttribute("src") === `+strconvQuote(photo))
}
