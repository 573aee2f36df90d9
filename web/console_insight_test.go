package web_test

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
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/web"
)

// pngBytes is a small PNG image.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		for y := 0; y < 30; y++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 6), G: 120, B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload sends a file as the visitor.
func (v *visitor) upload(name string, data []byte) {
	v.s.t.Helper()
	req, _ := http.NewRequest("POST", v.s.URL+"/api/v1/chats/"+v.chat+"/files?name="+name, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+v.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		v.s.t.Fatalf("upload %s: status %d", name, res.StatusCode)
	}
}

// rate ends the chat as the visitor and rates it.
func (v *visitor) leaveAndRate(score int, comment string) {
	v.s.t.Helper()
	if st := v.s.call("POST", "/api/v1/chats/"+v.chat+"/leave", v.token, nil, nil); st != http.StatusNoContent {
		v.s.t.Fatalf("leave: status %d", st)
	}
	if st := v.s.call("POST", "/api/v1/chats/"+v.chat+"/rating", v.token, map[string]any{"score": score, "comment": comment}, nil); st != http.StatusCreated {
		v.s.t.Fatalf("rate: status %d", st)
	}
}

// The payload of a message that must stay text: a script, an image with
// a handler and a javascript: address next to a real link.
const hostile = `Track it at https://example.com/track?id=4711. Not javascript:window.pwned=1 nor <img src=x onerror="window.pwned=1"> <script>window.pwned=1</script>`

// TestConsoleRichMessagesAndRatings: in the console an address in a
// message is a link and an image attachment a preview, while script and
// javascript: payloads stay inert text; the visitor's rating shows on the
// ended chat, in the archive (which lists the latest chats at once, by
// name or else by FromPriority's email, with highlighted match
// snippets) and its transcript, and as the supervisor's CSAT.
func TestConsoleRichMessagesAndRatings(t *testing.T) {
	s := newConsoleServer(t)
	_, alice := browsertest.New(t)
	signIn(t, alice, s.URL, "agent1")
	goReady(t, alice)

	vera := s.visitor(1, "Vera Lynn", "vera@example.com", hostile)
	offer := fmt.Sprintf(`.offer[data-chat=%q] .accept`, vera.chat)
	waitJS(t, alice, "the offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer)))
	col := fmt.Sprintf(`.column[data-chat=%q]`, vera.chat)
	waitJS(t, alice, "the message", logHas(vera.chat, "Track it at"))
	vera.upload("parcel.png", pngBytes(t))

	rich := func(where, scope string) {
		t.Helper()
		waitJS(t, alice, where+": the link", fmt.Sprintf(`(() => { const a = document.querySelector('%s a[href="https://example.com/track?id=4711"]');
			return !!a && a.textContent === "https://example.com/track?id=4711" && a.target === "_blank" && a.rel.includes("noopener"); })()`, scope))
		waitJS(t, alice, where+": the image preview", fmt.Sprintf(`(() => { const i = document.querySelector('%s img.thumb');
			return !!i && i.complete && i.naturalWidth === 40 && i.src.startsWith("blob:"); })()`, scope))
		if bad := evalJS[string](t, alice, fmt.Sprintf(`[...document.querySelectorAll('%s a')].map((a) => a.getAttribute("href")).filter((h) => !/^(https:|#)/.test(h || "")).join(" ") +
			[...document.querySelectorAll('%s script, %s img:not(.thumb)')].length + String(window.pwned ?? "")`, scope, scope, scope)); bad != "0" {
			t.Errorf("%s: a payload became markup or ran: %q", where, bad)
		}
		if !evalJS[bool](t, alice, fmt.Sprintf(`document.querySelector('%s').textContent.includes('<img src=x onerror="window.pwned=1">')`, scope)) {
			t.Errorf("%s: the markup is not shown as text", where)
		}
	}
	rich("the chat", col+" .log")
	shot(t, alice, "rich.png")

	vera.leaveAndRate(4, "Quick and friendly")
	waitJS(t, alice, "the rating on the ended chat", fmt.Sprintf(`document.querySelector('%s .col-ended .chat-rating .stars')?.getAttribute("aria-label") === "Rated 4 of 5"`, col))
	waitJS(t, alice, "the rating in the details", `document.querySelector('#det-rating .stars')?.getAttribute("aria-label") === "Rated 4 of 5" &&
		document.querySelector('#det-rating').textContent.includes("Quick and friendly")`)

	// A visitor without a name, rated 2: the archive names it by email.
	ken := s.visitor(1, "", "ken@example.com", "Where is my refund?")
	waitJS(t, alice, "Ken's offer", fmt.Sprintf(`document.querySelector('.offer[data-chat=%q] .accept') !== null`, ken.chat))
	do(t, alice, "accept Ken", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.offer[data-chat=%q] .accept`, ken.chat))))
	waitJS(t, alice, "Ken's chat", fmt.Sprintf(`document.querySelector('.column[data-chat=%q] .composer') !== null`, ken.chat))
	ken.leaveAndRate(2, "")

	// The archive lists the latest chats without a search.
	do(t, alice, "open the archive", chromedp.Click(chromedp.CSS("#nav-archive")))
	row := func(id string) string { return fmt.Sprintf(`#archive-results tr[data-chat=%q]`, id) }
	waitJS(t, alice, "the latest chats", fmt.Sprintf(`!!document.querySelector('%s') && !!document.querySelector('%s')`, row(vera.chat), row(ken.chat)))
	if got := evalJS[string](t, alice, fmt.Sprintf(`document.querySelector('%s .arch-name').textContent + "|" + document.querySelector('%s .arch-name').textContent`, row(vera.chat), row(ken.chat))); got != "Vera Lynn|ken@example.com" {
		t.Errorf("archive customers %q, want the name, else the email", got)
	}
	if got := evalJS[string](t, alice, fmt.Sprintf(`document.querySelector('%s .stars').getAttribute("aria-label") + "|" + document.querySelector('%s .stars').getAttribute("aria-label")`, row(vera.chat), row(ken.chat))); got != "Rated 4 of 5|Rated 2 of 5" {
		t.Errorf("archive ratings %q", got)
	}
	// A text search shows where it matched, highlighted, as text.
	do(t, alice, "search the text",
		chromedp.SendKeys(chromedp.CSS(`#archive-form input[name="text"]`), "ONERROR"),
		chromedp.Click(chromedp.CSS("#archive-search")))
	snip := fmt.Sprintf(`#archive-results [data-snippet=%q]`, vera.chat)
	waitJS(t, alice, "the snippet", fmt.Sprintf(`document.querySelector('%s mark')?.textContent === "onerror" && document.querySelectorAll("#archive-results tr[data-chat]").length === 1`, snip))
	shot(t, alice, "archive.png")
	if got := evalJS[string](t, alice, fmt.Sprintf(`document.querySelector('%s').textContent.trim() + "|" + document.querySelectorAll('%s img, %s script').length`, snip, snip, snip)); !strings.Contains(got, `<img src=x onerror="window.pwned=1">`) || !strings.HasSuffix(got, "|0") {
		t.Errorf("snippet %q: the match must show as text", got)
	}

	// The transcript: links, preview, rating.
	do(t, alice, "open the transcript", chromedp.Click(chromedp.CSS(row(vera.chat)+" a")))
	waitJS(t, alice, "the transcript's rating", `document.querySelector("#tr-rating .stars")?.getAttribute("aria-label") === "Rated 4 of 5" &&
		document.querySelector("#tr-rating").textContent.includes("Quick and friendly")`)
	rich("the transcript", ".tr-log")
	shot(t, alice, "transcript.png")

	// The supervisor's CSAT: one of the two ratings is 4 or 5.
	sup := newTabIn(t, alice)
	signIn(t, sup, s.URL, "sup")
	do(t, sup, "the supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")))
	waitJS(t, sup, "CSAT", kpi("kpi-csat", "50%")+` && document.querySelector("#kpi-csat .kpi-sub").textContent.includes("1 of 2") &&
		document.querySelector("#kpi-csat .kpi-chart rect.bar:not(.bar-empty)") !== null`)
	noViolations(t, alice, "Alice")
	noViolations(t, sup, "the supervisor")
}

// TestConsoleVisitorContext: a real widget on a host page in Chromium
// sends the page, its referrer and the browser with the chat, and the
// page again when the visitor moves on; the console shows them.
func TestConsoleVisitorContext(t *testing.T) {
	s := newStack(t)
	s.page("/landing", `<!doctype html><title>Spring sale</title><a id="go" href="/shop?utm=mail">To the shop</a>`)
	s.page("/shop", strings.Replace(hostPage(`group="1"`), "<title>Acme Outdoor</title>", "<title>Tents – Acme Outdoor</title>", 1))
	// Alice works in the console (another browser, so that the host page
	// keeps the focus); Support accepts chats for her.
	_, con := browsertest.New(t)
	act(t, con, chromedp.Navigate(s.parley+"/agent/"), chromedp.WaitVisible("#login-name"),
		chromedp.SendKeys("#login-name", "alice"), chromedp.SendKeys("#login-password", agentPassword),
		chromedp.Click("#login-submit"), chromedp.WaitVisible("#status-button"))
	watchCSP(t, con)
	if evalJS[bool](t, con, `!!document.querySelector("#go-ready")`) {
		goReady(t, con)
	}

	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.host+"/landing"), chromedp.Click("#go"), chromedp.WaitVisible("h1"))
	wWaitJS(t, tab, "the launcher", `location.pathname === "/shop" && !!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)

	eval[bool](t, tab, clickLauncher)
	app := frameCtx(t, tab, s.parley)
	act(t, app, chromedp.WaitVisible("#start"), chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Is the tent waterproof?"), chromedp.Click("#start-button"), chromedp.WaitVisible("#log"))

	waitJS(t, con, "the chat", `document.querySelector(".column .log")?.textContent.includes("Is the tent waterproof?")`)
	waitJS(t, con, "the page", fmt.Sprintf(`(() => { const a = document.querySelector("#det-page a");
		return !!a && a.getAttribute("href") === %q && a.textContent === "Tents – Acme Outdoor"; })()`, s.host+"/shop?utm=mail"))
	lang := eval[string](t, app, `navigator.language`)
	got := evalJS[string](t, con, `["#det-referrer a", "#det-browser dd", "#det-language dd", "#det-local dd"].map((q) => {
		const e = document.querySelector(q); return e ? (e.getAttribute("href") || e.textContent) : "missing"; }).join("|")`)
	parts := strings.Split(got, "|")
	if len(parts) != 4 || parts[0] != s.host+"/landing" || !strings.HasPrefix(parts[1], "Chrome ") || parts[2] != lang ||
		!regexp.MustCompile(`^\d\d?:\d\d( [AP]M)? \(.+\)$`).MatchString(parts[3]) {
		t.Errorf("visitor context %q; want the referrer, Chrome, %s and the local time", got, lang)
	}

	// The visitor moves on within the page: the console follows.
	eval[bool](t, tab, `document.title = "Returns – Acme Outdoor", location.hash = "returns", true`)
	waitJS(t, con, "the new page", fmt.Sprintf(`document.querySelector("#det-page a")?.getAttribute("href") === %q &&
		document.querySelector("#det-page a").textContent === "Returns – Acme Outdoor"`, s.host+"/shop?utm=mail#returns"))
	waitJS(t, con, "the page in the log", `[...document.querySelectorAll(".column .ev-url a")].some((a) => a.textContent === "Returns – Acme Outdoor")`)
	noViolations(t, con, "the console")
}

// noSideScroll is a predicate: the page is no wider than the window.
const noSideScroll = `document.documentElement.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth`

// inView is a predicate: the element is shown within the window's width.
func inViewPartly(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; const r = e.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth && r.top < innerHeight; })()`, sel)
}

// TestConsoleNarrow: at a phone's 390 px the console and the supervisor
// view do not scroll sideways and stay usable: the views are reachable,
// an agent accepts a chat, reads and answers it, and the supervisor
// reads the KPIs and queues.
func TestConsoleNarrow(t *testing.T) {
	s := newConsoleServer(t)
	b, alice := browsertest.New(t)
	do(t, alice, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	signIn(t, alice, s.URL, "agent1")
	waitJS(t, alice, "no side scroll when signed in", noSideScroll)
	goReady(t, alice)
	v := s.visitor(1, "Vera Lynn", "vera.lynn@example.com", "My order https://shop.example/orders/4711-long-order-reference-number-that-does-not-wrap hasn't arrived.")
	offer := fmt.Sprintf(`.offer[data-chat=%q] .accept`, v.chat)
	waitJS(t, alice, "the offer, visible", inViewPartly(offer))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer)))
	col := fmt.Sprintf(`.column[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the chat", logHas(v.chat, "hasn't arrived"))
	do(t, alice, "scroll to the composer", chromedp.ScrollIntoView(chromedp.CSS(col+" .composer-input")))
	waitJS(t, alice, "the composer, visible", inViewPartly(col+" .composer-input"))
	do(t, alice, "answer", chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "Let me check."), enter())
	v.read("the answer", func(e parley.Event) bool { return e.Text == "Let me check." })
	waitJS(t, alice, "no side scroll in the chats", noSideScroll)
	for _, nav := range []string{"#nav-chats", "#nav-archive", "#nav-responses"} {
		waitJS(t, alice, nav+" reachable", inViewPartly(nav))
	}
	shot(t, alice, "console-phone.png")
	do(t, alice, "the archive", chromedp.Click(chromedp.CSS("#nav-archive")))
	waitJS(t, alice, "the archive's latest chats", fmt.Sprintf(`document.querySelector('#archive-results tr[data-chat=%q]') !== null`, v.chat))
	waitJS(t, alice, "no side scroll in the archive", noSideScroll)
	do(t, alice, "the responses", chromedp.Click(chromedp.CSS("#nav-responses")))
	waitJS(t, alice, "no side scroll in the responses", `document.querySelector("#view-responses") !== null && `+noSideScroll)

	sup := b.Tab()
	do(t, sup, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	signIn(t, sup, s.URL, "sup")
	do(t, sup, "the supervisor view", chromedp.Click(chromedp.CSS("#nav-supervisor")))
	waitJS(t, sup, "the KPIs", kpi("kpi-offered", "1"))
	waitJS(t, sup, "no side scroll in the supervisor view", noSideScroll)
	for _, sel := range []string{"#kpi-waiting", "#kpi-csat", "#queues", "#agents"} {
		do(t, sup, "scroll to "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)))
		waitJS(t, sup, sel+" visible", inViewPartly(sel))
	}
	do(t, sup, "back to the top", chromedp.ScrollIntoView(chromedp.CSS(".sup-head")))
	shot(t, sup, "supervisor-phone.png")
	// A tablet, upright.
	do(t, sup, "tablet viewport", chromedp.EmulateViewport(768, 1024))
	waitJS(t, sup, "no side scroll on a tablet", noSideScroll)
	do(t, alice, "tablet viewport", chromedp.EmulateViewport(768, 1024), chromedp.Click(chromedp.CSS("#nav-chats")))
	waitJS(t, alice, "no side scroll in the chats on a tablet", `document.querySelector("#columns") !== null && `+noSideScroll)
	waitJS(t, alice, "the visitor details on a tablet", inViewPartly("#visitor-details .det-name"))
	shot(t, alice, "console-tablet.png")
	noViolations(t, alice, "Alice")
	noViolations(t, sup, "the supervisor")
}

// shot saves a screenshot to $PARLEY_SHOTS (a directory), for looking at
// while working; docs/img is TestConsoleScreenshots' job.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PARLEY_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRichTextAndContextHelpers runs the shared text helpers (richtext.js)
// and the console's context helpers in Chromium: only http(s) addresses
// become links, highlights follow the search in any case, User-Agents
// shorten, and the visitor's local time comes from the zone or offset.
func TestRichTextAndContextHelpers(t *testing.T) {
	ts := httptest.NewServer(web.Handler(web.Options{}))
	defer ts.Close()
	_, ctx := browsertest.New(t)
	do(t, ctx, "open the console", chromedp.Navigate(ts.URL+"/agent/"))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
		const r = await import(document.querySelector('link[href*="/richtext."]').href);
		const m = await import(document.querySelector('link[href*="/console-lib."]').href);
		const at = new Date("2026-01-15T12:30:00Z");
		return {
			parts: JSON.stringify(r.textParts("See https://a.example/x?y=1, javascript:alert(1) and ftp://b.example/ <b>x</b> http://c.example.")),
			marks: JSON.stringify(r.markParts("Parcel and PARCEL <i>", "parcel")),
			preview: [r.previewable({content_type: "image/png", size: 10}), r.previewable({content_type: "image/svg+xml", size: 10}),
				r.previewable({content_type: "image/jpeg", size: 9 * 1024 * 1024})].join(","),
			browsers: [
				m.browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
				m.browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"),
				m.browser("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0"),
				m.browser("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
				m.browser(""),
			].join("|"),
			local: [m.localTime("", 90, at), m.localTime("", -300, at), m.localTime("", undefined, at)].join("|"),
			berlin: m.localTime("Europe/Berlin", 0, at),
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"parts":    `[{"text":"See "},{"text":"https://a.example/x?y=1","href":"https://a.example/x?y=1"},{"text":", javascript:alert(1) and ftp://b.example/ <b>x</b> "},{"text":"http://c.example","href":"http://c.example/"},{"text":"."}]`,
		"marks":    `[{"text":"Parcel","mark":true},{"text":" and ","mark":false},{"text":"PARCEL","mark":true},{"text":" <i>","mark":false}]`,
		"preview":  "true,false,false",
		"browsers": "Chrome 131 · Windows|Edge 131 · Windows|Firefox 133 · macOS|Safari 18 · iOS|",
		"local":    "14:00 (UTC+1:30)|07:30 (UTC-5)|",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if b, _ := got["berlin"].(string); !strings.Contains(b, "13:30") && !strings.Contains(b, "1:30") {
		t.Errorf("local time in Berlin %q, want 13:30", b)
	}
}
