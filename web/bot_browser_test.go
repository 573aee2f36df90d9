package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestWidgetMarksBot: a bot's message carries a Bot tag in the widget;
// the agent's does not.
func TestWidgetMarksBot(t *testing.T) {
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
		chromedp.SendKeys("#question", "Is anyone there?"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)
	chatID := alice.message("Is anyone there?")
	alice.send(chatID, "Alice here.")
	ctx := context.Background()
	flow := &conversation.Integration{TenantID: parley.DefaultTenantID, Name: "Flow"}
	if _, err := s.svc.AddBot(ctx, flow, chatID, "Helper"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Post(ctx, flow, chatID, conversation.ExternalPost{AsBot: true, Text: "I can look that up."}); err != nil {
		t.Fatal(err)
	}
	wWaitJS(t, app, "the bot's message", `document.querySelector("#log").textContent.includes("I can look that up.")`)
	got := eval[[]string](t, app, `[...document.querySelectorAll("#log li.msg")].map(li => (li.querySelector(".tag-bot")?.textContent || "-") + "|" + li.querySelector(".bubble").textContent)`)
	want := map[string]string{"Alice here.": "-", "I can look that up.": "Bot"}
	for _, row := range got {
		for text, tag := range want {
			if row == tag+"|"+text {
				delete(want, text)
			}
		}
	}
	if len(want) > 0 {
		t.Fatalf("widget rows %q; missing tags %v", got, want)
	}
}
