package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// newTestChats opens a store at path with opts and n chats chat-0 … .
func newTestChats(t testing.TB, path string, opts Options, n int) *Store {
	t.Helper()
	ctx := t.Context()
	s, err := Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	v := &parley.Visitor{ID: "v", TenantID: parley.DefaultTenantID, Name: "V"}
	if err := s.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := &parley.Chat{ID: fmt.Sprintf("chat-%d", i), TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: v.ID}
		if _, err := s.CreateChat(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// waitFor polls cond until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit holds the write connection while appends queue up, then
// lets them through: the writer commits the queued appends of many chats
// in one transaction, and an append to a missing chat among them fails
// alone.
func TestGroupCommit(t *testing.T) {
	ctx := t.Context()
	s := newTestChats(t, filepath.Join(t.TempDir(), "p.db"), Options{noIndexer: true}, 8)
	conn, err := s.db.Conn(ctx) // the write pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	before, waits := s.commits.Load(), s.db.Stats().WaitCount

	const n = 40
	outs := make([][]parley.Event, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	send := func(i int) {
		chatID := fmt.Sprintf("chat-%d", i%8)
		if i == 17 {
			chatID = "ghost"
		}
		wg.Go(func() {
			outs[i], errs[i] = s.AppendEvents(ctx, chatID, []parley.Event{{Type: parley.EventMessage,
				From: parley.Party{Kind: parley.PartyVisitor}, Text: fmt.Sprint("m", i)}})
		})
	}
	send(0)
	// The writer takes the first append and waits for the connection; the
	// others queue behind it.
	waitFor(t, "the writer to take the first append", func() bool { return s.db.Stats().WaitCount > waits })
	for i := 1; i < n; i++ {
		send(i)
	}
	waitFor(t, "the appends to queue", func() bool { return len(s.appends) == n-1 })
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if got := s.commits.Load() - before; got != 2 {
		t.Errorf("%d commits for %d appends, want 2 (the first alone, then the rest together)", got, n)
	}
	got := map[string][]string{} // chat → text by seq-1, as the appends returned
	for i := range n {
		if i == 17 {
			if parley.ErrorCode(errs[i]) != parley.ENOTFOUND {
				t.Errorf("append to a missing chat: %v, want ENOTFOUND", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		e := outs[i][0]
		for int64(len(got[e.ChatID])) < e.Seq {
			got[e.ChatID] = append(got[e.ChatID], "")
		}
		if got[e.ChatID][e.Seq-1] != "" {
			t.Errorf("%s seq %d returned twice", e.ChatID, e.Seq)
		}
		got[e.ChatID][e.Seq-1] = e.Text
	}
	for c := range 8 {
		chatID := fmt.Sprintf("chat-%d", c)
		es, err := s.Events(ctx, chatID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("%s: event %d has seq %d", chatID, i, e.Seq)
			}
			log = append(log, e.Text)
		}
		if fmt.Sprint(log) != fmt.Sprint(got[chatID]) {
			t.Errorf("%s log %q, the appends returned %q", chatID, log, got[chatID])
		}
	}
}

// TestAppendAfterClose: an append to a closed store fails and does not
// hang.
func TestAppendAfterClose(t *testing.T) {
	s := newTestChats(t, filepath.Join(t.TempDir(), "p.db"), Options{}, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.AppendEvents(context.Background(), "chat-0", []parley.Event{{Type: parley.EventMessage, Text: "late"}})
	if err == nil {
		t.Fatal("append to a closed store succeeded")
	}
}

// TestAppendCanceledWhileQueued: an append whose context ends while it
// waits for the writer returns the context's error and is never stored.
func TestAppendCanceledWhileQueued(t *testing.T) {
	ctx := t.Context()
	s := newTestChats(t, filepath.Join(t.TempDir(), "p.db"), Options{noIndexer: true}, 1)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waits := s.db.Stats().WaitCount
	msg := func(text string) []parley.Event {
		return []parley.Event{{Type: parley.EventMessage, From: parley.Party{Kind: parley.PartyVisitor}, Text: text}}
	}
	first := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(ctx, "chat-0", msg("first"))
		first <- err
	}()
	waitFor(t, "the writer to take the first append", func() bool { return s.db.Stats().WaitCount > waits })
	cctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(cctx, "chat-0", msg("given up"))
		second <- err
	}()
	waitFor(t, "the second append to queue", func() bool { return len(s.appends) == 1 })
	cancel()
	if err := <-second; err != context.Canceled {
		t.Fatalf("canceled append: %v, want context.Canceled", err)
	}
	conn.Close()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	out, err := s.AppendEvents(ctx, "chat-0", msg("third"))
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Events(ctx, "chat-0", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range es {
		texts = append(texts, e.Text)
	}
	if fmt.Sprint(texts) != "[first third]" || out[0].Seq != 2 {
		t.Errorf("log %q, third at seq %d; want [first third] and 2", texts, out[0].Seq)
	}
}
