package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
)

// portalFrame is the widget's frame in the contact portal (same origin
// as the portal, so its window is reachable from the page).
const portalFrame = `document.querySelector("parley-widget")?.shadowRoot?.querySelector("iframe")`

// TestBrowserPortalCall: a visitor presses "Video" on the contact portal
// for Bob; the widget opens to a chat with Bob that asks for a video
// call; Bob accepts the chat in the console, the widget rings him, he
// accepts the call; media flows both ways relay-only through the built-in
// TURN server; the visitor's hang-up ends both sides; the log and the
// transcript show the call with its length.
func TestBrowserPortalCall(t *testing.T) {
	s := callStack(t)
	shots := os.Getenv("PARLEY_SHOTS") != "" || os.Getenv("PARLEY_CALL_SHOTS") != ""

	// Bob signs in to the console: his group (Sales) offers chats, he
	// accepts them himself.
	_, agent := browsertest.New(t, browsertest.FakeMedia...)
	do(t, agent, "sign in",
		chromedp.Navigate(s.parley+"/agent/"),
		chromedp.WaitVisible(chromedp.CSS("#login-name")),
		chromedp.SendKeys(chromedp.CSS("#login-name"), "bob"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), agentPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#status-button")),
	)
	waitJS(t, agent, "the live connection", `document.querySelector(".conn-online") !== null`)
	if evalJS[bool](t, agent, `!!document.querySelector("#go-ready")`) {
		goReady(t, agent)
	}
	evalJS[bool](t, agent, rtcProbe)

	// The portal lists Alice (away) and Bob (available), each with Chat,
	// Audio and Video.
	_, vtab := browsertest.New(t, browsertest.FakeMedia...)
	act(t, vtab, chromedp.Navigate(s.parley+"/contact?groups=1,2"))
	wWaitJS(t, vtab, "Bob available", `[...document.querySelectorAll("#agents .agent.on h2")].some((h) => h.textContent === "Bob")`)
	buttons := eval[[]string](t, vtab, `[...document.querySelectorAll("#agents .agent")].map((li) => li.querySelector("h2").textContent + ":" + [...li.querySelectorAll(".contact-actions button")].map((b) => b.textContent + (b.disabled ? "(off)" : "")).join(","))`)
	if want := "Alice:Chat(off),Audio(off),Video(off) Bob:Chat,Audio,Video"; strings.Join(buttons, " ") != want {
		t.Errorf("the portal offers %q, want %q", buttons, want)
	}
	if got := eval[string](t, vtab, `document.querySelector("#agents .agent.on .contact-video").getAttribute("aria-label")`); got != "Video call with Bob" {
		t.Errorf("the video button's label is %q", got)
	}
	if shots {
		portalShots(t, s, vtab)
	}

	// "Video" for Bob opens the widget to a chat asking for a video call.
	eval[bool](t, vtab, `document.querySelector("#agents .agent.on .contact-video").click(), true`)
	doc := portalFrame + `?.contentDocument`
	wWaitJS(t, vtab, "the chat form with the call request", `!!`+doc+`?.querySelector("#start:not([hidden]) #call-request:not([hidden])")`)
	if got := eval[string](t, vtab, doc+`.querySelector("#call-request").textContent`); !strings.Contains(got, "video call starts as soon as the chat is accepted") {
		t.Errorf("the form says %q", got)
	}
	if shots {
		shootView(t, vtab, "contact-portal-call-form.png")
		act(t, vtab, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		wWaitJS(t, vtab, "the widget full screen at phone width", `innerWidth <= 400 && `+portalFrame+`.getBoundingClientRect().width >= innerWidth - 1`)
		shootView(t, vtab, "contact-portal-call-form-phone.png")
		act(t, vtab, chromedp.EmulateViewport(1280, 800))
	}
	// The probe goes into the widget's frame; the page reaches it.
	eval[bool](t, vtab, rtcProbeOf(portalFrame+".contentWindow"))
	eval[bool](t, vtab, `(() => { const d = `+doc+`;
  d.querySelector("#name").value = "Vera"; d.querySelector("#question").value = "Can we talk about the tent on video?";
  d.querySelector("#start-button").click(); return true; })()`)

	// Bob accepts the chat; the visitor's details say what she asked for.
	do(t, agent, "accept the chat", chromedp.WaitVisible(chromedp.CSS(".offer .accept")), chromedp.Click(chromedp.CSS(".offer .accept")))
	waitJS(t, agent, "the call request in the details", `document.querySelector("#det-call dd")?.textContent === "a video call"`)
	if shots {
		shootView(t, agent, "call-console-request.png")
	}

	// The widget rings Bob at once; he accepts the call.
	waitJS(t, agent, "the ringing prompt", `document.querySelector(".column .call-view")?.dataset.state === "ringing"`)
	if got := evalJS[string](t, agent, `document.querySelector(".call-view .call-status").textContent`); !strings.Contains(got, "Vera is calling you (video)") {
		t.Errorf("Bob's prompt says %q", got)
	}
	do(t, agent, "accept the call", chromedp.Click(chromedp.CSS(".call-view .call-accept")))
	wWaitJS(t, vtab, "the visitor's call live", doc+`.querySelector(".call-view")?.dataset.state === "live"`)
	waitJS(t, agent, "Bob's call live", `document.querySelector(".call-view")?.dataset.state === "live"`)

	for _, side := range []struct {
		name string
		ctx  context.Context
	}{{"visitor", vtab}, {"agent", agent}} {
		base := pollStats(t, side.ctx, side.name+": inbound audio and video", func(_, now rtcStats) bool {
			return now.InAudio > 0 && now.InVideo > 0
		})
		st := pollStats(t, side.ctx, side.name+": inbound audio and video growing", func(_, now rtcStats) bool {
			return now.InAudio > base.InAudio && now.InVideo > base.InVideo
		})
		if !st.Relay || st.Servers == 0 {
			t.Errorf("%s: the selected pair is not relayed through TURN: %+v", side.name, st)
		}
		t.Logf("%s: %+v", side.name, st)
	}
	if evalJS[bool](t, vtab, doc+`.defaultView.sessionStorage.getItem("parley.widget").includes('"call":"video"')`) {
		t.Error("the call request is still pending after the call started")
	}

	// A supervisor sees the call in the live overview.
	chatID := evalJS[string](t, agent, `document.querySelector(".column").dataset.chat`)
	sup := supervisorOverview(t, s, vtab)
	pill := fmt.Sprintf(`document.querySelector('#active-chats tr[data-chat=%q] .pill-call')`, chatID)
	waitJS(t, sup, "the call in the overview", pill+`?.dataset.media === "video" && /^Video · \d+:\d\d$/.test(`+pill+`.textContent)`)
	if shots {
		shoot(t, sup, "supervisor-calls.png")
		act(t, sup, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		waitJS(t, sup, "phone width", `innerWidth <= 400`)
		evalJS[bool](t, sup, `document.querySelector("#active-chats").scrollIntoView({ block: "center" }), true`)
		shootView(t, sup, "supervisor-calls-phone.png")
		act(t, sup, chromedp.EmulateViewport(1280, 800))
	}

	// The visitor hangs up: both sides end.
	eval[bool](t, vtab, doc+`.querySelector(".call-view .call-hangup").click(), true`)
	wWaitJS(t, vtab, "the visitor's call over", `!`+doc+`.querySelector(".call-view") && window.__pcs.at(-1).signalingState === "closed"`)
	waitJS(t, agent, "Bob's call over", `!document.querySelector(".call-view") && window.__pcs.at(-1).signalingState === "closed"`)

	waitJS(t, sup, "the call gone from the overview", `!`+pill+` && !!document.querySelector('#active-chats tr[data-chat=`+strconv.Quote(chatID)+`]')`)

	// The chat is Bob's, and its log and transcript show the call.
	wWaitJS(t, vtab, "the call in the visitor's log", `/Video call, (\d+ min )?\d+ s/.test(`+doc+`.querySelector("#log").textContent)`)
	waitJS(t, agent, "the call in Bob's log", `/Video call, (\d+ min )?\d+ s/.test(document.querySelector(".column .log").textContent)`)
	bob := mustAgent(t, s, "bob")
	c, err := s.store.Chat(context.Background(), chatID)
	if err != nil {
		t.Fatal(err)
	}
	if c.AgentID != bob.ID {
		t.Errorf("the chat is agent %d's, want Bob (%d)", c.AgentID, bob.ID)
	}
	text, err := s.svc.Transcript(context.Background(), conversation.Actor{Kind: parley.PartyAgent, TenantID: parley.DefaultTenantID, Agent: bob}, chatID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Vera: Video call, (\d+ min )?\d+ s`).MatchString(text) {
		t.Errorf("transcript:\n%s\nwant the call by its length, hung up by Vera", text)
	}
	noViolations(t, agent, "console")
}

// shootView saves what the viewport shows into docs/img.
func shootView(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// supervisorOverview signs a supervisor in to the console in another tab
// of tab's browser and opens the live overview.
func supervisorOverview(t *testing.T, s *stack, tab context.Context) context.Context {
	t.Helper()
	sam := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "sam", DisplayName: "Sam Super", Role: parley.RoleSupervisor,
		Capacity: 3, Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{}}
	if err := s.svc.Seed(context.Background(), nil, []*parley.Agent{sam}, agentPassword); err != nil {
		t.Fatal(err)
	}
	sup := newTabIn(t, tab)
	do(t, sup, "open the console", chromedp.Navigate(s.parley+"/agent/"), chromedp.WaitVisible(chromedp.CSS("#login-name")))
	do(t, sup, "sign in the supervisor",
		chromedp.SendKeys(chromedp.CSS("#login-name"), "sam"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), agentPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	if _, err := chromedp.Run(sup, chromedp.Poll[chromedp.Void](`!!document.querySelector("#nav-supervisor")`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the supervisor's console: %v; the page says: %s", err, evalJS[string](t, sup, `document.body.innerText.slice(0, 600)`))
	}
	do(t, sup, "open the supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")), chromedp.WaitVisible(chromedp.CSS("#kpis")))
	return sup
}

// portalShots saves the contact portal and Bob's business card with their
// Chat, Audio and Video buttons, at desktop and phone width.
func portalShots(t *testing.T, s *stack, tab context.Context) {
	t.Helper()
	card := newTabIn(t, tab)
	act(t, card, chromedp.Navigate(fmt.Sprintf("%s/card/%d", s.parley, s.publicAgentID("Bob"))))
	wWaitJS(t, card, "Bob's card", `!!document.querySelector(".agent.on .contact-video")`)
	for _, c := range []struct {
		ctx  context.Context
		name string
	}{{tab, "contact-portal-calls"}, {card, "business-card-calls"}} {
		act(t, c.ctx, chromedp.EmulateViewport(1280, 760))
		shoot(t, c.ctx, c.name+".png")
		act(t, c.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		wWaitJS(t, c.ctx, "phone width", `innerWidth <= 400`)
		shoot(t, c.ctx, c.name+"-phone.png")
		act(t, c.ctx, chromedp.EmulateViewport(1280, 800))
	}
}
