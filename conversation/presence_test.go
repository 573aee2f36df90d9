package conversation_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// presenceConfig makes the agent grace the only thing that moves offers:
// the offer timeout is far away.
func presenceConfig() conversation.Config {
	cfg := timeoutConfig
	cfg.AgentGrace = 60 * time.Second
	cfg.OfferTimeout = time.Hour
	return cfg
}

// queueEvents returns the queue events that reach cur now.
func queueEvents(t *testing.T, cur *conversation.Cursor) []parley.QueueInfo {
	t.Helper()
	var out []parley.QueueInfo
	for {
		evs, err := cur.Next(context.Background(), time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			if e.Type == parley.EventQueue && e.Queue != nil {
				out = append(out, *e.Queue)
			}
		}
	}
}

func (f *fixture) presence(a conversation.Actor) parley.Presence {
	f.t.Helper()
	ag, err := f.store.Agent(context.Background(), a.AgentID())
	if err != nil {
		f.t.Fatal(err)
	}
	return ag.Presence
}

// An agent whose last console connection went away without signing out is
// away after the grace: the offer it could not answer is withdrawn, the
// visitor is told a place in line, the supervisor counts the chat as
// waiting throughout, and the next agent to go ready is offered it.
func TestAgentAwayAfterGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, presenceConfig())
		ctx := context.Background()
		sue := f.supervisor()
		drop := f.svc.AgentConnected(f.alice.AgentID())
		f.available(f.alice)
		chatID, visitor := f.request(1, "Vera")
		defer f.svc.VisitorConnected(ctx, chatID)()
		if got := f.chat(chatID).OfferedTo; got != f.alice.AgentID() {
			t.Fatalf("offered to %d; want alice", got)
		}
		cur, err := f.svc.OpenCursor(ctx, visitor, chatID, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		queueEvents(t, cur)

		drop() // alice closes the browser without signing out
		advance(59 * time.Second)
		if p, c := f.presence(f.alice), f.chat(chatID); p != parley.PresenceAvailable || c.OfferedTo != f.alice.AgentID() {
			t.Fatalf("within the grace: alice %s, offered to %d; want available and still offered", p, c.OfferedTo)
		}
		ov, err := f.svc.Overview(ctx, sue)
		if err != nil {
			t.Fatal(err)
		}
		if w := ov.Groups[0].Waiting; w != 1 {
			t.Errorf("the overview counts %d waiting while the chat is offered to an agent without a console; want 1", w)
		}

		advance(2 * time.Second) // 61 s
		if p := f.presence(f.alice); p != parley.PresenceAway {
			t.Fatalf("alice is %s a grace after her last connection; want away", p)
		}
		if c := f.chat(chatID); c.State != parley.StateQueued || c.OfferedTo != 0 {
			t.Fatalf("chat %s offered to %d; want queued, offered to nobody", c.State, c.OfferedTo)
		}
		q := queueEvents(t, cur)
		if len(q) == 0 || q[len(q)-1].Position < 1 {
			t.Fatalf("queue events pushed to the visitor: %+v; want a position", q)
		}
		if ov, err = f.svc.Overview(ctx, sue); err != nil {
			t.Fatal(err)
		}
		if w := ov.Groups[0].Waiting; w != 1 {
			t.Errorf("overview waiting = %d; want 1", w)
		}

		defer f.svc.AgentConnected(f.bob.AgentID())()
		f.available(f.bob)
		if got := f.chat(chatID).OfferedTo; got != f.bob.AgentID() {
			t.Fatalf("after bob went ready the chat is offered to %d; want bob", got)
		}
	})
}

// With two agents ready, the offer to the one whose console is gone moves
// to the other when the grace ends.
func TestAgentAwayOfferMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, presenceConfig())
		ctx := context.Background()
		drops := map[int64]func(){
			f.alice.AgentID(): f.svc.AgentConnected(f.alice.AgentID()),
			f.bob.AgentID():   f.svc.AgentConnected(f.bob.AgentID()),
		}
		f.available(f.alice)
		f.available(f.bob)
		chatID, _ := f.request(1, "Vera")
		defer f.svc.VisitorConnected(ctx, chatID)()
		first := f.chat(chatID).OfferedTo
		if first == 0 {
			t.Fatal("not offered")
		}
		drops[first]()
		advance(61 * time.Second)
		got := f.chat(chatID).OfferedTo
		if got == first || got == 0 {
			t.Fatalf("a grace after the console of %d went away the chat is offered to %d; want the other agent", first, got)
		}
		for id, drop := range drops {
			if id != first {
				drop()
			}
		}
	})
}

// A console that reconnects within the grace (a reload, a network hiccup),
// by WebSocket or by long-poll, changes nothing.
func TestAgentReconnectWithinGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, presenceConfig())
		ctx := context.Background()
		drop := f.svc.AgentConnected(f.alice.AgentID())
		f.available(f.alice)
		chatID, _ := f.request(1, "Vera")
		defer f.svc.VisitorConnected(ctx, chatID)()

		drop()
		advance(30 * time.Second)
		drop = f.svc.AgentConnected(f.alice.AgentID()) // the reloaded page
		advance(120 * time.Second)
		// Long-polls with gaps shorter than the grace keep her present.
		drop()
		for range 4 {
			advance(20 * time.Second)
			poll := f.svc.AgentConnected(f.alice.AgentID())
			advance(25 * time.Second)
			poll()
		}
		advance(30 * time.Second)
		if p, c := f.presence(f.alice), f.chat(chatID); p != parley.PresenceAvailable || c.OfferedTo != f.alice.AgentID() {
			t.Fatalf("after reconnects within the grace: alice %s, offered to %d; want available and offered", p, c.OfferedTo)
		}
		// A second console of the same agent keeps her present alone.
		one, two := f.svc.AgentConnected(f.alice.AgentID()), f.svc.AgentConnected(f.alice.AgentID())
		one()
		one() // releasing twice counts once
		advance(120 * time.Second)
		if p := f.presence(f.alice); p != parley.PresenceAvailable {
			t.Fatalf("alice is %s with one console still open", p)
		}
		two()
		advance(61 * time.Second)
		if p := f.presence(f.alice); p != parley.PresenceAway {
			t.Fatalf("alice is %s a grace after her last console closed; want away", p)
		}
	})
}

// Consoles connecting and closing at once are counted exactly: while one
// stays open the agent stays, and when the last closes the grace runs.
func TestAgentConnectionsCountedConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, presenceConfig())
		id := f.alice.AgentID()
		stay := f.svc.AgentConnected(id)
		f.available(f.alice)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				release := f.svc.AgentConnected(id)
				release()
				release()
			})
		}
		wg.Wait()
		advance(120 * time.Second)
		if p := f.presence(f.alice); p != parley.PresenceAvailable {
			t.Fatalf("alice is %s with a console open; want available", p)
		}
		stay()
		advance(61 * time.Second)
		if p := f.presence(f.alice); p != parley.PresenceAway {
			t.Fatalf("alice is %s a grace after the last console closed; want away", p)
		}
	})
}
