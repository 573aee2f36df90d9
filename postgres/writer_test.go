package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/pgtest"
)

// newTestChats opens a store on a new schema with n chats chat-0 … and
// returns it with the schema's URL.
func newTestChats(t *testing.T, n int) (*Store, string) {
	t.Helper()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := Open(ctx, url, Options{})
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
	return s, url
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

// lockChat locks a chat's row in a transaction of its own, as another
// node's append would, and returns a function that reports whether a
// session waits for that lock and one that releases it.
func lockChat(t *testing.T, s *Store, chatID string) (waiting func() bool, release func()) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid() FROM chats WHERE id = $1 FOR UPDATE`, chatID).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Commit() }) }
	t.Cleanup(release)
	waiting = func() bool {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	return waiting, release
}

func message(text string) []parley.Event {
	return []parley.Event{{Type: parley.EventMessage, From: parley.Party{Kind: parley.PartyVisitor}, Text: text}}
}

// TestGroupCommit holds the writer on a locked chat while appends queue
// up, then lets it go: the writer commits the queued appends of many
// chats in one transaction, and an append to a missing chat among them
// fails alone.
func TestGroupCommit(t *testing.T) {
	ctx := t.Context()
	s, _ := newTestChats(t, 8)
	waiting, release := lockChat(t, s, "chat-0")
	before := s.commits.Load()

	const n = 40
	outs := make([][]parley.Event, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	send := func(i int) {
		chatID := fmt.Sprintf("chat-%d", i%8)
		if i == 17 {
			chatID = "ghost"
		}
		wg.Go(func() { outs[i], errs[i] = s.AppendEvents(ctx, chatID, message(fmt.Sprint("m", i))) })
	}
	send(0)
	waitFor(t, "the writer to wait for the locked chat", waiting)
	for i := 1; i < n; i++ {
		send(i)
	}
	waitFor(t, "the appends to queue", func() bool { return len(s.appends) == n-1 })
	release()
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

// TestAppendAsyncOrder: AppendEventsAsync reports each append once, after
// its commit, in commit order.
func TestAppendAsyncOrder(t *testing.T) {
	ctx := t.Context()
	s, _ := newTestChats(t, 2)
	const n = 50
	var mu sync.Mutex
	var seqs []int64
	done := make(chan struct{})
	for i := range n {
		s.AppendEventsAsync(ctx, fmt.Sprintf("chat-%d", i%2), message(fmt.Sprint(i)), func(out []parley.Event, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
			if len(out) == 1 && out[0].ChatID == "chat-0" {
				seqs = append(seqs, out[0].Seq)
			}
			if i == n-1 {
				close(done)
			}
		})
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("chat-0's commits were reported in the order %v", seqs)
		}
	}
	es, err := s.Events(ctx, "chat-0", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n/2 || len(seqs) != n/2 {
		t.Errorf("chat-0 has %d events and %d reported appends, want %d", len(es), len(seqs), n/2)
	}
}

// TestAppendAfterClose: an append to a closed store fails and does not
// hang.
func TestAppendAfterClose(t *testing.T) {
	s, _ := newTestChats(t, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.AppendEvents(context.Background(), "chat-0", message("late"))
	if err == nil {
		t.Fatal("append to a closed store succeeded")
	}
}

// TestAppendCanceledWhileQueued: an append whose context ends while it
// waits for the writer returns the context's error and is never stored.
func TestAppendCanceledWhileQueued(t *testing.T) {
	ctx := t.Context()
	s, _ := newTestChats(t, 1)
	waiting, release := lockChat(t, s, "chat-0")
	first := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(ctx, "chat-0", message("first"))
		first <- err
	}()
	waitFor(t, "the writer to wait for the locked chat", waiting)
	cctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(cctx, "chat-0", message("given up"))
		second <- err
	}()
	waitFor(t, "the second append to queue", func() bool { return len(s.appends) == 1 })
	cancel()
	if err := <-second; err != context.Canceled {
		t.Fatalf("canceled append: %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	out, err := s.AppendEvents(ctx, "chat-0", message("third"))
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

// TestTwoNodesAppend runs two stores on one database, as two nodes do.
// Clients append to the same chats through both and retry every append
// through the other node with the same ClientID, as a client does whose
// node went away: each chat's log has every message exactly once, with
// contiguous seqs, and a retry gets the stored event back.
func TestTwoNodesAppend(t *testing.T) {
	ctx := t.Context()
	a, url := newTestChats(t, 4)
	b, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nodes := []*Store{a, b}
	const clients, each = 8, 25
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				chatID := fmt.Sprintf("chat-%d", (c+i)%4)
				ev := message(fmt.Sprintf("c%d-%d", c, i))
				ev[0].ClientID = fmt.Sprintf("c%d-%d", c, i)
				first, err := nodes[(c+i)%2].AppendEvents(ctx, chatID, ev)
				if err != nil {
					t.Errorf("append %s: %v", ev[0].ClientID, err)
					return
				}
				again, err := nodes[(c+i+1)%2].AppendEvents(ctx, chatID, ev)
				if err != nil {
					t.Errorf("retry %s: %v", ev[0].ClientID, err)
					return
				}
				if again[0].Seq != first[0].Seq || !again[0].At.Equal(first[0].At) {
					t.Errorf("retry of %s gave seq %d, the first append %d", ev[0].ClientID, again[0].Seq, first[0].Seq)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for c := range 4 {
		es, err := b.Events(ctx, fmt.Sprintf("chat-%d", c), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("chat-%d: event %d has seq %d", c, i, e.Seq)
			}
			if seen[e.ClientID] {
				t.Errorf("%s stored twice", e.ClientID)
			}
			seen[e.ClientID] = true
		}
	}
	if len(seen) != clients*each {
		t.Errorf("%d messages stored, want %d", len(seen), clients*each)
	}
}

// TestConcurrentMigrations starts several stores on one empty schema at
// once, as nodes starting together do: the advisory lock lets one
// migrate, and the others find the work done.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), url, Options{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, maxVersion int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxVersion); err != nil {
		t.Fatal(err)
	}
	files, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) || maxVersion != len(files) {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d", n, maxVersion, len(files))
	}
}
