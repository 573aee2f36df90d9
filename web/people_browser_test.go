package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// importPeople is JS that imports the people.js the page loaded.
const importPeople = `import(performance.getEntriesByType("resource").map((e) => e.name).find((n) => n.includes("/people.")))`

// TestPeopleOneRule: the console, the widget and the contact portal show
// the same initials in the same colour for an agent, and clock times in
// one format, all from people.js.
func TestPeopleOneRule(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	aliceID := s.publicAgentID("Alice")
	rules := fmt.Sprintf(`(async () => { const m = await %s;
  return [m.initials("Ada Lovelace"), m.initials("ada"), m.initials("  Jean  Paul  Sartre "), m.initials(""),
    m.clock("2026-01-05T01:32:00"), m.clock("2026-01-05T13:05:00"), m.PALETTE.includes(m.avatarColor(%d)) ? "palette" : "other",
    m.avatarColor(%d)]; })()`, importPeople, aliceID, aliceID)
	want := []string{"AL", "A", "JS", "?", "1:32 AM", "1:05 PM", "palette"}

	check := func(where string, ctx context.Context) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](rules, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
			t.Errorf("%s: people.js gives %q, want %q", where, got[:len(want)], want)
		}
		return got[len(want)]
	}
	rgb := func(ctx context.Context, sel string) []string {
		return eval[[]string](t, ctx, `(() => { const el = document.querySelector(`+strconvQuote(sel)+`); return [el.textContent, getComputedStyle(el).backgroundColor]; })()`)
	}

	// The contact portal.
	tab := newTab(t)
	act(t, tab, chromedp.Navigate(s.parley+"/contact?groups=1"))
	wWaitJS(t, tab, "the agents", `document.querySelectorAll("#agents .agent").length === 1`)
	colour := check("portal", tab)
	portal := rgb(tab, "#agents .face")

	// The widget's header once Alice has the chat.
	app := openWidget(t, s, newTabIn(t, tab), "/", 1280, 760)
	startChat(t, app, alice, "Hello")
	wWaitJS(t, app, "Alice's face", `document.querySelector("#avatar").textContent === "A"`)
	check("widget", app)
	widget := rgb(app, "#avatar")

	// The console's own avatar of the signed-in agent.
	con := newTabIn(t, tab)
	act(t, con, chromedp.Navigate(s.parley+"/agent/"), chromedp.WaitVisible("#login-name"),
		chromedp.SendKeys("#login-name", "alice"), chromedp.SendKeys("#login-password", agentPassword), chromedp.Click("#login-submit"),
		chromedp.WaitVisible(".me .avatar"))
	check("console", con)
	console := rgb(con, ".me .avatar")

	if portal[0] != "A" || widget[0] != "A" || console[0] != "A" {
		t.Errorf("initials: portal %q, widget %q, console %q; want A everywhere", portal[0], widget[0], console[0])
	}
	if portal[1] != widget[1] || widget[1] != console[1] {
		t.Errorf("colours: portal %s, widget %s, console %s (people.js: %s)", portal[1], widget[1], console[1], colour)
	}
}
