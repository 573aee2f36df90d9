package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
)

// TestWidgetMarksBot: a bot's message carries a Bot tag in the widget;
// the agent's does not.
func TestWidgetMarksBot(t *testing.T) {
	s := newStack(t)
	s.page("/", hostPage(`group="1"`))
	alice := s.agent("alice")
	tab := newTab(t)
	act(t, tab, chromedp.EmulateViewport(900, 700), chromedp.Navigate(s.host+"/"))
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
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "widget-bot.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestConsoleMarksBot: the agent's console tags a bot's messages "Bot"
// and shows a workflow message's type; the visitor's carry no tag.
func TestConsoleMarksBot(t *testing.T) {
	s := newConsoleServer(t)
	_, alice := browsertest.New(t)
	signIn(t, alice, s.URL, "agent1")
	goReady(t, alice)
	v := s.visitor(1, "Vera Lynn", "vera@example.com", "Where is my order?")
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the offer card", fmt.Sprintf(`!!document.querySelector('%s .accept')`, offer))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer+" .accept")))
	waitJS(t, alice, "the chat column", logHas(v.chat, "Where is my order?"))

	ctx := context.Background()
	flow := &conversation.Integration{TenantID: parley.DefaultTenantID, Name: "Order workflow"}
	if _, err := s.svc.AddBot(ctx, flow, v.chat, "Helper"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Post(ctx, flow, v.chat, conversation.ExternalPost{AsBot: true, Text: "Order 12 ships today."}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Post(ctx, flow, v.chat, conversation.ExternalPost{Text: "Tracking link sent.", MessageType: "order-status"}); err != nil {
		t.Fatal(err)
	}
	waitJS(t, alice, "the workflow's message", logHas(v.chat, "Tracking link sent."))
	rows := evalJS[[]string](t, alice, fmt.Sprintf(`[...document.querySelectorAll('.column[data-chat=%q] .log li.msg')].map((li) =>
		(li.querySelector(".tag-bot")?.textContent || "-") + "|" + (li.querySelector(".msg-type")?.textContent || "-") + "|" + li.querySelector(".bubble").textContent)`, v.chat))
	want := []string{"-|-|Where is my order?", "Bot|-|Order 12 ships today.", "-|order-status|Tracking link sent."}
	for _, w := range want {
		if !slices.Contains(rows, w) {
			t.Fatalf("console rows %q lack %q", rows, w)
		}
	}
}
