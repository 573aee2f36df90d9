package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parleychat/parley"
)

// testConcurrentAppendManyChats appends from 16 goroutines, each sending
// to every one of 12 chats in turn, with appends to a missing chat and
// appends refused for bad data mixed in: a store that commits concurrent
// appends together must still give each chat the log 1..N in the order
// its callers were answered, store every append that succeeded exactly
// once, and fail only the appends that were wrong.
func testConcurrentAppendManyChats(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	const chats, workers, rounds = 12, 16, 10
	for c := range chats {
		f.create(t, f.chat(fmt.Sprintf("chat-%02d", c), at(c)))
	}
	type sent struct {
		chatID string
		out    []parley.Event
	}
	results := make([][]sent, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				chatID := fmt.Sprintf("chat-%02d", (w+r)%chats)
				switch (w + r) % 7 {
				case 3:
					_, err := s.AppendEvents(ctx, "ghost", []parley.Event{message("lost", r)})
					if parley.ErrorCode(err) != parley.ENOTFOUND {
						t.Errorf("worker %d: append to a missing chat: %v, want ENOTFOUND", w, err)
					}
				case 5:
					bad := parley.Event{Type: parley.EventSignal, Signal: []byte(`{"broken":`)}
					_, err := s.AppendEvents(ctx, chatID, []parley.Event{message("refused", r), bad})
					if parley.ErrorCode(err) != parley.EINVALID {
						t.Errorf("worker %d: append of bad data: %v, want EINVALID", w, err)
					}
				}
				batch := []parley.Event{message(fmt.Sprintf("w%d-r%d-a", w, r), r)}
				if r%2 == 1 {
					batch = append(batch, message(fmt.Sprintf("w%d-r%d-b", w, r), r))
				}
				batch[0].ClientID = fmt.Sprintf("w%d-r%d", w, r)
				out, err := s.AppendEvents(ctx, chatID, batch)
				if err != nil {
					t.Errorf("worker %d, round %d: %v", w, r, err)
					return
				}
				results[w] = append(results[w], sent{chatID, out})
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	want := map[string]map[int64]string{} // chat → seq → text
	for w, rs := range results {
		prev := map[string]int64{}
		for _, r := range rs {
			for j, e := range r.out {
				if e.ChatID != r.chatID {
					t.Errorf("worker %d: event for %s came back for %s", w, r.chatID, e.ChatID)
				}
				if e.Seq != r.out[0].Seq+int64(j) {
					t.Errorf("worker %d: one append got seqs %v, want consecutive ones", w, seqs(r.out))
				}
				if e.Seq <= prev[r.chatID] {
					t.Errorf("worker %d: seq %d of %s after %d", w, e.Seq, r.chatID, prev[r.chatID])
				}
				prev[r.chatID] = e.Seq
				if want[r.chatID] == nil {
					want[r.chatID] = map[int64]string{}
				}
				if other, ok := want[r.chatID][e.Seq]; ok {
					t.Errorf("%s seq %d given to both %q and %q", r.chatID, e.Seq, other, e.Text)
				}
				want[r.chatID][e.Seq] = e.Text
			}
		}
	}
	var total int
	for c := range chats {
		chatID := fmt.Sprintf("chat-%02d", c)
		log := events(t, s, chatID)
		total += len(log)
		equal(t, chatID+" seqs", seqs(log), span(1, int64(len(want[chatID]))))
		for _, e := range log {
			if e.Text != want[chatID][e.Seq] {
				t.Errorf("%s has %q at seq %d, AppendEvents returned %q", chatID, e.Text, e.Seq, want[chatID][e.Seq])
			}
		}
		if got := loadChat(t, s, chatID); got.LastSeq != int64(len(log)) {
			t.Errorf("%s: last seq %d, log has %d events", chatID, got.LastSeq, len(log))
		}
	}
	if wantTotal := workers * rounds * 3 / 2; total != wantTotal {
		t.Errorf("%d events stored, want %d", total, wantTotal)
	}
}

// testConcurrentRetryManyChats sends each keyed message twice at once to
// each of 8 chats: every chat stores one copy and both senders get it.
func testConcurrentRetryManyChats(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	const chats = 8
	got := make([][2]parley.Event, chats)
	var wg sync.WaitGroup
	for c := range chats {
		chatID := fmt.Sprintf("chat-%d", c)
		f.create(t, f.chat(chatID, at(c)))
		for copy := range 2 {
			wg.Go(func() {
				e := message(fmt.Sprintf("copy %d", copy), 1)
				e.ClientID = "same"
				out, err := s.AppendEvents(ctx, chatID, []parley.Event{e})
				if err != nil {
					t.Errorf("%s copy %d: %v", chatID, copy, err)
					return
				}
				got[c][copy] = out[0]
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for c := range chats {
		log := events(t, s, fmt.Sprintf("chat-%d", c))
		if len(log) != 1 {
			t.Fatalf("chat-%d has %d events, want one copy: %s", c, len(log), show(log))
		}
		for copy := range 2 {
			equal(t, fmt.Sprintf("chat-%d copy %d", c, copy), normEvents(got[c][copy:copy+1]), normEvents(log))
		}
	}
}
