package storebus

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/pgtest"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/postgres"
)

// stack is a core (PostgreSQL store, store server) and an edge's client,
// on two NATS connections sharing a prefix of their own.
type stack struct {
	pg     *postgres.Store
	dbURL  string
	client *Client
	core   *natsbus.Bus
	edge   *natsbus.Bus
	files  string // the core's files directory
	tenant int64
}

// newStack is openStack with a tenant of its own.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := openStack(t)
	tn := &parley.Tenant{Name: "Acme"}
	if err := s.client.CreateTenant(t.Context(), tn); err != nil || tn.ID == 0 {
		t.Fatalf("create tenant: %+v, %v", tn, err)
	}
	s.tenant = tn.ID
	return s
}

// openStack starts a core on a new, migrated PostgreSQL schema and an
// edge's client.
func openStack(t *testing.T) *stack {
	t.Helper()
	natsURL := os.Getenv("PARLEY_TEST_NATS")
	if natsURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARLEY_TEST_NATS is not set: CI must run the store bus tests")
		}
		t.Skip("PARLEY_TEST_NATS is not set (e.g. nats://127.0.0.1:4222): skipping a store bus test")
	}
	dbURL := pgtest.URL(t)
	ctx := t.Context()
	pg, err := postgres.Open(ctx, dbURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "storebus_test_" + hex.EncodeToString(b)
	core, err := natsbus.Open(ctx, natsbus.Options{URL: natsURL, Name: "core", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	edge, err := natsbus.Open(ctx, natsbus.Options{URL: natsURL, Name: "edge", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { edge.Close() })
	files := t.TempDir()
	srv, err := Serve(core.Conn(), core.Subject(""), pg, conversation.DirFiles{Dir: files}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client, err := NewClient(edge.Conn(), edge.Subject(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return &stack{pg: pg, dbURL: dbURL, client: client, core: core, edge: edge, files: files}
}

// chat makes a tenant's group, visitor and chat through the client.
func (s *stack) chat(t *testing.T, id string) *parley.Chat {
	t.Helper()
	ctx := t.Context()
	g := &parley.Group{TenantID: s.tenant, Name: "Sales " + id}
	if err := s.client.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	v := &parley.Visitor{ID: "v-" + id, TenantID: s.tenant, Name: "Vera", TokenHash: []byte("hash-" + id)}
	if err := s.client.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{ID: id, TenantID: s.tenant, GroupID: g.ID, VisitorID: v.ID, State: parley.StateQueued, CreatedAt: time.Now().UTC()}
	if _, err := s.client.CreateChat(ctx, c, []parley.Event{message("hello", 0)}); err != nil {
		t.Fatal(err)
	}
	return c
}

func message(text string, n int) parley.Event {
	return parley.Event{Type: parley.EventMessage, At: time.Unix(1_700_000_000+int64(n), 0).UTC(), Text: text,
		From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}}
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// TestRecordsCrossTheBus: what the store sets in a record comes back, the
// fields the API hides (hashes) travel, and nil differs from empty.
func TestRecordsCrossTheBus(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	g := &parley.Group{TenantID: s.tenant, Name: "Support"}
	if err := s.client.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if g.ID == 0 || g.CreatedAt.IsZero() {
		t.Fatalf("created group %+v: the store's ID and time did not come back", g)
	}
	stored, err := s.pg.Group(ctx, g.ID)
	if err != nil || stored.Name != "Support" {
		t.Fatalf("the core's store holds %+v, %v", stored, err)
	}
	a := &parley.Agent{TenantID: s.tenant, Login: "ann", DisplayName: "Ann", PasswordHash: "secret-hash", Role: parley.RoleAgent,
		Groups: []parley.Membership{{GroupID: g.ID, Capacity: 2}}}
	if err := s.client.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.client.AgentByLogin(ctx, s.tenant, "ann")
	if err != nil || got.PasswordHash != "secret-hash" || len(got.Groups) != 1 || got.Groups[0].GroupID != g.ID {
		t.Fatalf("agent read back: %+v, %v", got, err)
	}
	for _, groups := range [][]int64{nil, {}} {
		m := &parley.OfflineMessage{TenantID: s.tenant, GroupID: g.ID, Name: "Otto", Email: "otto@example.com", Message: "call me"}
		if groups == nil {
			if err := s.client.CreateOfflineMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := s.client.OfflineMessages(ctx, s.tenant, groups, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[groups == nil]; len(ms) != want {
			t.Errorf("offline messages of groups %#v: %d, want %d (nil is all groups, empty is none)", groups, len(ms), want)
		}
	}
}

// TestErrorCodesCrossTheBus: the store's error codes reach the edge as
// they left it, with the fence the caller set.
func TestErrorCodesCrossTheBus(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	_, err := s.client.Tenant(ctx, 424242)
	wantCode(t, err, parley.ENOTFOUND, "missing tenant")
	if err := s.client.CreateGroup(ctx, &parley.Group{TenantID: s.tenant, Name: "Twice"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.client.CreateGroup(ctx, &parley.Group{TenantID: s.tenant, Name: "twice"}), parley.ECONFLICT, "taken group name")
	c := s.chat(t, "chat-codes")
	stale := *c
	stale.Version--
	_, err = s.client.UpdateChat(ctx, &stale, nil)
	wantCode(t, err, parley.ECONFLICT, "update at a stale version")
	// A write fenced by an epoch no lease has is refused by the core's
	// store: the fence crossed the bus.
	fresh, err := s.client.Chat(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.client.UpdateChat(parley.WithFence(ctx, 77), fresh, nil)
	wantCode(t, err, parley.EUNAVAILABLE, "write fenced by a deposed epoch")
	// The outbox's methods are not served to edges: the client does not
	// ask, and the server refuses one who does.
	_, err = s.client.ClaimMail(ctx, time.Now(), time.Minute, 10)
	wantCode(t, err, parley.EINTERNAL, "ClaimMail from an edge")
	wantCode(t, s.client.call(ctx, "ClaimMail", []any{time.Now(), time.Minute, 10}), parley.EFORBIDDEN, "ClaimMail asked of a core")
	// A deadline already past is not sent.
	past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.client.Tenant(past, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call with a past deadline: %v, want context.DeadlineExceeded", err)
	}
}

// TestAppendAckedAfterCommit: the edge's append returns only once the
// core's store committed it. A transaction holding the chat's row keeps
// the core's append waiting; while it waits the edge has no answer and
// the event is not readable; when the lock goes, the append returns and
// the event is there.
func TestAppendAckedAfterCommit(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	c := s.chat(t, "chat-ack")
	db, err := sql.Open("pgx", s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var holder int
	if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid() FROM chats WHERE id = $1 FOR UPDATE`, c.ID).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	type result struct {
		events []parley.Event
		err    error
	}
	done := make(chan result, 1)
	go func() {
		ev := message("after the lock", 1)
		ev.ClientID = "client-1"
		es, err := s.client.AppendEvents(ctx, c.ID, []parley.Event{ev})
		done <- result{es, err}
	}()
	// Wait until the core's append waits for this transaction's lock.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, holder).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the core's append never waited for the chat's row")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("the edge's append returned (%v, %v) while the core's commit was blocked", r.events, r.err)
	default:
	}
	es, err := s.pg.Events(ctx, c.ID, 1, 0)
	if err != nil || len(es) != 0 {
		t.Fatalf("events readable before the commit: %v, %v", es, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.events) != 1 || r.events[0].Seq != 2 {
		t.Fatalf("append after the lock: %+v, %v; want one event at seq 2", r.events, r.err)
	}
	es, err = s.pg.Events(ctx, c.ID, 1, 0)
	if err != nil || len(es) != 1 || es[0].ClientID != "client-1" {
		t.Fatalf("events in the core's store after the ack: %+v, %v", es, err)
	}
}

// TestBigEventsReadInPages: a log larger than a NATS message (1 MB) is
// read whole, in order, in pages; a reply over 512 KB comes in parts.
func TestBigEventsReadInPages(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	c := s.chat(t, "chat-big")
	text := strings.Repeat("x", 2000)
	const n = 1200 // 1200 × 2 KB: 2.4 MB of text
	for i := 0; i < n; i += 100 {
		batch := make([]parley.Event, 100)
		for j := range batch {
			batch[j] = message(text, i+j)
		}
		if _, err := s.client.AppendEvents(ctx, c.ID, batch); err != nil {
			t.Fatal(err)
		}
	}
	var requests atomic.Int64
	sub, err := s.core.Conn().Subscribe(s.core.Subject(subjectStore+"Events"), func(*nats.Msg) { requests.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := s.core.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	es, err := s.client.Events(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n+1 {
		t.Fatalf("read %d events, want %d", len(es), n+1)
	}
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	if err := s.core.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d events of %d bytes in %d requests", len(es), len(text), requests.Load())
	if got := requests.Load(); got < 3 {
		t.Errorf("the log was read in %d requests, want pages of %d (at least 3)", got, eventsPage)
	}
	// One reply of 1200 events (2.4 MB) is larger than a NATS message:
	// it arrives in parts.
	var all []parley.Event
	if err := s.client.call(ctx, "Events", []any{c.ID, int64(0), n + 1}, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != n+1 || all[n].Seq != n+1 {
		t.Fatalf("one big reply: %d events", len(all))
	}
	// A limit is kept across pages.
	es, err = s.client.Events(ctx, c.ID, 10, 700)
	if err != nil || len(es) != 700 || es[0].Seq != 11 || es[699].Seq != 710 {
		t.Fatalf("700 events after 10: %d, %v", len(es), err)
	}
}

// TestFilesOnTheCore: an edge's attachment is written to the core's
// directory in chunks and read back by ranges.
func TestFilesOnTheCore(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	files := s.client.Files()
	content := make([]byte, 1300<<10) // three chunks
	rand.Read(content)
	up, err := files.Create(ctx, "chat-f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(up, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := up.Commit("file1"); err != nil {
		t.Fatal(err)
	}
	onCore, err := os.ReadFile(filepath.Join(s.files, "chat-f", "file1"))
	if err != nil || !bytes.Equal(onCore, content) {
		t.Fatalf("the core's file: %d bytes, %v; want the %d uploaded", len(onCore), err, len(content))
	}
	entries, _ := os.ReadDir(filepath.Join(s.files, "chat-f"))
	if len(entries) != 1 {
		t.Errorf("the chat's directory holds %d entries, want only the file", len(entries))
	}
	f, err := files.Open(ctx, "chat-f", "file1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := f.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(f)
	if !bytes.Equal(tail, content[len(content)-10:]) {
		t.Errorf("the last 10 bytes after a seek differ")
	}
	// An aborted upload leaves nothing.
	up, err = files.Create(ctx, "chat-f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(content); err != nil {
		t.Fatal(err)
	}
	up.Abort()
	if entries, _ := os.ReadDir(filepath.Join(s.files, "chat-f")); len(entries) != 1 {
		t.Errorf("after an aborted upload the chat's directory holds %d entries, want 1", len(entries))
	}
	if err := files.Remove(ctx, "chat-f", "file1"); err != nil {
		t.Fatal(err)
	}
	if err := files.Stat(ctx, "chat-f", "file1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat of a removed file: %v, want fs.ErrNotExist", err)
	}
	if _, err := files.Open(ctx, "chat-f", "../../etc"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a path outside the chat: %v, want fs.ErrNotExist", err)
	}
}
