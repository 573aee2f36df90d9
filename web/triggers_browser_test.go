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
	"github.com/parleychat/parley/internal/browsertest"
)

// greetingShown is JS for: the widget's card shows a trigger's greeting.
const greetingShown = `(() => { const g = document.querySelector("#greeting"); return !!g && !g.hidden && g.textContent.length > 0; })()`

// greetingText is JS for the greeting's sender and message, one a line.
const greetingText = `[...document.querySelectorAll("#greeting > *")].map((e) => e.textContent).join("\n")`

// TestWidgetTriggers: on a page whose address matches a rule, the widget
// opens by itself after the rule's time on site with the rule's message
// from its sender; a run-once rule does not fire again after a reload
// (another rule of the page does); a rule for other pages never fires;
// answering the greeting starts a chat that begins with the greeting; a
// rule on opening the chat greets when the visitor opens the card.
// The greeting meets WCAG AA on desktop and phone widths, light and
// dark; with PARLEY_SCREENSHOTS set it is photographed for the docs.
func TestWidgetTriggers(t *testing.T) {
	s := newStack(t)
	s.page("/help", hostPage(`group="1"`))
	s.page("/pricing", strings.Replace(showcasePage, "ATTRS", `group="1" title="Acme Support" header-background="#2f5d46" highlight="#2f5d46"`, 1))
	ctx := context.Background()
	mk := func(tr *parley.Trigger) *parley.Trigger {
		t.Helper()
		tr.TenantID, tr.Enabled = parley.DefaultTenantID, true
		if err := s.store.CreateTrigger(ctx, tr); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	// Fires at once, but only on the checkout: never here.
	mk(&parley.Trigger{Name: "Checkout", URLPattern: `/checkout$`, Message: "Need help paying?"})
	once := mk(&parley.Trigger{GroupID: 1, Name: "Pricing", URLPattern: `^https?://[^/]+/pricing(\?|$)`, TimeOnSite: 1, RunOnce: true,
		SenderName: "Pia from Acme", Message: "Comparing plans? I can tell you which one fits your team."})
	opened := mk(&parley.Trigger{Name: "Help opened", URLPattern: `/help$`, ChatOpened: true, SenderName: "Acme bot",
		Message: "Hi! Tell us what you are looking for."})
	again := mk(&parley.Trigger{Name: "Pricing, again", URLPattern: `/pricing`, TimeOnSite: 2, SenderName: "Acme bot",
		Message: "Still deciding? Ask us anything about the plans."})
	alice := s.agent("alice")
	b, _ := browsertest.New(t)
	seen := map[target.ID]bool{}
	tab := anotherTab(b, seen)

	// The visitor only looks at the page: the card opens with the greeting.
	act(t, tab, chromedp.EmulateViewport(1100, 760), chromedp.Navigate(s.host+"/pricing"))
	app := frameCtx(t, tab, s.parley)
	wWaitJS(t, app, "the greeting", greetingShown)
	if got := eval[string](t, app, greetingText); got != once.SenderName+"\n"+once.Message {
		t.Errorf("greeting %q; want the run-once rule's sender and message", got)
	}
	if !eval[bool](t, tab, `Date.now() - Number(sessionStorage.getItem("parley.visit")) >= 1000`) {
		t.Error("the greeting came before the rule's time on site")
	}
	if !eval[bool](t, tab, `document.querySelector("parley-widget").shadowRoot.querySelector("button").getAttribute("aria-expanded") === "true"`) {
		t.Error("the launcher does not show the card as open")
	}
	for _, dark := range []bool{false, true} {
		darkMode(t, app, dark)
		browsertest.CheckContrast(t, app, "the trigger's greeting")
	}
	darkMode(t, app, false)
	shootTo(t, tab, "widget-trigger.png")

	// Reload: the run-once rule stays quiet, the other rule of the page
	// greets instead.
	act(t, tab, chromedp.Reload())
	app = frameCtx(t, tab, s.parley)
	wWaitJS(t, app, "the second rule's greeting", greetingShown)
	if got := eval[string](t, app, greetingText); got != again.SenderName+"\n"+again.Message {
		t.Fatalf("after a reload the greeting is %q; want the second rule's (the run-once rule fired already)", got)
	}

	// Answering starts a chat that begins with the greeting.
	question := "Is there a discount for non-profits?"
	startChat(t, app, alice, question)
	wWaitJS(t, app, "the greeting and the question in the log", `(() => { const t = document.querySelector("#log").innerText;
  const g = t.indexOf(`+strconvQuote(again.Message)+`), q = t.indexOf(`+strconvQuote(question)+`);
  return g >= 0 && q > g && t.includes(`+strconvQuote(again.SenderName)+`); })()`)
	if !alice.sawEvent(func(e *parley.Event) bool {
		return e.Type == parley.EventMessage && e.From.Kind == parley.PartyAgent && e.From.Name == again.SenderName && e.Text == again.Message
	}) {
		t.Error("the agent's stream lacks the greeting from its sender")
	}

	// Phone width: a new tab, as a visitor on a phone would (its own
	// session; the run-once rule is remembered by the browser).
	phone := anotherTab(b, seen)
	act(t, phone, chromedp.EmulateViewport(390, 760), chromedp.Navigate(s.host+"/pricing"))
	papp := frameCtx(t, phone, s.parley)
	wWaitJS(t, papp, "the greeting on a phone", greetingShown)
	for _, dark := range []bool{false, true} {
		darkMode(t, papp, dark)
		browsertest.CheckContrast(t, papp, "the trigger's greeting on a phone")
	}
	darkMode(t, papp, false)
	shootTo(t, phone, "widget-trigger-phone.png")

	// A rule on opening the chat waits for the visitor's click.
	help := anotherTab(b, seen)
	act(t, help, chromedp.Navigate(s.host+"/help"))
	wWaitJS(t, help, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	if n := eval[int](t, help, `document.querySelector("parley-widget").shadowRoot.querySelectorAll("iframe").length`); n != 0 {
		t.Errorf("an on-open rule opened the card by itself")
	}
	eval[bool](t, help, clickLauncher)
	happ := frameCtx(t, help, s.parley)
	wWaitJS(t, happ, "the on-open greeting", greetingShown)
	if got := eval[string](t, happ, greetingText); got != opened.SenderName+"\n"+opened.Message {
		t.Errorf("on open the greeting is %q; want the on-open rule's", got)
	}
}

// shootTo writes a screenshot of the tab's viewport into $PARLEY_SCREENSHOTS, if set.
func shootTo(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
