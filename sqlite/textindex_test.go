package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/parleychat/parley"
)

// TestTextIndexCatchUp stores messages with the indexer off, as if the
// process died after the commits and before indexing them: searches still
// find them (from the backlog), and after a restart the index catches up
// and holds them.
func TestTextIndexCatchUp(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "p.db")
	s := newTestChats(t, path, Options{noIndexer: true}, 3)
	for i, text := range []string{"order 4711-zebracorn is late", "hello", "ZEBRACORN again"} {
		_, err := s.AppendEvents(ctx, "chat-"+string(rune('0'+i)), []parley.Event{{Type: parley.EventMessage,
			From: parley.Party{Kind: parley.PartyVisitor}, Text: text}})
		if err != nil {
			t.Fatal(err)
		}
	}
	indexed := func(s *Store) (n int) {
		t.Helper()
		err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM events_text WHERE events_text MATCH '"zebracorn"'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	backlog := func(s *Store) (n int) {
		t.Helper()
		if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM events_text_backlog`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	search := func(s *Store) []string {
		t.Helper()
		page, err := s.SearchChats(ctx, parley.ArchiveQuery{TenantID: parley.DefaultTenantID, Text: "zebraCORN"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range page.Chats {
			ids = append(ids, c.ID)
		}
		return ids
	}
	if n, b := indexed(s), backlog(s); n != 0 || b != 3 {
		t.Fatalf("before the restart: %d indexed, %d in the backlog; want 0 and 3", n, b)
	}
	if got := search(s); len(got) != 2 {
		t.Errorf("search before indexing found %v, want chat-2 and chat-0", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	waitFor(t, "the backlog to be indexed", func() bool { return backlog(s2) == 0 })
	if n := indexed(s2); n != 2 {
		t.Errorf("after the restart the index has %d zebracorn messages, want 2", n)
	}
	if got := search(s2); len(got) != 2 || got[0] != "chat-2" || got[1] != "chat-0" {
		t.Errorf("search after the restart found %v, want [chat-2 chat-0]", got)
	}
}
