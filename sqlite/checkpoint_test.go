package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parleychat/parley"
)

// TestCheckpointRestartsWAL checkpoints while appends and reads go on
// without a pause: the WAL must still start over from its beginning.
func TestCheckpointRestartsWAL(t *testing.T) {
	ctx := t.Context()
	s := newTestChats(t, filepath.Join(t.TempDir(), "p.db"), Options{noIndexer: true, noCheckpointer: true}, 4)
	s.restartFrames = 50
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.AppendEvents(ctx, fmt.Sprintf("chat-%d", w), []parley.Event{{Type: parley.EventMessage,
					From: parley.Party{Kind: parley.PartyVisitor}, Text: fmt.Sprintf("message %d of writer %d", i, w)}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := range 4 {
		wg.Go(func() { // readers keep the read pool busy, as sessions do
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Events(ctx, fmt.Sprintf("chat-%d", r), 0, 20); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()

	var peak int
	restarted := false
	waitFor(t, "the WAL to restart", func() bool {
		w, err := s.checkpointOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if w.log < peak && peak >= s.restartFrames {
			restarted = true
		}
		peak = max(peak, w.log)
		return restarted
	})
}
