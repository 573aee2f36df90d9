package sqlite

import (
	"context"
	"fmt"
	"time"
)

// Deleted rows must not linger in the file: the write connection runs
// with secure_delete, so SQLite overwrites deleted content and freed
// pages with zeros, and Scrub merges the text index (dropping the entries
// of deleted rows) and empties the WAL, whose older frames still hold the
// pages as they were before the delete. Retention's queries are shared
// (package sqlstore); the text index's tables are named in the Dialect.

// Scrub merges the text index and empties the WAL into the database.
func (s *Store) Scrub(ctx context.Context) error {
	// optimize merges every segment of the index into one, leaving out the
	// entries of deleted rows; the old segments' pages are freed, and so
	// zeroed.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events_text (events_text) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("sqlite: merge text index: %w", err)
	}
	// A TRUNCATE checkpoint copies every frame into the database, waiting
	// (busy_timeout) for readers of older snapshots, and truncates the WAL
	// to nothing. Under load a reader may outlast the wait: try again.
	var last walState
	for range 20 {
		w, err := checkpoint(ctx, s.db, "TRUNCATE")
		if err != nil {
			return err
		}
		if w.busy == 0 {
			return nil
		}
		last = w
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("sqlite: scrub: the WAL could not be emptied (%d of %d frames copied)", last.copied, last.log)
}
