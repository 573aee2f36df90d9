package conversation_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The timeout tests run in a synctest bubble: time advances only when every
// goroutine (service, store, NATS) is blocked, so the timings are exact
// and the tests take no real time.

var timeoutConfig = conversation.Config{
	IdleTimeout:       300 * time.Second,
	IdleWarning:       60 * time.Second,
	DisconnectTimeout: 60 * time.Second,
	DisconnectWarning: 20 * time.Second,
	PollGrace:         20 * time.Second,
	CustomerTimeout:   900 * time.Second,
}

// handled returns a chat accepted by alice with the visitor connected.
func handled(t *testing.T, f *fixture) (chatID string, visitor conversation.Actor, release func()) {
	t.Helper()
	f.available(f.alice)
	chatID, visitor = f.request(1, "Vera")
	release = f.svc.VisitorConnected(context.Background(), chatID)
	if _, err := f.svc.Accept(context.Background(), f.alice, chatID); err != nil {
		t.Fatal(err)
	}
	return chatID, visitor, release
}

// advance lets d of fake time pass and waits for the timers it fired.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		chatID, visitor, release := handled(t, f)
		defer release()

		advance(239 * time.Second)
		if n := notices(f.events(f.alice, chatID)); slices.Contains(n, parley.NoticeIdleWarning) {
			t.Fatalf("warned after 239 s: %v", n)
		}
		advance(2 * time.Second) // 241 s
		evs := f.events(visitor, chatID)
		if n := notices(evs); !slices.Contains(n, parley.NoticeIdleWarning) {
			t.Fatalf("no idle warning for the visitor after 241 s: %v", n)
		}
		if !f.chat(chatID).Active() {
			t.Fatal("closed at the warning")
		}
		advance(60 * time.Second) // 301 s
		c := f.chat(chatID)
		if c.State != parley.StateTerminated || c.Cause != parley.CauseIdleTimeout {
			t.Fatalf("after 301 s: state %v cause %v; want terminated by idle_timeout", c.State, c.Cause)
		}
		if st := lastState(f.events(f.alice, chatID)); st == nil || st.Cause != parley.CauseIdleTimeout {
			t.Fatalf("agent sees last state %+v", st)
		}
	})
}

func TestIdleTimeoutResetByVisitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		chatID, visitor, release := handled(t, f)
		defer release()
		ctx := context.Background()

		advance(250 * time.Second) // warned at 240 s
		if _, err := f.svc.Send(ctx, visitor, chatID, "still here", conversation.SendOptions{}); err != nil {
			t.Fatal(err)
		}
		// Agent messages do not count as visitor activity.
		advance(100 * time.Second) // 350 s
		if _, err := f.svc.Send(ctx, f.alice, chatID, "anything else?", conversation.SendOptions{}); err != nil {
			t.Fatal(err)
		}
		if !f.chat(chatID).Active() {
			t.Fatal("closed although the visitor wrote at 250 s")
		}
		advance(201 * time.Second) // 551 s: 301 s after the visitor's message
		if c := f.chat(chatID); c.Cause != parley.CauseIdleTimeout {
			t.Fatalf("after 551 s: %v %v; want terminated by idle_timeout", c.State, c.Cause)
		}
		warnings := 0
		for _, n := range notices(f.events(visitor, chatID)) {
			if n == parley.NoticeIdleWarning {
				warnings++
			}
		}
		if warnings != 2 {
			t.Fatalf("%d idle warnings; want one per idle period (2)", warnings)
		}
	})
}

func TestCustomerTimeoutCapsClientIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := timeoutConfig
		cfg.CustomerTimeout = 120 * time.Second
		f := newFixture(t, cfg)
		f.available(f.alice)
		ctx := context.Background()
		res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, IdleTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		release := f.svc.VisitorConnected(ctx, res.Chat.ID)
		defer release()
		if _, err := f.svc.Accept(ctx, f.alice, res.Chat.ID); err != nil {
			t.Fatal(err)
		}
		advance(121 * time.Second)
		if c := f.chat(res.Chat.ID); c.Cause != parley.CauseIdleTimeout {
			t.Fatalf("a client idle timeout of 1 h outlived the server's 120 s: %v %v", c.State, c.Cause)
		}
	})
}

func TestDisconnectGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		chatID, visitor, release := handled(t, f)

		advance(10 * time.Second)
		release() // the visitor's page went away at 10 s
		advance(19 * time.Second)
		if n := notices(f.events(f.alice, chatID)); len(n) != 0 {
			t.Fatalf("agent notices within the poll grace = %v; want none", n)
		}
		advance(2 * time.Second) // 31 s: the poll grace ended at 30 s
		if n := notices(f.events(f.alice, chatID)); !slices.Equal(n, []string{parley.NoticeVisitorLeft}) {
			t.Fatalf("agent notices after the disconnect = %v; want visitor_left", n)
		}
		if n := notices(f.events(visitor, chatID)); len(n) != 0 {
			t.Fatalf("the visitor sees agent notices: %v", n)
		}
		// An agent's message meanwhile waits, and the agent is told once.
		ctx := context.Background()
		for range 2 {
			if _, err := f.svc.Send(ctx, f.alice, chatID, "are you there?", conversation.SendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		advance(18 * time.Second) // 49 s
		want := []string{parley.NoticeVisitorLeft, parley.NoticeMessageWaiting}
		if n := notices(f.events(f.alice, chatID)); !slices.Equal(n, want) {
			t.Fatalf("agent notices at 49 s = %v; want %v", n, want)
		}
		advance(2 * time.Second) // 51 s: 20 s before the grace ends, 60 s after the visitor went
		want = append(want, parley.NoticeVisitorClosing)
		if n := notices(f.events(f.alice, chatID)); !slices.Equal(n, want) {
			t.Fatalf("agent notices at 51 s = %v; want %v", n, want)
		}
		if !f.chat(chatID).Active() {
			t.Fatal("closed before the grace ended")
		}
		advance(20 * time.Second) // 71 s
		if c := f.chat(chatID); c.State != parley.StateTerminated || c.Cause != parley.CauseDisconnectTimeout {
			t.Fatalf("after the grace: %v %v; want terminated by disconnect_timeout", c.State, c.Cause)
		}
	})
}

// A visitor who reconnects within the poll grace (the next page of the
// site, a dropped socket) leaves nothing in the chat's log.
func TestReconnectWithinPollGraceStoresNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		chatID, _, release := handled(t, f)
		before := f.chat(chatID).LastSeq
		for range 10 {
			release()
			advance(5 * time.Second)
			release = f.svc.VisitorConnected(context.Background(), chatID)
			synctest.Wait()
		}
		defer release()
		advance(time.Minute)
		if after := f.chat(chatID).LastSeq; after != before {
			t.Fatalf("10 reconnects stored %d events (%v); want none", after-before, notices(f.events(f.alice, chatID)))
		}
	})
}

func TestVisitorBackWithinGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		chatID, visitor, release := handled(t, f)
		ctx := context.Background()

		release()
		advance(30 * time.Second)
		back := f.svc.VisitorConnected(ctx, chatID) // the next page of the site
		defer back()
		synctest.Wait()
		want := []string{parley.NoticeVisitorLeft, parley.NoticeVisitorBack}
		if n := notices(f.events(f.alice, chatID)); !slices.Equal(n, want) {
			t.Fatalf("agent notices = %v; want %v", n, want)
		}
		advance(120 * time.Second)
		if !f.chat(chatID).Active() {
			t.Fatal("the chat ended although the visitor came back within the grace")
		}
		if _, err := f.svc.Send(ctx, visitor, chatID, "back again", conversation.SendOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLongPollKeepsVisitorPresent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, timeoutConfig)
		f.available(f.alice)
		chatID, visitor := f.request(1, "Vera")
		ctx := context.Background()
		if _, err := f.svc.Accept(ctx, f.alice, chatID); err != nil {
			t.Fatal(err)
		}
		// A client that polls every 25 s with 15 s gaps between polls stays.
		after := f.chat(chatID).LastSeq
		for range 6 {
			_, last, err := f.svc.Poll(ctx, visitor, chatID, after, 25*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			after = last
			advance(15 * time.Second)
		}
		if n := notices(f.events(f.alice, chatID)); slices.Contains(n, parley.NoticeVisitorLeft) {
			t.Fatalf("a polling visitor was reported gone: %v", n)
		}
		// When the polls stop, the visitor is gone after the poll grace.
		advance(6 * time.Second) // 21 s after the last poll
		if n := notices(f.events(f.alice, chatID)); !slices.Contains(n, parley.NoticeVisitorLeft) {
			t.Fatalf("notices after the polls stopped = %v; want visitor_left", n)
		}
	})
}

// An offer nobody answers (the agent's browser is gone, its presence still
// "available") goes to the next agent after the offer timeout.
func TestOfferTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := timeoutConfig
		cfg.OfferTimeout = 60 * time.Second
		cfg.RoutingTick = 5 * time.Second
		f := newFixture(t, cfg)
		f.available(f.alice)
		f.available(f.bob)
		chatID, _ := f.request(1, "Vera")
		release := f.svc.VisitorConnected(context.Background(), chatID)
		defer release()
		first := f.chat(chatID).OfferedTo
		if first == 0 {
			t.Fatal("not offered")
		}
		advance(55 * time.Second)
		if got := f.chat(chatID).OfferedTo; got != first {
			t.Fatalf("offer moved after 55 s: %d → %d", first, got)
		}
		advance(10 * time.Second) // the first tick at or after 60 s
		got := f.chat(chatID).OfferedTo
		if got == first || got == 0 {
			t.Fatalf("after the offer timeout the chat is offered to %d; want the other agent (first was %d)", got, first)
		}
	})
}
