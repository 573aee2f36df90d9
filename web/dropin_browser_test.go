package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
)

// mitelPage is a page written for the Mitel MiCC Enterprise stock chat
// client as "Chat Configurations" (Stock chat client) shows one: the
// toolbox script at the end of <head>, and customizePage and
// customizeRequest redefined in the page, setting Mitel.ChatToolbox.Config
// properties. Only the host name (PARLEY) is Parley's. (The reference
// writes the script tag self-closing, "<script src=… />", which is XHTML;
// an HTML page closes it with </script>, or the browser takes the rest of
// the page for the script's body.)
const mitelPage = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Contoso Insurance - Claims</title>
  <style>
    body { margin: 0; font: 16px/1.5 "Segoe UI", Arial, sans-serif; color: #222; background: #fff; }
    header { padding: 18px 40px; background: #003a70; color: #fff; font-weight: 700; font-size: 20px; }
    main { max-width: 760px; padding: 40px; }
    h1 { font-size: 34px; margin: 0 0 12px; color: #003a70; }
  </style>
  <script src="PARLEY/CustomerChat/Chat/Toolbox"></script>
</head>
<body>
  <header>Contoso Insurance</header>
  <main>
    <h1>Report a claim</h1>
    <p>Tell us what happened and we will guide you through the next steps. Questions? Our claims team is here to chat.</p>
  </main>
  <script>
    Mitel.ChatToolbox.customizePage = function() {
      Mitel.ChatToolbox.Config.TenantID = -1;
      Mitel.ChatToolbox.Config.ServiceGroupName = "Support";
      Mitel.ChatToolbox.Config.ToolboxPosition = "center-left";
      Mitel.ChatToolbox.Config.HideAgentName = true;
    }
  </script>
  <script>
    Mitel.ChatToolbox.customizeRequest = function() {
      Mitel.ChatToolbox.Config.CustomerName = "Vera Lindqvist";
      Mitel.ChatToolbox.Config.InitialMessage = "Is water damage from a burst pipe covered?";
      Mitel.ChatToolbox.Config.PrivateData = "policy=HX-4711";
      Mitel.ChatToolbox.Config.InitialMessageToAgent = "Came from the claims page";
    }
  </script>
</body>
</html>`

// estosPage is a page written for estos LiveChat as its installation guide
// shows one: the script in <head>, <estos-widget group="g_1"
// configurl="./config.json"> and an <estos-directchat> with a prioritized
// list of groups. Only the script source (PARLEY) is Parley's.
const estosPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Nordlicht Solar - Contact</title>
  <style>
    body { margin: 0; font: 16px/1.55 Verdana, sans-serif; color: #1b2a2f; background: #f3f8f9; }
    header { padding: 20px 40px; background: #fff; border-bottom: 1px solid #d5e3e6; font-weight: 700; font-size: 20px; color: #006064; }
    main { max-width: 760px; padding: 40px; }
    h1 { font-size: 34px; margin: 0 0 12px; }
    .direct { margin-top: 28px; padding: 20px; background: #fff; border: 1px solid #d5e3e6; border-radius: 12px; }
  </style>
  <script src="PARLEY/widget.js"></script>
</head>
<body>
  <header>Nordlicht Solar</header>
  <main>
    <h1>Talk to us</h1>
    <p>Planning a roof system or a battery? Our advisers answer in the chat.</p>
    <div class="direct">
      <p>Sales first, otherwise whoever is free:</p>
      <estos-directchat groups='["g_2", "g_1"]' configurl="./config.json"></estos-directchat>
    </div>
  </main>
  <estos-widget group="g_1" configurl="./config.json"></estos-widget>
</body>
</html>`

// estosConfig is a LiveChat config.json in estos' shape, with the guide's
// corporate identity colors.
const estosConfig = `{
  "lib": {
    "ucsid": "<your ucsid>"
  },
  "colors": {
    "headerBackground": "#00BCD4",
    "headerFontActive": "#ffffff",
    "headerFontInactive": "#eaeaea",
    "highlight": "#006064"
  }
}`

const mitelLauncher = `document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`

// chatVisitor returns the stored chat and its visitor.
func chatVisitor(t *testing.T, s *stack, chatID string) (*parley.Chat, *parley.Visitor) {
	t.Helper()
	c, err := s.store.Chat(context.Background(), chatID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.store.Visitor(context.Background(), c.VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	return c, v
}

// TestMitelToolboxPage: a page written for Mitel's stock chat client, with
// only the host name changed, gets Parley's chat: the properties its
// customizePage sets (group by name, position, anonymous agent) and those
// its customizeRequest sets (the customer's name and question, private
// data, a message to the agent) apply, the chat reaches the agent, and
// Mitel's posted messages work.
func TestMitelToolboxPage(t *testing.T) {
	s := newStack(t)
	s.page("/claims", mitelPage)
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/claims"))
	wWaitJS(t, tab, "the toolbox's launcher", `!!`+mitelLauncher)
	// The dot shows the status of the group the page named: Support is open.
	wWaitJS(t, tab, "the group's status", `!`+mitelLauncher+`.querySelector("i").hidden`)
	got := eval[[]string](t, tab, `[`+mitelLauncher+`.className, getComputedStyle(`+mitelLauncher+`.querySelector("i")).backgroundColor]`)
	if want := []string{"l center left", "rgb(22, 163, 74)"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("launcher class and dot %q, want %q (ToolboxPosition center-left, Support open)", got, want)
	}

	// What customizePage changed became attributes; TenantID -1 is Mitel's
	// default, so the server's tenant stands.
	attrs := eval[[]string](t, tab, `[...document.querySelector("parley-widget").attributes].map((a) => a.name + "=" + a.value)`)
	if want := "group=Support,hideagentname=true,position=center-left"; strings.Join(attrs, ",") != want {
		t.Errorf("the widget's attributes %q, want %q", attrs, want)
	}

	eval[bool](t, tab, mitelLauncher+`.click(), true`)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"))
	if got := eval[[]string](t, app, `[document.querySelector("#name").value, document.querySelector("#question").value]`); got[0] != "Vera Lindqvist" || got[1] != "Is water damage from a burst pipe covered?" {
		t.Errorf("customizeRequest's CustomerName and InitialMessage: the form holds %q", got)
	}
	act(t, app, chromedp.Click("#start-button"), chromedp.WaitVisible("#log"))
	chatID := alice.message("Is water damage from a burst pipe covered?")
	if id := alice.message("Came from the claims page"); id != chatID {
		t.Errorf("InitialMessageToAgent arrived in chat %s, want %s", id, chatID)
	}
	c, v := chatVisitor(t, s, chatID)
	if c.GroupID != 1 || v.Name != "Vera Lindqvist" || v.PrivateData != "policy=HX-4711" {
		t.Errorf("chat in group %d from %q with private data %q; want Support (1), Vera Lindqvist, policy=HX-4711", c.GroupID, v.Name, v.PrivateData)
	}
	wWaitJS(t, app, "the anonymous join line (HideAgentName)", `document.querySelector("#log").textContent.includes("Your agent joined the chat")`)
	if eval[bool](t, app, `document.querySelector("#card").textContent.includes("Alice")`) {
		t.Error("HideAgentName: the agent's name is shown")
	}
	if eval[bool](t, app, `document.querySelector("#log").textContent.includes("Came from the claims page")`) {
		t.Error("InitialMessageToAgent is shown to the customer")
	}

	// "Posting messages to the chat client", as the reference writes it.
	eval[bool](t, tab, `window.postMessage({
  apiType: "ChatToolbox",
  apiVersion: "2.2.0",
  methodName: "SendMessage",
  arguments: {
    message: "Message to Send",
    hideLocal: true
  }
}, window.location.origin), true`)
	alice.message("Message to Send")
	eval[bool](t, tab, `window.postMessage({apiType: "ChatToolbox", apiVersion: "2.2.0", methodName: "SendMessage", arguments: {message: "Shown to both"}}, window.location.origin), true`)
	alice.message("Shown to both")
	wWaitJS(t, app, "the visible posted message", `document.querySelector("#log").textContent.includes("Shown to both")`)
	if eval[bool](t, app, `document.querySelector("#log").textContent.includes("Message to Send")`) {
		t.Error("a hideLocal message is shown to the customer")
	}
	// A page of another origin cannot post: its message is dispatched
	// before its "posted" marker, and the host's own message after that
	// reaches the agent alone.
	s.page("/poster.html", `<!doctype html><script>
parent.postMessage({apiType: "ChatToolbox", apiVersion: "2.2.0", methodName: "SendMessage", arguments: {message: "from a foreign origin"}}, "*");
parent.postMessage("posted", "*");
</script>`)
	eval[bool](t, tab, `window.posted = false; window.addEventListener("message", (e) => { if (e.data === "posted") window.posted = true; });
const f = document.createElement("iframe"); f.src = "`+s.foreign+`/poster.html"; document.body.append(f); true`)
	wWaitJS(t, tab, "the foreign page's post", `window.posted`)
	eval[bool](t, tab, `window.postMessage({apiType: "ChatToolbox", apiVersion: "2.2.0", methodName: "SendMessage", arguments: {message: "After the foreign one"}}, window.location.origin), true`)
	alice.message("After the foreign one")
	if alice.sawEvent(func(e *parley.Event) bool { return strings.Contains(e.Text, "foreign origin") }) {
		t.Error("a message posted from a foreign origin was sent")
	}

	alice.send(chatID, "Yes, burst pipes are covered.")
	wWaitJS(t, app, "the agent's answer", `document.querySelector("#log").textContent.includes("Yes, burst pipes are covered.")`)

	// On a phone the card fills the screen, at Mitel's center positions too.
	act(t, tab, chromedp.EmulateViewport(390, 780))
	wWaitJS(t, tab, "the card filling the phone's screen", `(() => {
  const r = document.querySelector("parley-widget").shadowRoot.querySelector("iframe").getBoundingClientRect();
  return r.left === 0 && r.top === 0 && r.width === 390 && r.height === 780; })()`)
}

// TestMitelToolboxXHTML: the reference's integration example verbatim,
// with its self-closing script tag, works in an XHTML page, where that
// tag is well-formed.
func TestMitelToolboxXHTML(t *testing.T) {
	s := newStack(t)
	s.page("/contact.xhtml", `<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
  <title>Contoso Insurance</title>
  <script src="PARLEY/CustomerChat/Chat/Toolbox" />
</head>
<body>
  <h1>Contact us</h1>
  <script>
    Mitel.ChatToolbox.customizePage = function() {
      Mitel.ChatToolbox.Config.ServiceGroupID = 1;
      Mitel.ChatToolbox.Config.ToolboxPosition = "top-right";
    }
  </script>
</body>
</html>`)
	s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/contact.xhtml"))
	wWaitJS(t, tab, "the toolbox's launcher with the group's status", `!!`+mitelLauncher+` && !`+mitelLauncher+`.querySelector("i").hidden`)
	if got := eval[string](t, tab, mitelLauncher+`.className`); got != "l top right" {
		t.Errorf("launcher class %q, want ToolboxPosition top-right", got)
	}
	eval[bool](t, tab, mitelLauncher+`.click(), true`)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"))
}

// TestMitelSamplePage: Parley serves the stock client's sample page at
// /CustomerChat/Chat (in any case, as IIS does); its toolbox opens a chat
// that the agent receives, with the private data its customizeRequest sets.
func TestMitelSamplePage(t *testing.T) {
	s := newStack(t)
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.parley+"/customerchat/chat"))
	wWaitJS(t, tab, "the toolbox's launcher", `!!`+mitelLauncher)
	watchCSP(t, tab)
	if got := eval[string](t, tab, mitelLauncher+`.className`); got != "l bottom right" {
		t.Errorf("launcher class %q, want the sample's ToolboxPosition bottom-right", got)
	}
	eval[bool](t, tab, mitelLauncher+`.click(), true`)
	// The sample is on Parley's origin, so the card's frame is too.
	const doc = `document.querySelector("parley-widget").shadowRoot.querySelector("iframe")?.contentDocument`
	wWaitJS(t, tab, "the pre-chat form", `!!`+doc+`?.querySelector("#start:not([hidden])")`)
	eval[bool](t, tab, `(() => { const d = `+doc+`;
  d.querySelector("#name").value = "Vera"; d.querySelector("#question").value = "Hello from the sample page";
  d.querySelector("#start-button").click(); return true; })()`)
	chatID := alice.message("Hello from the sample page")
	if _, v := chatVisitor(t, s, chatID); v.PrivateData != "Page: CustomerChat sample page" {
		t.Errorf("private data %q: the sample's customizeRequest did not run", v.PrivateData)
	}
	noViolations(t, tab, "the sample page")
}

// TestEstosPage: a page written for estos LiveChat, with only the script
// source changed: <estos-widget group="g_1" configurl="./config.json">
// takes the colors of estos' config.json and opens a chat in group 1, and
// <estos-directchat groups='["g_2","g_1"]'> goes to the first open group
// of its list.
func TestEstosPage(t *testing.T) {
	s := newStack(t)
	s.page("/config.json", estosConfig)
	s.page("/", estosPage)
	alice := s.agent("alice") // Support (1) is open, Sales (2) is not
	b, _ := browsertest.New(t)
	seen := map[target.ID]bool{}
	tab := anotherTab(b, seen)
	act(t, tab, chromedp.Navigate(s.host+"/"))
	const w = `document.querySelector("estos-widget")?.shadowRoot?.querySelector("button")`
	const d = `document.querySelector("estos-directchat")?.shadowRoot?.querySelector("button")`
	wWaitJS(t, tab, "the widget and the direct chat button", `!!`+w+` && !!`+d)
	got := eval[[]string](t, tab, `[`+w+`.className, getComputedStyle(`+w+`).backgroundColor, getComputedStyle(`+w+`).color, `+d+`.className, getComputedStyle(`+d+`).backgroundColor]`)
	if want := []string{"l bottom right", "rgb(0, 188, 212)", "rgb(255, 255, 255)", "l d", "rgb(0, 188, 212)"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("launcher and direct chat button %q, want %q", got, want)
	}

	eval[bool](t, tab, w+`.click(), true`)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"))
	colors := eval[[]string](t, app, `[getComputedStyle(document.querySelector("#head")).backgroundColor,
  getComputedStyle(document.querySelector("#chat-title")).color,
  getComputedStyle(document.querySelector("#chat-status")).color,
  getComputedStyle(document.querySelector("#start-button")).backgroundColor]`)
	if want := []string{"rgb(0, 188, 212)", "rgb(255, 255, 255)", "rgb(234, 234, 234)", "rgb(0, 96, 100)"}; strings.Join(colors, "|") != strings.Join(want, "|") {
		t.Errorf("header background, title, status line, button %q; want estos' headerBackground, headerFontActive, headerFontInactive, highlight %q", colors, want)
	}
	act(t, app, chromedp.SendKeys("#name", "Vera"), chromedp.SendKeys("#question", "Does the battery fit in the garage?"), chromedp.Click("#start-button"))
	chatID := alice.message("Does the battery fit in the garage?")
	if c, _ := chatVisitor(t, s, chatID); c.GroupID != 1 {
		t.Errorf("group=\"g_1\": the chat is in group %d", c.GroupID)
	}

	// Another visitor uses the direct chat: Sales is closed, so Support.
	tab2 := anotherTab(b, seen)
	act(t, tab2, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, tab2, "the direct chat button", `!!`+d)
	eval[bool](t, tab2, d+`.click(), true`)
	app2 := frameCtx(t, tab2, s.parley)
	act(t, app2, chromedp.WaitVisible("#start"), chromedp.SendKeys("#name", "Olaf"), chromedp.SendKeys("#question", "Direct question"), chromedp.Click("#start-button"))
	chatID2 := alice.message("Direct question")
	if c, _ := chatVisitor(t, s, chatID2); c.GroupID != 1 {
		t.Errorf(`groups='["g_2", "g_1"]': the chat is in group %d, want 1 (2 is closed)`, c.GroupID)
	}
}

// TestDemoHome: the demo home page is a host page with the real widget.
// A visitor starts a chat there; the agent signs in through the old demo
// agent address, which leads to the console, goes ready, sees the chat
// with its Transfer button and answers.
func TestDemoHome(t *testing.T) {
	s := newStackOpts(t, conversation.Config{}, true)
	b, _ := browsertest.New(t)
	console := b.Tab()
	act(t, console,
		chromedp.Navigate(s.parley+"/demo/agent"),
		chromedp.WaitVisible("#login-name"),
		chromedp.SendKeys("#login-name", "alice"),
		chromedp.SendKeys("#login-password", agentPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#status-button"),
	)
	if u := eval[string](t, console, `location.pathname`); u != "/agent/" {
		t.Errorf("/demo/agent led to %s, want the console /agent/", u)
	}
	// Demo agents are seeded ready; the console shows "Go ready" otherwise.
	eval[bool](t, console, `document.querySelector("#go-ready")?.click(), true`)
	wWaitJS(t, console, "status ready", `document.querySelector("#status-label").textContent === "Ready"`)
	act(t, console, chromedp.Click("#status-button"))
	menu := eval[string](t, console, `document.querySelector("[role=menu]")?.textContent || ""`)
	for _, want := range []string{"Ready", "Away"} {
		if !strings.Contains(menu, want) {
			t.Errorf("the status menu %q lacks %q", menu, want)
		}
	}
	act(t, console, chromedp.Click("#status-button"))

	tab := b.Tab()
	act(t, tab, chromedp.Navigate(s.parley+"/"))
	watchCSP(t, tab)
	for _, sel := range []string{`parley-widget`, `parley-directchat[group="1"]`, `parley-directchat[group="2"]`} {
		wWaitJS(t, tab, sel, `!!document.querySelector(`+strconvQuote(sel)+`)?.shadowRoot?.querySelector("button")`)
	}
	labels := eval[[]string](t, tab, `[...document.querySelectorAll("parley-widget, parley-directchat")].map((e) => e.shadowRoot.querySelector("button").textContent)`)
	if want := []string{"Chat with Support", "Chat with Sales", "Chat with us"}; strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("the page's chat buttons %q, want %q", labels, want)
	}
	// The direct chat buttons sit in the page's flow; the launcher floats.
	places := eval[[]string](t, tab, `[...document.querySelectorAll("parley-widget, parley-directchat")].map((e) => getComputedStyle(e.shadowRoot.querySelector("button")).position)`)
	if want := "static|static|fixed"; strings.Join(places, "|") != want {
		t.Errorf("the chat buttons' positions %q, want %s", places, want)
	}
	eval[bool](t, tab, clickLauncher)
	const doc = `document.querySelector("parley-widget").shadowRoot.querySelector("iframe")?.contentDocument`
	wWaitJS(t, tab, "the pre-chat form", `!!`+doc+`?.querySelector("#start:not([hidden])")`)
	eval[bool](t, tab, `(() => { const d = `+doc+`;
  d.querySelector("#name").value = "Vera"; d.querySelector("#question").value = "Do you ship to Austria?";
  d.querySelector("#start-button").click(); return true; })()`)
	col := `document.querySelector(".column")`
	wWaitJS(t, console, "the chat in the console", `!!`+col+` && `+col+`.textContent.includes("Do you ship to Austria?")`)
	if !eval[bool](t, console, `!!`+col+`.querySelector("button.transfer")`) {
		t.Error("the chat column has no Transfer button")
	}
	chatID := eval[string](t, console, col+`.dataset.chat`)
	s.call("POST", "/api/v1/chats/"+chatID+"/messages", loginToken(t, s, "alice"), map[string]string{"text": "Yes, in 3 to 5 days."}, nil)
	wWaitJS(t, tab, "the answer in the widget", doc+`.querySelector("#log").textContent.includes("Yes, in 3 to 5 days.")`)
	noViolations(t, tab, "the demo page")
}

// loginToken signs an agent in through the API.
func loginToken(t *testing.T, s *stack, login string) string {
	t.Helper()
	var res struct {
		Token string `json:"token"`
	}
	s.call("POST", "/api/v1/auth/login", "", map[string]any{"login": login, "password": agentPassword}, &res)
	return res.Token
}

// TestDropinScreenshots writes the pictures of docs/widget.md's drop-in
// section (PARLEY_SCREENSHOTS=$PWD/docs/img go test -run
// TestDropinScreenshots ./web/): the Mitel and estos pages at desktop and
// phone width, and the demo home page.
func TestDropinScreenshots(t *testing.T) {
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		t.Skip("set PARLEY_SCREENSHOTS to a directory to write the screenshots")
	}
	s := newStackOpts(t, conversation.Config{}, true)
	s.page("/claims", mitelPage)
	s.page("/config.json", estosConfig)
	s.page("/", estosPage)
	s.agent("alice")
	b, _ := browsertest.New(t)
	seen := map[target.ID]bool{}
	for _, c := range []struct {
		name, url, launcher string
		open                bool
		width, height       int64
	}{
		{"dropin-mitel.png", s.host + "/claims", mitelLauncher, true, 1280, 760},
		{"dropin-mitel-phone.png", s.host + "/claims", mitelLauncher, true, 390, 780},
		{"dropin-estos.png", s.host + "/", `document.querySelector("estos-widget")?.shadowRoot?.querySelector("button")`, true, 1280, 760},
		{"dropin-estos-phone.png", s.host + "/", `document.querySelector("estos-widget")?.shadowRoot?.querySelector("button")`, false, 390, 780},
		{"customerchat-sample.png", s.parley + "/CustomerChat/Chat", mitelLauncher, false, 1280, 760},
		{"demo-home.png", s.parley + "/", `document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`, false, 1280, 860},
		{"demo-home-phone.png", s.parley + "/", `document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`, false, 390, 780},
	} {
		tab := anotherTab(b, seen)
		act(t, tab, chromedp.EmulateViewport(c.width, c.height), chromedp.Navigate(c.url))
		wWaitJS(t, tab, "the launcher", `!!`+c.launcher)
		if c.open {
			eval[bool](t, tab, c.launcher+`.click(), true`)
			app := frameCtx(t, tab, s.parley)
			act(t, app, chromedp.WaitVisible("#start"))
		}
		// The viewport, as a visitor sees it: the launcher is fixed to it.
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", c.name)
	}
}
