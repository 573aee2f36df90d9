package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

// ReadPosition returns how far reader has read the chat's log, 0 when
// nothing is stored.
func (s *Store) ReadPosition(ctx context.Context, chatID, reader string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT seq FROM read_positions WHERE chat_id = $1 AND reader = $2`, chatID, reader).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: select read position: %w", err)
	}
	return seq, nil
}

// SavePosition raises reader's position in the chat to seq; a lower one
// changes nothing.
func (s *Store) SavePosition(ctx context.Context, chatID, reader string, seq int64) error {
	if reader == "" || seq < 0 {
		return parley.Errorf(parley.EINVALID, "a read position needs a reader and a seq of 0 or more")
	}
	// The commit does not wait for the WAL to reach the disk: it is
	// visible to every node at once, and a position lost to a crash of
	// the database only gives a client events again, never fewer.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: save read position: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
		return fmt.Errorf("postgres: save read position: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO read_positions AS p (chat_id, reader, seq) VALUES ($1, $2, $3)
		ON CONFLICT (chat_id, reader) DO UPDATE SET seq = EXCLUDED.seq WHERE p.seq < EXCLUDED.seq`, chatID, reader, seq)
	if err != nil {
		return dbError(err, "save read position", "", "the chat does not exist")
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: save read position: %w", err)
	}
	return nil
}
