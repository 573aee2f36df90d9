package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// The archive's trigram index (events_text) is fed after the commit: a
// message's transaction only adds its key to events_text_backlog (a
// trigger, migration 0009), and the indexer moves the backlog into the
// index in batches. The backlog is committed with the message, so a crash
// loses nothing: Open starts by indexing whatever lags. Searches scan the
// backlog (see textCandidates), so results never depend on the lag.
const (
	// indexBatch bounds the messages one indexing transaction carries.
	indexBatch = 2000
	// indexDelay lets the messages of many commits gather before they are
	// indexed together: FTS5 flushes and merges segments per transaction.
	indexDelay = 200 * time.Millisecond
	// indexEvery is the period of a catch-up run without any wake-up.
	indexEvery = 30 * time.Second
)

// textIndexer wakes the indexing goroutine.
type textIndexer struct {
	wake chan struct{} // buffered: one pending wake-up is enough
	done chan struct{} // closed when the goroutine has returned
}

// notify tells the indexer that messages were committed. It never blocks.
func (ix *textIndexer) notify() {
	if ix == nil {
		return
	}
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// startIndexer starts the goroutine that indexes the backlog, first at
// once and then after commits and periodically, until s.bg ends.
func (s *Store) startIndexer(log *slog.Logger) {
	ix := &textIndexer{wake: make(chan struct{}, 1), done: make(chan struct{})}
	ix.wake <- struct{}{} // catch up with what the last run left behind
	s.indexer = ix
	go func() {
		defer close(ix.done)
		tick := time.NewTicker(indexEvery)
		defer tick.Stop()
		for {
			select {
			case <-s.bg.Done():
				return
			case <-ix.wake:
				delay := time.NewTimer(indexDelay)
				select {
				case <-s.bg.Done():
					delay.Stop()
					return
				case <-delay.C:
				}
			case <-tick.C:
			}
			if err := s.indexText(s.bg); err != nil && s.bg.Err() == nil {
				log.Error("sqlite: index message text; retried later", "err", err)
			}
		}
	}()
}

// indexText moves the whole backlog into the text index, indexBatch
// messages per transaction.
func (s *Store) indexText(ctx context.Context) error {
	for {
		n, err := s.indexTextBatch(ctx)
		if err != nil || n < indexBatch {
			return err
		}
	}
}

// indexInCommit indexes the messages of tx in tx, as the store did before
// the index was fed after the commit; only measurements ask for it
// (Options.oldWritePath).
func (s *Store) indexInCommit(ctx context.Context, tx *sql.Tx) error {
	if !s.oldWritePath {
		return nil
	}
	_, err := indexBacklog(ctx, tx, 1<<62)
	return err
}

// indexTextBatch indexes the oldest indexBatch messages of the backlog and
// deletes them from it in one transaction, and returns how many it took.
// A message whose event no longer exists (its chat was deleted) is
// dropped from the backlog without indexing.
func (s *Store) indexTextBatch(ctx context.Context) (int, error) {
	var n int
	err := s.write(ctx, "index text", func(tx *sql.Tx) error {
		var err error
		n, err = indexBacklog(ctx, tx, indexBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// indexBacklog moves the oldest limit messages of the backlog into the
// index in tx and returns how many it took.
func indexBacklog(ctx context.Context, tx *sql.Tx, limit int) (int, error) {
	var upTo sql.NullInt64
	var n int
	err := tx.QueryRowContext(ctx, `SELECT max(id), count(*) FROM
		(SELECT id FROM events_text_backlog ORDER BY id LIMIT $1)`, limit).Scan(&upTo, &n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: read text backlog: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events_text (text, chat_id)
		SELECT e.text, e.chat_id FROM events_text_backlog b
		JOIN events e ON e.chat_id = b.chat_id AND e.seq = b.seq
		WHERE b.id <= $1 ORDER BY b.id`, upTo.Int64)
	if err != nil {
		return 0, fmt.Errorf("sqlite: index text: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events_text_backlog WHERE id <= $1`, upTo.Int64); err != nil {
		return 0, fmt.Errorf("sqlite: trim text backlog: %w", err)
	}
	return n, nil
}
