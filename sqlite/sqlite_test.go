package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/sqlite"
	"github.com/parleychat/parley/storetest"
	_ "modernc.org/sqlite"
)

func open(t *testing.T, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return open(t, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	})
}

func TestStoreSynchronousFull(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return open(t, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Synchronous: "full", ReadConns: 1})
	})
}

func TestOpenRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		path string
		opts sqlite.Options
		want string
	}{
		{"", sqlite.Options{}, "path is required"},
		{":memory:", sqlite.Options{}, "path is required"},
		{filepath.Join(dir, "a.db") + "?mode=ro", sqlite.Options{}, "plain file name"},
		{"file:" + filepath.Join(dir, "a.db"), sqlite.Options{}, "plain file name"},
		{filepath.Join(dir, "a.db"), sqlite.Options{Synchronous: "off"}, "normal or full"},
	} {
		s, err := sqlite.Open(t.Context(), tt.path, tt.opts)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q, %+v) succeeded", tt.path, tt.opts)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q, %+v) = %v, want an error about %q", tt.path, tt.opts, err, tt.want)
		}
	}
}

func TestFirstGeneratedIDsAreOne(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	tn := &parley.Tenant{Name: "Acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	g := &parley.Group{TenantID: tn.ID, Name: "Sales"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	a := &parley.Agent{TenantID: tn.ID, Login: "alice", Role: parley.RoleAgent, Capacity: 1,
		Presence: parley.PresenceOffline, Status: parley.StatusNotReady}
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The default tenant -1 exists, yet plain rowid allocation (max + 1)
	// would have given tenant 0.
	if tn.ID != 1 || g.ID != 1 || a.ID != 1 {
		t.Errorf("first generated ids: tenant %d, group %d, agent %d; want 1, 1, 1", tn.ID, g.ID, a.ID)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Sales"}
	v := &parley.Visitor{ID: "v1", TenantID: parley.DefaultTenantID, TokenHash: []byte("t")}
	c := &parley.Chat{ID: "c1", TenantID: parley.DefaultTenantID, VisitorID: "v1", State: parley.StateQueued,
		Cause: parley.CauseNone, CreatedAt: time.Now()}
	var out []parley.Event
	err = func() error {
		if err := s.CreateGroup(ctx, g); err != nil {
			return err
		}
		if err := s.CreateVisitor(ctx, v); err != nil {
			return err
		}
		c.GroupID = g.ID
		out, err = s.CreateChat(ctx, c, []parley.Event{{Type: parley.EventMessage, Text: "hello", At: time.Now()}})
		return err
	}()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = open(t, path, sqlite.Options{})
	got, err := s.Chat(ctx, "c1")
	if err != nil {
		t.Fatalf("chat after reopen: %v", err)
	}
	if got.GroupID != g.ID || got.LastSeq != 1 || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("chat after reopen = %+v, want group %d, last seq 1, created %v", got, g.ID, c.CreatedAt)
	}
	es, err := s.Events(ctx, "c1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Text != "hello" || !es[0].At.Equal(out[0].At) {
		t.Errorf("events after reopen = %+v, want %+v", es, out)
	}
	// New ids continue after the old ones.
	g2 := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	if err := s.CreateGroup(ctx, g2); err != nil {
		t.Fatal(err)
	}
	if g2.ID <= g.ID {
		t.Errorf("group created after reopen got id %d, not after %d", g2.ID, g.ID)
	}
}

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	for range 2 { // the second Open finds everything applied
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d_%s", v, name))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Every migration file, and nothing else, is recorded.
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".sql")
		v, rest, _ := strings.Cut(name, "_")
		n, _ := strconv.Atoi(v)
		want = append(want, fmt.Sprintf("%d_%s", n, rest))
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}

// TestEventTimeNanoseconds checks what the conformance suite cannot ask of
// PostgreSQL: SQLite keeps event times to the nanosecond.
func TestEventTimeNanoseconds(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Sales"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateVisitor(ctx, &parley.Visitor{ID: "v1", TenantID: parley.DefaultTenantID}); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{ID: "c1", TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: "v1"}
	times := []time.Time{
		time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC),
		time.Date(2026, 11, 21, 12, 0, 0, 1, time.FixedZone("x", -3600)),
		time.Date(2026, 11, 21, 12, 0, 1, 0, time.UTC),
		time.Now(), // with a monotonic reading
	}
	var in []parley.Event
	for _, at := range times {
		in = append(in, parley.Event{Type: parley.EventMessage, At: at})
	}
	if _, err := s.CreateChat(ctx, c, in); err != nil {
		t.Fatal(err)
	}
	es, err := s.Events(ctx, "c1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if !e.At.Equal(times[i]) || e.At.Location() != time.UTC {
			t.Errorf("event %d At = %v, want %v in UTC", e.Seq, e.At, times[i])
		}
	}
}
