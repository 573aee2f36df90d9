package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleychat/parley"
)

// CreateRating stores the rating of r.ChatID and sets r.CreatedAt.
func (s *Tables) CreateRating(ctx context.Context, r *parley.Rating) error {
	created := s.stamp(r.CreatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO chat_ratings (chat_id, score, comment, created_at)
		VALUES ($1, $2, $3, $4)`, r.ChatID, r.Score, r.Comment, created)
	if err != nil {
		return s.dbError(err, "insert rating", "this chat has been rated already", "the rated chat does not exist")
	}
	r.CreatedAt = created
	return nil
}

// Rating returns the rating of a chat.
func (s *Tables) Rating(ctx context.Context, chatID string) (*parley.Rating, error) {
	var r parley.Rating
	err := s.rdb.QueryRowContext(ctx, `SELECT chat_id, score, comment, created_at FROM chat_ratings WHERE chat_id = $1`, chatID).
		Scan(&r.ChatID, &r.Score, &r.Comment, &r.CreatedAt)
	if err != nil {
		return nil, s.notFound(err, "select rating", "the chat has no rating")
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// CreateOfflineMessage stores m and sets m.ID and m.CreatedAt.
func (s *Tables) CreateOfflineMessage(ctx context.Context, m *parley.OfflineMessage) error {
	created := s.stamp(m.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO offline_messages (tenant_id, group_id, name, email, message, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, m.TenantID, m.GroupID, m.Name, m.Email, m.Message, created).Scan(&m.ID)
	if err != nil {
		return s.dbError(err, "insert offline message", "", "the tenant or group does not exist")
	}
	m.CreatedAt = created
	return nil
}

// OfflineMessages lists a tenant's offline messages, newest first.
func (s *Tables) OfflineMessages(ctx context.Context, tenantID int64, groupIDs []int64, limit int) ([]*parley.OfflineMessage, error) {
	q := `SELECT id, tenant_id, group_id, name, email, message, created_at FROM offline_messages WHERE tenant_id = $1`
	args := []any{tenantID}
	if groupIDs != nil {
		if len(groupIDs) == 0 {
			return []*parley.OfflineMessage{}, nil
		}
		marks := make([]string, len(groupIDs))
		for i, g := range groupIDs {
			args = append(args, g)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		q += ` AND group_id IN (` + strings.Join(marks, ", ") + `)`
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if limit > 0 {
		args = append(args, limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("select offline messages", err)
	}
	defer rows.Close()
	out := []*parley.OfflineMessage{}
	for rows.Next() {
		var m parley.OfflineMessage
		if err := rows.Scan(&m.ID, &m.TenantID, &m.GroupID, &m.Name, &m.Email, &m.Message, &m.CreatedAt); err != nil {
			return nil, s.wrap("scan offline message", err)
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("select offline messages", err)
	}
	return out, nil
}

// Ratings returns the ratings of those of chatIDs that have one.
func (s *Tables) Ratings(ctx context.Context, chatIDs []string) (map[string]*parley.Rating, error) {
	out := map[string]*parley.Rating{}
	// In slices, so that a long list stays under the databases' parameter limits.
	for len(chatIDs) > 0 {
		n := min(len(chatIDs), 500)
		part := chatIDs[:n]
		chatIDs = chatIDs[n:]
		marks := make([]string, len(part))
		args := make([]any, len(part))
		for i, id := range part {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args[i] = id
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT chat_id, score, comment, created_at FROM chat_ratings
			WHERE chat_id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, s.wrap("select ratings", err)
		}
		for rows.Next() {
			var r parley.Rating
			if err := rows.Scan(&r.ChatID, &r.Score, &r.Comment, &r.CreatedAt); err != nil {
				rows.Close()
				return nil, s.wrap("scan rating", err)
			}
			r.CreatedAt = r.CreatedAt.UTC()
			out[r.ChatID] = &r
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.wrap("select ratings", err)
		}
	}
	return out, nil
}
