package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleychat/parley/internal/browsertest"
)

// TestConsoleTypingPreview: a visitor's typing notice with a preview of
// the text (a GMS client's startTyping message) shows that text in the
// console, and a shared URL reads as shared.
func TestConsoleTypingPreview(t *testing.T) {
	s := newConsoleServer(t)
	_, alice := browsertest.New(t)
	signIn(t, alice, s.URL, "agent1")
	goReady(t, alice)
	v := s.visitor(1, "Gus Genesys", "", "Hello from a GMS page")
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, v.chat)
	waitJS(t, alice, "the offer card", fmt.Sprintf(`document.querySelector('%s') !== null`, offer))
	do(t, alice, "accept", chromedp.Click(chromedp.CSS(offer+" .accept")))
	waitJS(t, alice, "the chat column", logHas(v.chat, "Hello from a GMS page"))

	ctx := context.Background()
	actor, err := s.svc.Authenticate(ctx, v.token)
	if err != nil {
		t.Fatal(err)
	}
	col := fmt.Sprintf(`.column[data-chat=%q]`, v.chat)
	if err := s.svc.TypingText(ctx, actor, v.chat, true, "Where is my par"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, alice, "the preview", fmt.Sprintf(`document.querySelector('%s .typing .typing-preview')?.textContent === "Where is my par"`, col))
	shot(t, alice, "console-typing-preview.png")
	do(t, alice, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	waitJS(t, alice, "the preview on a phone", fmt.Sprintf(`document.querySelector('%s .typing .typing-preview')?.textContent === "Where is my par"`, col))
	waitJS(t, alice, "the preview scrolled into view", fmt.Sprintf(`(document.querySelector('%s .typing').scrollIntoView({block: "end"}), true)`, col))
	shot(t, alice, "console-typing-preview-phone.png")
	if err := s.svc.TypingText(ctx, actor, v.chat, false, ""); err != nil {
		t.Fatal(err)
	}
	waitJS(t, alice, "typing cleared", fmt.Sprintf(`document.querySelector('%s .typing').textContent === ""`, col))

	if _, err := s.svc.ShareURL(ctx, actor, v.chat, "https://shop.example/orders/7"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, alice, "the shared URL", logHas(v.chat, "shared"))
}
