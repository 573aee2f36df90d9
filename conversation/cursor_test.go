package conversation

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/sqlite"
)

// countingStore is the real store, counting the reads of a chat's events.
type countingStore struct {
	*sqlite.Store
	reads atomic.Int64
}

func (s *countingStore) Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error) {
	s.reads.Add(1)
	return s.Store.Events(ctx, chatID, after, limit)
}

// A cursor reads the store when it opens and when a notification shows a
// gap, never because time passed: an idle stream costs nothing.
func TestCursorReadsStoreOnlyOnGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "p.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		nb, err := natsbus.Open(ctx, natsbus.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingStore{Store: st}
		svc := New(cs, nb, Config{FilesDir: dir}, nil)
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { svc.Close(); nb.Close(); st.Close() }()
		// A logged-in agent who is not ready keeps the group open and the
		// chat queued, with nothing timed to happen in it.
		a := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "alice", DisplayName: "A", Role: parley.RoleAgent, Capacity: 1,
			Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{{GroupID: 1}}}
		if err := svc.Seed(ctx, []*parley.Group{{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support"}}, []*parley.Agent{a}, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		agent := Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}
		if _, err := svc.SetPresence(ctx, agent, PresenceChange{Presence: parley.PresenceAvailable}); err != nil {
			t.Fatal(err)
		}
		res, err := svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
		if err != nil {
			t.Fatal(err)
		}
		chatID := res.Chat.ID
		visitor, err := svc.Authenticate(ctx, res.VisitorToken)
		if err != nil {
			t.Fatal(err)
		}
		release := svc.VisitorConnected(ctx, chatID)
		defer release()
		cur, err := svc.OpenCursor(ctx, visitor, chatID, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		if evs, err := cur.Next(ctx, 0); err != nil || len(evs) == 0 {
			t.Fatalf("first Next = %d events, %v; want the chat's events", len(evs), err)
		}
		base := cs.reads.Load()

		// Ten minutes of silence: no store read.
		if evs, err := cur.Next(ctx, 10*time.Minute); err != nil || len(evs) != 0 {
			t.Fatalf("Next over ten quiet minutes = %+v, %v; want nothing", evs, err)
		}
		if n := cs.reads.Load() - base; n != 0 {
			t.Fatalf("ten quiet minutes read the store %d times; want 0", n)
		}

		// The next event in sequence comes from the bus alone.
		if _, err := svc.Send(ctx, visitor, chatID, "hello", SendOptions{}); err != nil {
			t.Fatal(err)
		}
		evs, err := cur.Next(ctx, time.Minute)
		if err != nil || len(evs) != 1 || evs[0].Text != "hello" {
			t.Fatalf("Next after a send = %+v, %v; want the message", evs, err)
		}
		if n := cs.reads.Load() - base; n != 0 {
			t.Fatalf("an event in sequence read the store %d times; want 0", n)
		}

		// An event stored without a notification leaves a gap that the
		// next notification shows: one read fills it.
		if _, err := st.AppendEvents(ctx, chatID, []parley.Event{{ChatID: chatID, Type: parley.EventMessage, From: system, Text: "unannounced", At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(ctx, visitor, chatID, "after", SendOptions{}); err != nil {
			t.Fatal(err)
		}
		var texts []string
		for len(texts) < 2 {
			evs, err := cur.Next(ctx, time.Minute)
			if err != nil || len(evs) == 0 {
				t.Fatalf("Next after a gap = %+v, %v; got %q so far", evs, err, texts)
			}
			for _, e := range evs {
				texts = append(texts, e.Text)
			}
		}
		if texts[0] != "unannounced" || texts[1] != "after" {
			t.Fatalf("events after a gap = %q; want [unannounced after]", texts)
		}
		if n := cs.reads.Load() - base; n != 1 {
			t.Fatalf("a gap read the store %d times; want 1", n)
		}

		// A poll from the chat's end (a long-poll client's refresh with
		// nothing new) reads no events from the store; one from behind
		// reads what it missed.
		base = cs.reads.Load()
		evs, last, err := svc.Poll(ctx, visitor, chatID, cur.Last(), 0)
		if err != nil || len(evs) != 0 || last != cur.Last() {
			t.Fatalf("Poll at the end = %+v, last %d, %v; want nothing at %d", evs, last, err, cur.Last())
		}
		if n := cs.reads.Load() - base; n != 0 {
			t.Fatalf("a poll with nothing new read the store %d times; want 0", n)
		}
		evs, _, err = svc.Poll(ctx, visitor, chatID, cur.Last()-1, 0)
		if err != nil || len(evs) != 1 || evs[0].Text != "after" {
			t.Fatalf("Poll one behind = %+v, %v; want the last message", evs, err)
		}
		if n := cs.reads.Load() - base; n != 1 {
			t.Fatalf("a poll one behind read the store %d times; want 1", n)
		}
	})
}
