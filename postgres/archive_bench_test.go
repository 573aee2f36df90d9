package postgres_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/pgtest"
	"github.com/parleychat/parley/postgres"
)

// The archive the search benchmarks run on has the shape of the SQLite
// store's (sqlite/archive_bench_test.go), so the figures compare: 2,000
// chats of 25 messages, 50,000 message events.
const (
	archiveBenchChats    = 2000
	archiveBenchMessages = 25
)

var benchWords = strings.Fields(`order invoice delivery refund account password login shipping parcel
	voucher discount payment card bank transfer address phone email newsletter subscription cancel
	upgrade plan price contract warranty repair broken screen battery charger cable update app`)

// archiveBenchStore fills a store with chats of random messages; the word
// "zebracorn" appears in one chat only.
func archiveBenchStore(b *testing.B) (*postgres.Store, string) {
	b.Helper()
	url := pgtest.URL(b)
	s, err := postgres.Open(b.Context(), url, postgres.Options{})
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
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// Statistics for the planner, as autovacuum would gather them soon
	// after a load like this one.
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return s, url
}

// BenchmarkArchiveSearch measures archive searches: text found in one
// chat (answered from the trigram index), text found in most chats (the
// newest chats are scanned), text shorter than a trigram, a customer and
// no filter. The like/ cases run the text condition without the index,
// for comparison.
func BenchmarkArchiveSearch(b *testing.B) {
	s, url := archiveBenchStore(b)
	search := func(name string, q parley.ArchiveQuery) {
		q.TenantID, q.Limit = parley.DefaultTenantID, 50
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchChats(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	search("text/rare", parley.ArchiveQuery{Text: "zebracorn"})
	search("text/common", parley.ArchiveQuery{Text: "refund"})
	search("text/short", parley.ArchiveQuery{Text: "up"})
	search("customer", parley.ArchiveQuery{Customer: "v1234@"})
	search("nofilter", parley.ArchiveQuery{})

	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ name, text string }{{"rare", "zebracorn"}, {"common", "refund"}} {
		b.Run("like/"+tc.name, func(b *testing.B) {
			ctx := b.Context()
			conn, err := db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, `SET enable_bitmapscan = off`); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				rows, err := conn.QueryContext(ctx, `SELECT c.id FROM chats c WHERE c.tenant_id = -1 AND EXISTS
					(SELECT 1 FROM events e WHERE e.chat_id = c.id AND e.type = 'message' AND lower(e.text) LIKE lower($1))
					ORDER BY c.created_at DESC, c.id DESC LIMIT 51`, "%"+tc.text+"%")
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
