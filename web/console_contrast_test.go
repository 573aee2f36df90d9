package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/browsertest"
)

// TestConsoleContrast stages what colours the console uses — a chat
// transferred from Alice to Bob (so a previous agent's message shows), a
// supervisor's whisper, a waiting offer — and checks every text against
// WCAG AA in the light and the dark theme. On the way, read receipts go
// both ways: Bob's open chat tells the visitor it was read, and the
// visitor's receipt shows "Seen" under Bob's message.
func TestConsoleContrast(t *testing.T) {
	s := newConsoleServer(t)
	alice := s.agentToken("agent1")
	s.call("PUT", "/api/v1/me/presence", alice, map[string]string{"presence": "available", "status": "ready"}, nil)
	vera := s.visitor(1, "Vera Lynn", "vera@example.com", "My invoice is wrong.")
	s.call("POST", "/api/v1/chats/"+vera.chat+"/accept", alice, nil, nil)
	s.call("POST", "/api/v1/chats/"+vera.chat+"/messages", alice, map[string]any{"text": "I am handing you to Bob from billing."}, nil)

	_, bob := browsertest.New(t)
	signIn(t, bob, s.URL, "agent2")
	goReady(t, bob)
	var agents []parley.Agent
	s.call("GET", "/api/v1/agents", alice, nil, &agents)
	var bobID int64
	for _, a := range agents {
		if a.Login == "agent2" {
			bobID = a.ID
		}
	}
	if st := s.call("POST", "/api/v1/chats/"+vera.chat+"/transfer", alice, map[string]any{"agent_id": bobID}, nil); st != http.StatusNoContent {
		t.Fatalf("transfer: status %d", st)
	}
	offer := fmt.Sprintf(`.offer[data-chat=%q]`, vera.chat)
	waitJS(t, bob, "the transferred chat's offer", fmt.Sprintf(`document.querySelector('%s') !== null`, offer))
	do(t, bob, "accept", chromedp.Click(chromedp.CSS(offer+" .accept")))
	col := fmt.Sprintf(`.column[data-chat=%q]`, vera.chat)
	waitJS(t, bob, "Alice's message in Bob's log", logHas(vera.chat, "I am handing you to Bob"))

	// Bob has the chat open: the visitor's next message is read at once.
	vera.say("Thanks, the amount is twice what I ordered.")
	waitJS(t, bob, "the visitor's message", logHas(vera.chat, "twice what I ordered"))
	vera.read("Bob's receipt", func(e parley.Event) bool {
		return e.Type == parley.EventSeen && e.From.Kind == parley.PartyAgent && e.Seen > 0
	})

	do(t, bob, "Bob answers", chromedp.SendKeys(chromedp.CSS(col+" .composer-input"), "I see it, a credit note is on its way."), enter())
	answer := vera.read("Bob's answer", func(e parley.Event) bool { return e.Text == "I see it, a credit note is on its way." })
	if evalJS[bool](t, bob, `!!document.querySelector(".msg-status")`) {
		t.Error("Seen before the visitor read")
	}
	s.call("POST", "/api/v1/chats/"+vera.chat+"/seen", vera.token, map[string]int64{"seq": answer.Seq}, nil)
	waitJS(t, bob, "Seen under Bob's answer", fmt.Sprintf(`document.querySelector('%s li[data-seq="%d"] .msg-status')?.textContent === "Seen"`, col, answer.Seq))

	sup := s.agentToken("sup")
	s.call("POST", "/api/v1/chats/"+vera.chat+"/whisper", sup, map[string]any{"text": "Check the March invoice too."}, nil)
	waitJS(t, bob, "the whisper", logHas(vera.chat, "Check the March invoice too."))
	s.call("PUT", "/api/v1/me/presence", alice, map[string]string{"presence": "available", "status": "not_ready"}, nil)
	marco := s.visitor(1, "Marco Rossi", "", "Do you ship to Italy?")
	waitJS(t, bob, "a waiting offer", fmt.Sprintf(`document.querySelector('.offer[data-chat=%q]') !== null`, marco.chat))

	browsertest.CheckContrast(t, bob, "the console, light")
	do(t, bob, "switch to dark", chromedp.Click(chromedp.CSS(`button[aria-label="Switch theme"]`)))
	waitJS(t, bob, "the dark theme", `document.documentElement.dataset.theme === "dark"`)
	browsertest.CheckContrast(t, bob, "the console, dark")
}
