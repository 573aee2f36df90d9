package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

const chatColumns = `id, tenant_id, group_id, visitor_id, state, cause, session_id, agent_id,
	offered_to, priority, idle_timeout_ms, last_seq, version, created_at, queued_at, accepted_at, ended_at, transfer_note`

func scanChat(sc scanner) (*parley.Chat, error) {
	var c parley.Chat
	var agentID, offeredTo sql.NullInt64
	var idleMS int64
	var queued, accepted, ended sql.NullTime
	err := sc.Scan(&c.ID, &c.TenantID, &c.GroupID, &c.VisitorID, &c.State, &c.Cause, &c.SessionID,
		&agentID, &offeredTo, &c.Priority, &idleMS, &c.LastSeq, &c.Version, &c.CreatedAt,
		&queued, &accepted, &ended, &c.TransferNote)
	if err != nil {
		return nil, err
	}
	c.AgentID, c.OfferedTo = agentID.Int64, offeredTo.Int64
	c.IdleTimeout = time.Duration(idleMS) * time.Millisecond
	c.CreatedAt = c.CreatedAt.UTC()
	c.QueuedAt, c.AcceptedAt, c.EndedAt = timeOf(queued), timeOf(accepted), timeOf(ended)
	c.Participants = []parley.Participant{}
	return &c, nil
}

const chatMissing = "the chat's tenant, group, visitor or agent does not exist"

// CreateChat stores c (c.ID set) with its participants and first events in
// one transaction; see parley.Store. It also sets c.CreatedAt unless set.
// IdleTimeout is kept in milliseconds.
func (s *Store) CreateChat(ctx context.Context, c *parley.Chat, events []parley.Event) ([]parley.Event, error) {
	if c.ID == "" {
		return nil, parley.Errorf(parley.EINVALID, "chat id is required")
	}
	if err := checkEvents(c.ID, events); err != nil {
		return nil, err
	}
	created := s.stamp(c.CreatedAt)
	var out []parley.Event
	var last int64
	err := s.write(ctx, "create chat", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO chats (`+chatColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 1, $12, $13, $14, $15, $16)`,
			c.ID, c.TenantID, c.GroupID, c.VisitorID, c.State, c.Cause, c.SessionID,
			nullInt(c.AgentID), nullInt(c.OfferedTo), c.Priority, c.IdleTimeout.Milliseconds(),
			created, nullTime(c.QueuedAt), nullTime(c.AcceptedAt), nullTime(c.EndedAt), c.TransferNote)
		if err != nil {
			return dbError(err, "insert chat", "a chat with this ID already exists", chatMissing)
		}
		if err := insertParticipants(ctx, tx, c.ID, c.Participants); err != nil {
			return err
		}
		out, last, err = s.appendEvents(ctx, tx, c.ID, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.Version, c.LastSeq = created, 1, last
	return out, nil
}

// UpdateChat replaces the chat record c.ID if its stored version is still
// c.Version, replaces its participants and appends events, in one
// transaction; see parley.Store. The tenant and creation time are not
// changed.
func (s *Store) UpdateChat(ctx context.Context, c *parley.Chat, events []parley.Event) ([]parley.Event, error) {
	if err := checkEvents(c.ID, events); err != nil {
		return nil, err
	}
	var out []parley.Event
	var version, last int64
	err := s.write(ctx, "update chat", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE chats SET group_id = $3, visitor_id = $4, state = $5,
			cause = $6, session_id = $7, agent_id = $8, offered_to = $9, priority = $10,
			idle_timeout_ms = $11, queued_at = $12, accepted_at = $13, ended_at = $14,
			transfer_note = $15, version = version + 1
			WHERE id = $1 AND version = $2 RETURNING version`,
			c.ID, c.Version, c.GroupID, c.VisitorID, c.State, c.Cause, c.SessionID,
			nullInt(c.AgentID), nullInt(c.OfferedTo), c.Priority, c.IdleTimeout.Milliseconds(),
			nullTime(c.QueuedAt), nullTime(c.AcceptedAt), nullTime(c.EndedAt), c.TransferNote).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			// Nothing matched: tell a missing chat from a stale version.
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM chats WHERE id = $1`, c.ID).Scan(&one); err != nil {
				return notFound(err, "select chat", "chat not found")
			}
			return parley.Errorf(parley.ECONFLICT, "the chat was changed by someone else")
		}
		if err != nil {
			return dbError(err, "update chat", "", chatMissing)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chat_participants WHERE chat_id = $1`, c.ID); err != nil {
			return fmt.Errorf("postgres: delete participants: %w", err)
		}
		if err := insertParticipants(ctx, tx, c.ID, c.Participants); err != nil {
			return err
		}
		out, last, err = s.appendEvents(ctx, tx, c.ID, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Version, c.LastSeq = version, last
	return out, nil
}

func insertParticipants(ctx context.Context, tx *sql.Tx, chatID string, ps []parley.Participant) error {
	for i, p := range ps {
		_, err := tx.ExecContext(ctx, `INSERT INTO chat_participants
			(chat_id, idx, kind, agent_id, name, joined_at, left_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			chatID, i, p.Kind, p.AgentID, p.Name, p.JoinedAt.UTC(), nullTime(p.LeftAt))
		if err != nil {
			return fmt.Errorf("postgres: insert participant: %w", err)
		}
	}
	return nil
}

// Chat returns the chat id with its participants.
func (s *Store) Chat(ctx context.Context, id string) (*parley.Chat, error) {
	var c *parley.Chat
	err := s.read(ctx, "chat", func(tx *sql.Tx) error {
		var err error
		c, err = scanChat(tx.QueryRowContext(ctx, `SELECT `+chatColumns+` FROM chats WHERE id = $1`, id))
		if err != nil {
			return notFound(err, "select chat", "chat not found")
		}
		return loadParticipants(ctx, tx, []*parley.Chat{c})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Chats lists the chats matching f with their participants, oldest first
// (by creation time, then ID).
func (s *Store) Chats(ctx context.Context, f parley.ChatFilter) ([]*parley.Chat, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.TenantID != 0 {
		add("tenant_id = $%d", f.TenantID)
	}
	if f.VisitorID != "" {
		add("visitor_id = $%d", f.VisitorID)
	}
	if f.AgentID != 0 {
		add("agent_id = $%d", f.AgentID)
	}
	if f.ActiveOnly {
		// A literal, not a parameter, so that the partial index chats_active
		// applies.
		where = append(where, fmt.Sprintf("state <> %d", parley.StateTerminated))
	}
	query := `SELECT ` + chatColumns + ` FROM chats`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at, id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}

	cs := []*parley.Chat{}
	err := s.read(ctx, "chats", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("postgres: select chats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChat(rows)
			if err != nil {
				return fmt.Errorf("postgres: scan chat: %w", err)
			}
			cs = append(cs, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: select chats: %w", err)
		}
		return loadParticipants(ctx, tx, cs)
	})
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// participantBatch bounds the IDs per IN list, far below PostgreSQL's
// limit of 65535 parameters.
const participantBatch = 500

// loadParticipants fills in the participants of cs, in their stored order.
func loadParticipants(ctx context.Context, q querier, cs []*parley.Chat) error {
	byID := make(map[string]*parley.Chat, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	for start := 0; start < len(cs); start += participantBatch {
		batch := cs[start:min(start+participantBatch, len(cs))]
		marks := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, c := range batch {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args[i] = c.ID
		}
		rows, err := q.QueryContext(ctx, `SELECT chat_id, kind, agent_id, name, joined_at, left_at
			FROM chat_participants WHERE chat_id IN (`+strings.Join(marks, ", ")+`) ORDER BY chat_id, idx`, args...)
		if err != nil {
			return fmt.Errorf("postgres: select participants: %w", err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var chatID string
				var p parley.Participant
				var left sql.NullTime
				if err := rows.Scan(&chatID, &p.Kind, &p.AgentID, &p.Name, &p.JoinedAt, &left); err != nil {
					return fmt.Errorf("postgres: scan participant: %w", err)
				}
				p.JoinedAt, p.LeftAt = p.JoinedAt.UTC(), timeOf(left)
				if c := byID[chatID]; c != nil {
					c.Participants = append(c.Participants, p)
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return fmt.Errorf("postgres: select participants: %w", err)
		}
	}
	return nil
}
