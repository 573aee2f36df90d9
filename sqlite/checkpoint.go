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
// checkpoint shortly after writes: it copies what was committed since the
// last one while the writer goes on committing. That alone never lets
// the WAL start over (an earlier attempt grew it to 1.2 GB in 23 s): the
// WAL restarts from its beginning only at a write that finds every frame
// copied and no reader using it, and under steady writes and reads
// neither holds for long. So once the WAL has grown past restartFrames,
// the goroutine runs a RESTART checkpoint on the write connection itself,
// between two transactions: it has only the frames of the last moments
// left to copy, waits (busy_timeout) for the readers of older snapshots
// to finish, which takes milliseconds, and leaves the WAL to restart at
// the next write. Only that checkpoint holds up appends, once per
// restartFrames pages.
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

func checkpoint(ctx context.Context, db *sql.DB, mode string) (walState, error) {
	var w walState
	err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&w.busy, &w.log, &w.copied)
	if err != nil {
		return w, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return w, nil
}

// checkpointOnce runs one round: a concurrent checkpoint, and when the WAL
// is long, the short one on the write connection that lets it restart.
func (s *Store) checkpointOnce(ctx context.Context) (walState, error) {
	w, err := checkpoint(ctx, s.cdb, "PASSIVE")
	if err != nil || w.log < s.restartFrames {
		return w, err
	}
	return checkpoint(ctx, s.db, "RESTART")
}

// wroteWAL tells the checkpointer that a transaction committed. It never
// blocks.
func (s *Store) wroteWAL() {
	select {
	case s.checkpointWake <- struct{}{}:
	default:
	}
}

// startCheckpointer starts the checkpoint goroutine; it stops when s.bg
// ends. It runs checkpointEvery after a commit, so an idle store does
// nothing.
func (s *Store) startCheckpointer(log *slog.Logger) {
	done := make(chan struct{})
	s.checkpointerDone = done
	go func() {
		defer close(done)
		for {
			select {
			case <-s.bg.Done():
				return
			case <-s.checkpointWake:
			}
			delay := time.NewTimer(checkpointEvery)
			select {
			case <-s.bg.Done():
				delay.Stop()
				return
			case <-delay.C:
			}
			if _, err := s.checkpointOnce(s.bg); err != nil && s.bg.Err() == nil {
				log.Error("sqlite: WAL checkpoint; retried later", "err", err)
			}
		}
	}()
}
