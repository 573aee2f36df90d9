package conversation_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// A visitor answered in 2 s and transferred later waited 2 s: the greeting
// is posted once, the wait is measured to the first answer (the receiving
// agent's view and the KPIs), and the note reaches the colleague only.
func TestTransferWaitGreetingAndNote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		ctx := context.Background()
		sue := f.supervisor()
		f.available(f.alice)
		vera, visitor := f.request(1, "Vera")
		defer f.svc.VisitorConnected(ctx, vera)()
		advance(2 * time.Second)
		if _, err := f.svc.Accept(ctx, f.alice, vera); err != nil {
			t.Fatal(err)
		}
		advance(38 * time.Second)
		f.available(f.bob)
		advance(6 * time.Second) // 46 s

		// A bad note is refused and changes nothing.
		for _, bad := range []string{strings.Repeat("x", conversation.DefaultMaxMessageLength+1), "bell\a"} {
			if err := f.svc.Transfer(ctx, f.alice, vera, conversation.Transfer{AgentID: f.bob.AgentID(), Note: bad}); err == nil {
				t.Fatalf("transfer with note %.10q accepted", bad)
			}
			if c := f.chat(vera); c.State != parley.StateHandling || c.AgentID != f.alice.AgentID() {
				t.Fatalf("a refused transfer changed the chat: %s, agent %d", c.State, c.AgentID)
			}
		}
		note := "Wants a refund for order 4711; card already checked."
		if err := f.svc.Transfer(ctx, f.alice, vera, conversation.Transfer{AgentID: f.bob.AgentID(), Note: note}); err != nil {
			t.Fatal(err)
		}
		offer, err := f.svc.Chat(ctx, f.bob, vera)
		if err != nil {
			t.Fatal(err)
		}
		if offer.OfferedTo != f.bob.AgentID() || offer.TransferNote != note {
			t.Fatalf("bob's offer: offered to %d, note %q; want bob and the note", offer.OfferedTo, offer.TransferNote)
		}
		advance(2 * time.Second) // 48 s
		view, err := f.svc.Accept(ctx, f.bob, vera)
		if err != nil {
			t.Fatal(err)
		}
		if w := view.AcceptedAt.Sub(view.CreatedAt); w != 2*time.Second {
			t.Errorf("bob's view says the visitor waited %v; want 2s (to alice's answer)", w)
		}
		if view.TransferNote != note {
			t.Errorf("bob's view has note %q; want %q", view.TransferNote, note)
		}
		if v, err := f.svc.Chat(ctx, visitor, vera); err != nil || v.TransferNote != "" {
			t.Errorf("the visitor's view has note %q (err %v)", v.TransferNote, err)
		}

		count := func(evs []parley.Event, text string) int {
			n := 0
			for _, e := range evs {
				if e.Type == parley.EventMessage && e.Text == text {
					n++
				}
			}
			return n
		}
		if n := count(f.events(f.bob, vera), "Welcome to Support"); n != 1 {
			t.Errorf("the greeting is in the log %d times; want once", n)
		}
		if n := count(f.events(visitor, vera), "Welcome to Support"); n != 1 {
			t.Errorf("the visitor saw the greeting %d times; want once", n)
		}
		if n := count(f.events(f.bob, vera), note); n != 1 {
			t.Errorf("bob sees the note %d times in the log; want once", n)
		}
		if n := count(f.events(visitor, vera), note); n != 0 {
			t.Errorf("the visitor sees the note")
		}

		// A second visitor, answered in 2 s too.
		advance(2 * time.Second)
		second, _ := f.request(1, "Max")
		defer f.svc.VisitorConnected(ctx, second)()
		advance(2 * time.Second)
		if _, err := f.svc.Accept(ctx, f.alice, second); err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.KPIs(ctx, sue, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if k := rep.Total; k.Handled != 2 || k.AverageWait != 2 || k.ServiceLevel != 1 {
			t.Errorf("KPIs: handled %d, average wait %v s, service level %v; want 2, 2 s, 1", k.Handled, k.AverageWait, k.ServiceLevel)
		}
	})
}
