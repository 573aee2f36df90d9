package sqlite_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/sqlite"
)

// archiveBenchChats and archiveBenchMessages size the archive the search
// benchmarks run on: 50,000 message events.
const (
	archiveBenchChats    = 2000
	archiveBenchMessages = 25
)

var benchWords = strings.Fields(`order invoice delivery refund account password login shipping parcel
	voucher discount payment card bank transfer address phone email newsletter subscription cancel
	upgrade plan price contract warranty repair broken screen battery charger cable update app`)

// archiveBenchStore fills a store with chats of random messages; the word
// "zebracorn" appears in one chat only.
func archiveBenchStore(b *testing.B) (*sqlite.Store, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := sqlite.Open(b.Context(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := b.Context()
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	if err := s.CreateGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range archiveBenchChats {
		v := &parley.Visitor{ID: fmt.Sprintf("v%05d", i), TenantID: parley.DefaultTenantID,
			Name: fmt.Sprintf("Visitor %d", i), Email: fmt.Sprintf("v%d@example.com", i)}
		if err := s.CreateVisitor(ctx, v); err != nil {
			b.Fatal(err)
		}
		created := start.Add(time.Duration(i) * time.Minute)
		c := &parley.Chat{ID: fmt.Sprintf("chat-%05d", i), TenantID: parley.DefaultTenantID, GroupID: g.ID,
			VisitorID: v.ID, State: parley.StateTerminated, Cause: parley.CauseAgentEnded,
			CreatedAt: created, QueuedAt: created, EndedAt: created.Add(10 * time.Minute)}
		events := make([]parley.Event, archiveBenchMessages)
		for j := range events {
			words := make([]string, 8+rng.IntN(12))
			for k := range words {
				words[k] = benchWords[rng.IntN(len(benchWords))]
			}
			if i == archiveBenchChats/2 && j == 3 {
				words[2] = "zebracorn"
			}
			events[j] = parley.Event{Type: parley.EventMessage, At: created.Add(time.Duration(j) * time.Second),
				From: parley.Party{Kind: parley.PartyVisitor}, Text: strings.Join(words, " ")}
		}
		if _, err := s.CreateChat(ctx, c, events); err != nil {
			b.Fatal(err)
		}
	}
	return s, path
}

// BenchmarkArchiveSearch measures the archive's text search (LIKE over
// the events), against an FTS5 trigram index over the same events for
// comparison.
func BenchmarkArchiveSearch(b *testing.B) {
	s, path := archiveBenchStore(b)
	for _, tc := range []struct{ name, text string }{
		{"rare", "zebracorn"},
		{"common", "refund"},
	} {
		b.Run("like/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchChats(b.Context(), parley.ArchiveQuery{TenantID: parley.DefaultTenantID, Text: tc.text, Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("like/customer", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SearchChats(b.Context(), parley.ArchiveQuery{TenantID: parley.DefaultTenantID, Customer: "v1234@", Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nofilter", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SearchChats(b.Context(), parley.ArchiveQuery{TenantID: parley.DefaultTenantID, Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})

	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE events_fts USING fts5(text, chat_id UNINDEXED, tokenize = 'trigram')`); err != nil {
		b.Skipf("no FTS5: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO events_fts (text, chat_id) SELECT text, chat_id FROM events WHERE type = 'message'`); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, text string }{
		{"rare", "zebracorn"},
		{"common", "refund"},
	} {
		b.Run("fts5/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(`SELECT c.id FROM chats c WHERE c.tenant_id = -1 AND c.id IN
					(SELECT chat_id FROM events_fts WHERE events_fts MATCH $1)
					ORDER BY c.created_at DESC, c.id DESC LIMIT 51`, `"`+tc.text+`"`)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
		})
	}
}
