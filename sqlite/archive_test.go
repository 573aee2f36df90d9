package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/sqlite"
)

// TestArchiveTextIndexPaths searches words found in few chats (answered
// from the trigram index), in many chats (too many candidates: the search
// scans instead) and words shorter than a trigram, and checks that every
// path returns the same matches in the same order.
func TestArchiveTextIndexPaths(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	v := &parley.Visitor{ID: "v", TenantID: parley.DefaultTenantID, Name: "V"}
	if err := s.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	const n = 700 // more than the index's candidate bound
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rare, all []string
	for i := range n {
		id := fmt.Sprintf("chat-%04d", i)
		text := "I want a REFUND please"
		if i%100 == 7 {
			text = "Mein Äpfel-Gutschein zebracorn ist weg"
			rare = append([]string{id}, rare...)
		}
		all = append([]string{id}, all...)
		c := &parley.Chat{ID: id, TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: v.ID,
			State: parley.StateTerminated, CreatedAt: start.Add(time.Duration(i) * time.Minute)}
		events := []parley.Event{{Type: parley.EventMessage, At: c.CreatedAt, From: parley.Party{Kind: parley.PartyVisitor}, Text: text},
			// Notices are not searched.
			{Type: parley.EventNotice, At: c.CreatedAt, From: parley.Party{Kind: parley.PartySystem}, Notice: "transferred", Text: "zebracorn notice"}}
		if _, err := s.CreateChat(ctx, c, events); err != nil {
			t.Fatal(err)
		}
	}
	search := func(text string, limit int) []string {
		t.Helper()
		var got []string
		q := parley.ArchiveQuery{TenantID: parley.DefaultTenantID, Text: text, Limit: limit}
		for {
			page, err := s.SearchChats(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Chats {
				got = append(got, c.ID)
			}
			if page.Next == "" {
				return got
			}
			q.Before = page.Next
		}
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d chats %v…; want %d", what, len(got), got[:min(3, len(got))], len(want))
		}
	}
	var common []string
	for _, id := range all {
		if !contains(rare, id) {
			common = append(common, id)
		}
	}
	// Searches give the same results whatever part of the messages the
	// index holds: first with the indexer's progress as it is (most of
	// the messages in the backlog), then with all of them indexed.
	for _, state := range []string{"as it is", "indexed"} {
		if state == "indexed" {
			if err := s.IndexText(ctx); err != nil {
				t.Fatal(err)
			}
		}
		t.Log("text index:", state)
		check("rare word", search("ZEBRAcorn", 3), rare)
		check("common word", search("refund", 250), common)
		check("common word, small pages", search("refund", 97), common)
		check("two letters", search("ab", 50), []string{})
		check("two letters that match", search("we", 300), rare)
		// lower() folds only ASCII: the index may offer a candidate that the
		// check then refuses, never the reverse.
		check("non-ASCII case", search("äpfel", 50), []string{})
		check("non-ASCII same case", search("Äpfel", 50), rare)
		check("quotes in the text", search(`"refund"`, 50), []string{})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
