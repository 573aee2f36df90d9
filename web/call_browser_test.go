package web_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/turnserver"
)

// rtcProbe wraps RTCPeerConnection in a page: every connection is kept
// for getStats() and forced to relay through TURN, as a visitor and an
// agent behind strict NATs would be.
var rtcProbe = rtcProbeOf("window")

// rtcProbeOf is rtcProbe for the window win names (a same-origin frame's,
// whose own policy forbids eval): its connections and getStats() are
// reached from the page as window.__pcs and window.__stats().
func rtcProbeOf(win string) string {
	return `(() => {
  const W = ` + win + `;
  if (W.__pcs) return true;
  const pcs = (W.__pcs = []);
  if (W !== window) Object.defineProperty(window, "__pcs", { get: () => pcs, configurable: true });
  const Orig = W.RTCPeerConnection;
  W.RTCPeerConnection = function (cfg) {
    const pc = new Orig({ ...(cfg || {}), iceTransportPolicy: "relay" });
    pcs.push(pc);
    return pc;
  };
  W.RTCPeerConnection.prototype = Orig.prototype;
  window.__stats = async () => {
    const pc = pcs[pcs.length - 1];
    const out = { inAudio: 0, inVideo: 0, outAudio: 0, relay: false, servers: 0 };
    if (!pc) return out;
    out.servers = (pc.getConfiguration().iceServers || []).length;
    const r = await pc.getStats();
    const byId = new Map();
    r.forEach((x) => byId.set(x.id, x));
    r.forEach((x) => {
      if (x.type === "inbound-rtp") out[x.kind === "audio" ? "inAudio" : "inVideo"] += x.bytesReceived || 0;
      if (x.type === "outbound-rtp" && x.kind === "audio") out.outAudio += x.bytesSent || 0;
      if (x.type === "transport" && x.selectedCandidatePairId) {
        const p = byId.get(x.selectedCandidatePairId);
        const l = p && byId.get(p.localCandidateId);
        out.relay = !!l && l.candidateType === "relay";
      }
    });
    return out;
  };
  return true;
})()`
}

type rtcStats struct {
	InAudio  float64 `json:"inAudio"`
	InVideo  float64 `json:"inVideo"`
	OutAudio float64 `json:"outAudio"`
	Relay    bool    `json:"relay"`
	Servers  int     `json:"servers"`
}

func stats(t *testing.T, ctx context.Context) rtcStats {
	t.Helper()
	return evalJS[rtcStats](t, ctx, `window.__stats()`, chromedp.EvalAwaitPromise)
}

// pollStats samples getStats() until ok holds for the samples so far (the
// first and the latest), failing after a deadline.
func pollStats(t *testing.T, ctx context.Context, what string, ok func(first, now rtcStats) bool) rtcStats {
	t.Helper()
	first := stats(t, ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		now := stats(t, ctx)
		if ok(first, now) {
			return now
		}
		if time.Now().After(deadline) {
			state := evalJS[string](t, ctx, `(async () => { const pc = window.__pcs.at(-1); if (!pc) return "no connection"; const r = await pc.getStats(); const c = []; r.forEach((x) => x.type.includes("candidate") && c.push(x.type + " " + (x.candidateType || x.state || "") + " " + (x.address || "") + ":" + (x.port || ""))); return [pc.connectionState, pc.iceConnectionState, pc.iceGatheringState, pc.signalingState, ...c].join(" | "); })()`, chromedp.EvalAwaitPromise)
			t.Fatalf("%s: first %+v, last %+v; connection: %s", what, first, now, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// callStack is a stack whose calls relay through a built-in TURN server
// on loopback, with audio and video calls on in the widget.
func callStack(t *testing.T) *stack {
	t.Helper()
	var svc atomic.Pointer[conversation.Service]
	const secret = "browser-call-secret"
	turn, err := turnserver.Start(turnserver.Config{
		UDPAddr: "127.0.0.1:0", PublicIP: net.IPv4(127, 0, 0, 1), RelayBind: "127.0.0.1",
		MinPort: 42000, MaxPort: 42999, Secret: secret,
		Authorize: func(user string) bool {
			chatID, rest, _ := strings.Cut(user, ":")
			callID, _, _ := strings.Cut(rest, ":")
			s := svc.Load()
			return s != nil && s.CallLive(context.Background(), chatID, callID)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { turn.Close() })
	turnURL := "turn:" + turn.UDPAddr().String() + "?transport=udp"
	s := newStack(t, conversation.Config{ICE: conversation.ICEConfig{TURN: []string{turnURL}, Secret: secret}})
	svc.Store(s.svc)
	if err := os.MkdirAll(filepath.Join(s.data, "widget"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.data, "widget", "config.json"), []byte(`{"audioCalls": true, "videoCalls": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserCall: a visitor in the widget and an agent in the console,
// two Chromium instances with fake cameras and microphones, talk by
// video through Parley's built-in TURN server with relay-only ICE: media
// flows both ways, muting stops the visitor's audio, hanging up ends the
// call on both sides, and the chat's log and transcript show the call
// with its length.
func TestBrowserCall(t *testing.T) {
	s := callStack(t)
	s.page("/", hostPage(`group="1"`))

	// The agent signs in to the console in one browser, whose screen
	// sharing picks the whole (fake) screen without asking.
	_, agent := browsertest.New(t, append([]chromedp.ExecAllocatorOption{chromedp.Flag("auto-select-desktop-capture-source", "Entire screen")}, browsertest.FakeMedia...)...)
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

	// The visitor opens the widget in another and starts a chat.
	_, vtab := browsertest.New(t, browsertest.FakeMedia...)
	vtab = context.WithValue(vtab, seenFrames{}, map[target.ID]bool{})
	act(t, vtab, chromedp.Navigate(s.host+"/"))
	wWaitJS(t, vtab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, vtab, clickLauncher)
	app := frameCtx(t, vtab, s.parley)
	if eval[bool](t, app, `!document.querySelector("#call-video").hidden`) {
		t.Fatal("the video call button shows before an agent handles the chat")
	}
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Can you show me how to pitch the tent?"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	wWaitJS(t, app, "the agent joined", `document.querySelector("#log").textContent.includes("Alice joined the chat")`)
	wWaitJS(t, app, "the call buttons", `!document.querySelector("#call-video").hidden && !document.querySelector("#call-audio").hidden`)
	if evalJS[bool](t, app, `[...document.scripts].some((s) => s.src.includes("/call."))`) ||
		evalJS[bool](t, app, `performance.getEntriesByType("resource").some((r) => /\/call\.[0-9a-f]+\.js/.test(r.name))`) {
		t.Fatal("the call module loaded before a call started")
	}
	eval[bool](t, app, rtcProbe)

	// The visitor calls; the agent accepts in the console.
	act(t, app, chromedp.Click("#call-video"))
	wWaitJS(t, app, "the visitor's call view", `document.querySelector(".call-view")?.dataset.state === "calling"`)
	waitJS(t, agent, "the ringing prompt", `document.querySelector(".column .call-view")?.dataset.state === "ringing"`)
	if got := evalJS[string](t, agent, `document.querySelector(".call-view .call-status").textContent`); !strings.Contains(got, "Vera is calling you (video)") {
		t.Errorf("the agent's prompt says %q", got)
	}
	shots := os.Getenv("PARLEY_SHOTS") != "" || os.Getenv("PARLEY_CALL_SHOTS") != ""
	if shots {
		shoot(t, agent, "call-console-ringing.png")
	}
	do(t, agent, "accept the call", chromedp.Click(chromedp.CSS(".call-view .call-accept")))
	wWaitJS(t, app, "the visitor's call live", `document.querySelector(".call-view")?.dataset.state === "live"`)
	waitJS(t, agent, "the agent's call live", `document.querySelector(".call-view")?.dataset.state === "live"`)

	// Media flows both ways, through the TURN server's relays only.
	for _, side := range []struct {
		name string
		ctx  context.Context
	}{{"visitor", app}, {"agent", agent}} {
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
	if shots {
		shotCall(t, vtab, app, agent)
	}

	// Muting stops the visitor's outbound audio, and so the agent's inbound.
	act(t, app, chromedp.Click(".call-mute"))
	if got := eval[string](t, app, `document.querySelector(".call-mute").getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("the mute button's aria-pressed is %q", got)
	}
	stillFor := func(ctx context.Context, what string, val func(rtcStats) float64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			a := stats(t, ctx)
			time.Sleep(1500 * time.Millisecond)
			b := stats(t, ctx)
			if val(a) == val(b) && val(a) > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s keeps moving: %v then %v", what, val(a), val(b))
			}
		}
	}
	stillFor(app, "the visitor's outbound audio after mute", func(s rtcStats) float64 { return s.OutAudio })
	stillFor(agent, "the agent's inbound audio after the visitor muted", func(s rtcStats) float64 { return s.InAudio })
	pollStats(t, agent, "the visitor's video while muted", func(first, now rtcStats) bool { return now.InVideo > first.InVideo })
	waitJS(t, agent, "the agent is told", `document.querySelector(".call-view .call-status").textContent.includes("muted")`)
	act(t, app, chromedp.Click(".call-mute"))

	screenShare(t, vtab, app, agent, shots)

	// The agent hangs up: both sides end.
	do(t, agent, "hang up", chromedp.Click(chromedp.CSS(".call-view .call-hangup")))
	waitJS(t, agent, "the agent's call over", `!document.querySelector(".call-view") && window.__pcs.at(-1).signalingState === "closed"`)
	wWaitJS(t, app, "the visitor's call over", `!document.querySelector(".call-view") && window.__pcs.at(-1).signalingState === "closed"`)

	// The log and the transcript show the call with its length.
	summary := regexp.MustCompile(`Video call, (\d+ min )?\d+ s`)
	wWaitJS(t, app, "the call in the visitor's log", `/Video call, (\d+ min )?\d+ s/.test(document.querySelector("#log").textContent)`)
	waitJS(t, agent, "the call in the agent's log", `/Video call, (\d+ min )?\d+ s/.test(document.querySelector(".column .log").textContent)`)
	chatID := evalJS[string](t, agent, `document.querySelector(".column").dataset.chat`)
	text, err := s.svc.Transcript(context.Background(), conversation.Actor{Kind: parley.PartyAgent, TenantID: parley.DefaultTenantID, Agent: mustAgent(t, s, "alice")}, chatID)
	if err != nil {
		t.Fatal(err)
	}
	if !summary.MatchString(text) || !strings.Contains(text, "Alice: Video call, ") {
		t.Errorf("transcript:\n%s\nwant the call by its length, hung up by Alice", text)
	}
	noViolations(t, agent, "console")
}

// screenShare: the agent shares the screen in the call and stops again.
// The screen's track replaces the camera's on the same sender; the
// visitor is told and keeps receiving video throughout.
func screenShare(t *testing.T, vtab, app, agent context.Context, shots bool) {
	t.Helper()
	const sent = `(() => { const s = window.__pcs.at(-1).getSenders().find((s) => s.track && s.track.kind === "video"); return s ? s.track.label : ""; })()`
	const frame = `(async () => { let w = 0, h = 0, n = 0; (await window.__pcs.at(-1).getStats()).forEach((x) => { if (x.type === "inbound-rtp" && x.kind === "video") { w = x.frameWidth || 0; h = x.frameHeight || 0; n = x.framesDecoded || 0; } }); return [w, h, n]; })()`
	camera := evalJS[string](t, agent, sent)
	if camera == "" || strings.HasPrefix(camera, "screen") {
		t.Fatalf("the agent sends %q before sharing; want the camera", camera)
	}
	before := evalJS[[]float64](t, app, frame, chromedp.EvalAwaitPromise)
	do(t, agent, "share the screen", chromedp.Click(chromedp.CSS(".call-view .call-share")))
	waitJS(t, agent, "the screen on the sender", sent+`.startsWith("screen")`)
	waitJS(t, agent, "the share button pressed", `document.querySelector(".call-share").getAttribute("aria-pressed") === "true" && document.querySelector(".call-view").dataset.screen === "local"`)
	wWaitJS(t, app, "the visitor told", `document.querySelector(".call-view").dataset.screen === "remote" && document.querySelector(".call-status").textContent === "Alice is sharing the screen"`)
	if eval[bool](t, app, `!!document.querySelector(".call-share")`) {
		t.Error("the widget offers the visitor screen sharing")
	}
	pollStats(t, app, "the visitor's video while the agent shares", func(first, now rtcStats) bool { return now.InVideo > first.InVideo })
	during := evalJS[[]float64](t, app, frame, chromedp.EvalAwaitPromise)
	t.Logf("the visitor's inbound video: %vx%v (%v frames) from the camera, %vx%v (%v frames) while sharing", before[0], before[1], before[2], during[0], during[1], during[2])
	if during[2] <= before[2] {
		t.Errorf("the visitor decoded no frames while the agent shared: %v then %v", before, during)
	}
	if shots {
		waitJS(t, agent, "the preview playing", `document.querySelector(".call-local").readyState >= 2`)
		shoot(t, agent, "call-console-share.png")
		shoot(t, vtab, "call-widget-share.png")
	}
	do(t, agent, "stop sharing", chromedp.Click(chromedp.CSS(".call-view .call-share")))
	waitJS(t, agent, "the camera back on the sender", sent+` === `+strconv.Quote(camera))
	wWaitJS(t, app, "the visitor told it stopped", `document.querySelector(".call-view").dataset.screen === "" && document.querySelector(".call-status").textContent === "Alice"`)
	pollStats(t, app, "the visitor's video after sharing", func(first, now rtcStats) bool { return now.InVideo > first.InVideo })
}

// shotCall saves the call view of the widget and the console, at desktop
// and phone width, into docs/img.
func shotCall(t *testing.T, vtab, app, agent context.Context) {
	t.Helper()
	shootTo := func(ctx context.Context, name string) {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	settle := func(ctx context.Context) {
		// Let the videos paint a few frames of the fake camera.
		waitJS(t, ctx, "videos playing", `[...document.querySelectorAll(".call-view video")].every((v) => v.readyState >= 2)`)
	}
	settle(agent)
	shootTo(vtab, "call-widget-desktop.png")
	shootTo(agent, "call-console-desktop.png")
	for _, ctx := range []context.Context{vtab, agent} {
		act(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	}
	waitJS(t, vtab, "the widget full screen at phone width", `(() => { const f = document.querySelector("parley-widget").shadowRoot.querySelector("iframe"); return innerWidth <= 400 && f.getBoundingClientRect().width >= innerWidth - 1; })()`)
	waitJS(t, app, "the call view at phone width", `document.querySelector(".call-view").getBoundingClientRect().width >= 380`)
	shootTo(vtab, "call-widget-phone.png")
	shootTo(agent, "call-console-phone.png")
	for _, ctx := range []context.Context{vtab, agent} {
		act(t, ctx, chromedp.EmulateViewport(1280, 800))
	}
}

func mustAgent(t *testing.T, s *stack, login string) *parley.Agent {
	t.Helper()
	a, err := s.store.AgentByLogin(context.Background(), parley.DefaultTenantID, login)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
