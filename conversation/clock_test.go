package conversation

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// fakeClock stands still until the test moves it; its timers fire when
// Advance passes their time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock by d and runs the timers that came due, in
// order, on the caller's goroutine.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// The service takes its time from Config.Clock: the events it writes
// carry the clock's time, and its idle timer fires when that clock says so,
// not when the wall clock does.
func TestServiceUsesItsClock(t *testing.T) {
	start := time.Date(2031, 5, 4, 10, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	f := newRfix(t, Config{Clock: clk, IdleTimeout: 5 * time.Minute, IdleWarning: -1})
	ctx := context.Background()
	res, err := f.svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID := res.Chat.ID
	c, _ := f.store.Chat(ctx, chatID)
	agent := f.alice
	if c.OfferedTo == f.bob.Agent.ID {
		agent = f.bob
	}
	if _, err := f.svc.Accept(ctx, agent, chatID); err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.Send(ctx, agent, chatID, "hello", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !e.At.Equal(start) {
		t.Fatalf("message stamped %v; want the service clock's %v", e.At, start)
	}

	clk.Advance(4 * time.Minute)
	if c, _ := f.store.Chat(ctx, chatID); c.State != parley.StateHandling {
		t.Fatalf("after 4 of 5 idle minutes the chat is %v; want handling", c.State)
	}
	clk.Advance(2 * time.Minute)
	c, _ = f.store.Chat(ctx, chatID)
	if c.State != parley.StateTerminated || c.Cause != parley.CauseIdleTimeout {
		t.Fatalf("after 6 idle minutes the chat is %v (%v); want ended by idle timeout", c.State, c.Cause)
	}
	if want := start.Add(6 * time.Minute); !c.EndedAt.Equal(want) {
		t.Fatalf("ended at %v; want the clock's %v", c.EndedAt, want)
	}
}
