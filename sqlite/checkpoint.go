package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// WAL checkpoints run off the write path. The write connection has
// SQLite's automatic checkpoint turned off (wal_autocheckpoint(0)): left
// on, the commit that crosses 1,000 WAL pages copies them all into the
// database and syncs it while every append waits.
//
// Instead a goroutine with a connection of its own runs a PASSIVE
// checkpoint every checkpointEvery: it copies what was committed since the
// last one while the writer goes on committing. That alone never lets
// the WAL start over (an earlier attempt grew it to 1.2 GB in 23 s): the
// WAL restarts from its beginning only at a write that finds every frame
// copied, and under steady writes new frames always arrive while a
// concurrent checkpoint runs. So once the WAL has grown past
// restartFrames, the goroutine runs one more PASSIVE checkpoint on the
// write connection itself, between two transactions: it has only the
// frames of the last moments left to copy, and the next write finds the
// WAL fully copied and restarts it (if no reader still uses an old
// snapshot; otherwise the next round tries again).
const (
	checkpointEvery = 250 * time.Millisecond
	// restartFrames is the WAL size, in pages, beyond which the WAL is
	// made to start over: 4,000 pages of 4 KiB are 16 MiB.
	restartFrames = 4000
)

// walState is what PRAGMA wal_checkpoint reports.
type walState struct {
	busy, log, copied int
}

func checkpoint(ctx context.Context, db *sql.DB) (walState, error) {
	var w walState
	err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&w.busy, &w.log, &w.copied)
	if err != nil {
		return w, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return w, nil
}

// checkpointOnce runs one round: a concurrent checkpoint, and when the WAL
// is long, the short one on the write connection that lets it restart.
func (s *Store) checkpointOnce(ctx context.Context) (walState, error) {
	w, err := checkpoint(ctx, s.cdb)
	if err != nil || w.log < s.restartFrames {
		return w, err
	}
	return checkpoint(ctx, s.db)
}

// startCheckpointer starts the checkpoint goroutine; it stops when s.bg
// ends.
func (s *Store) startCheckpointer(log *slog.Logger) {
	done := make(chan struct{})
	s.checkpointerDone = done
	go func() {
		defer close(done)
		tick := time.NewTicker(checkpointEvery)
		defer tick.Stop()
		for {
			select {
			case <-s.bg.Done():
				return
			case <-tick.C:
			}
			if _, err := s.checkpointOnce(s.bg); err != nil && s.bg.Err() == nil {
				log.Error("sqlite: WAL checkpoint; retried later", "err", err)
			}
		}
	}()
}
