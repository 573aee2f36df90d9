package sqlite

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
	err := s.rdb.QueryRowContext(ctx, `SELECT seq FROM read_positions WHERE chat_id = $1 AND reader = $2`, chatID, reader).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: select read position: %w", err)
	}
	return seq, nil
}

// SavePosition raises reader's position in the chat to seq; a lower one
// changes nothing.
func (s *Store) SavePosition(ctx context.Context, chatID, reader string, seq int64) error {
	if reader == "" || seq < 0 {
		return parley.Errorf(parley.EINVALID, "a read position needs a reader and a seq of 0 or more")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO read_positions AS p (chat_id, reader, seq) VALUES ($1, $2, $3)
		ON CONFLICT (chat_id, reader) DO UPDATE SET seq = EXCLUDED.seq WHERE p.seq < EXCLUDED.seq`, chatID, reader, seq)
	if err != nil {
		return dbError(err, "save read position", "", "the chat does not exist")
	}
	return nil
}
