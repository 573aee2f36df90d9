package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
)

// TestBrowserCallNavigation: a video call goes on when the visitor moves
// to another page of the site. The widget on the new page finds the call
// open in the chat's log, takes the camera again and offers a new
// connection; the console answers on a new connection of its own; media
// flows again both ways, the timer goes on, and the transcript shows one
// call.
func TestBrowserCallNavigation(t *testing.T) {
	s := callStack(t)
	s.page("/", hostPage(`group="1"`))
	s.page("/other", hostPage(`group="1"`))

	_, agent := browsertest.New(t, browsertest.FakeMedia...)
	do(t, agent, "sign in",
		chromedp.Navigate(s.parley+"/agent/"),
		chromedp.WaitVisible(chromedp.CSS("#login-name")),
		chromedp.SendKeys(chromedp.CSS("#login-name"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), agentPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#status-button")),
	)
	waitJS(t, agent, "the live connection", `document.querySelector(".conn-online") !== null`)
	if evalJS[bool](t, agent, `!!document.querySelector("#go-ready")`) {
		goReady(t, agent)
	}
	evalJS[bool](t, agent, rtcProbe)

	_, vtab := browsertest.New(t, browsertest.FakeMedia...)
	vtab = context.WithValue(vtab, seenFrames{}, map[target.ID]bool{})
	act(t, vtab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, vtab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, vtab, clickLauncher)
	app := frameCtx(t, vtab, s.parley)
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Show me the tent on video, please."),
		chromedp.Click("#start-button"),
	)
	wWaitJS(t, app, "the call buttons", `!document.querySelector("#call-video").hidden`)
	act(t, app, chromedp.Click("#call-video"))
	waitJS(t, agent, "the ringing prompt", `document.querySelector(".column .call-view")?.dataset.state === "ringing"`)
	do(t, agent, "accept the call", chromedp.Click(chromedp.CSS(".call-view .call-accept")))
	wWaitJS(t, app, "the visitor's call live", `document.querySelector(".call-view")?.dataset.state === "live"`)
	pollStats(t, agent, "the agent's inbound media", func(_, now rtcStats) bool { return now.InAudio > 0 && now.InVideo > 0 })
	if n := evalJS[int](t, agent, `window.__pcs.length`); n != 1 {
		t.Fatalf("the agent has %d connections before the navigation", n)
	}

	// The visitor moves to another page of the site.
	act(t, vtab, chromedp.Navigate(s.host+"/other"))
	app = frameCtx(t, vtab, s.parley)
	wWaitJS(t, app, "the call view back, live", `document.querySelector(".call-view")?.dataset.state === "live" && /^\d+:\d\d$/.test(document.querySelector(".call-timer").textContent)`)
	waitJS(t, agent, "the agent's new connection", `window.__pcs.length === 2 && window.__pcs[1].connectionState === "connected" && window.__pcs[0].signalingState === "closed"`)
	base := pollStats(t, agent, "the agent's inbound media on the new connection", func(_, now rtcStats) bool { return now.InAudio > 0 && now.InVideo > 0 })
	pollStats(t, agent, "the agent's inbound media growing", func(_, now rtcStats) bool {
		return now.InAudio > base.InAudio && now.InVideo > base.InVideo
	})
	const playing = `(() => { const v = document.querySelector(".call-remote"); return !!v && v.readyState >= 2 && !v.paused ? v.currentTime : -1; })()`
	wWaitJS(t, app, "the agent's video playing in the widget", playing+` > 0`)
	eval[bool](t, app, `(window.__t0 = `+playing+`), true`)
	wWaitJS(t, app, "the agent's video moving on", playing+` > window.__t0`)
	waitJS(t, agent, "the agent's view live", `document.querySelector(".call-view")?.dataset.state === "live" && !document.querySelector(".call-status").textContent.includes("Reconnecting")`)

	// The agent reloads the console: the console picks the call up the
	// same way, and the widget answers on a third connection.
	eval[bool](t, app, rtcProbe)
	do(t, agent, "reload the console", chromedp.Reload())
	waitJS(t, agent, "the console's call view back, live", `document.querySelector(".column .call-view")?.dataset.state === "live"`)
	wWaitJS(t, app, "the widget's new connection", `window.__pcs.length === 1 && window.__pcs[0].connectionState === "connected"`)
	vbase := pollStats(t, app, "the visitor's inbound media after the agent's reload", func(_, now rtcStats) bool { return now.InAudio > 0 && now.InVideo > 0 })
	pollStats(t, app, "the visitor's inbound media growing", func(_, now rtcStats) bool {
		return now.InAudio > vbase.InAudio && now.InVideo > vbase.InVideo
	})

	// One call from start to end.
	do(t, agent, "hang up", chromedp.Click(chromedp.CSS(".call-view .call-hangup")))
	wWaitJS(t, app, "the visitor's call over", `!document.querySelector(".call-view")`)
	chatID := evalJS[string](t, agent, `document.querySelector(".column").dataset.chat`)
	text, err := s.svc.Transcript(context.Background(), conversation.Actor{Kind: parley.PartyAgent, TenantID: parley.DefaultTenantID, Agent: mustAgent(t, s, "alice")}, chatID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`Video call, (\d+ min )?\d+ s`).FindAllString(text, -1)); n != 1 || strings.Contains(text, "canceled") || strings.Contains(text, "Missed") {
		t.Errorf("transcript:\n%s\nwant one video call by its length", text)
	}
}
