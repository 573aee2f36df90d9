package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

const outboxColumns = `id, tenant_id, COALESCE(key, ''), chat_id, message_id, from_addr, to_addr, subject,
	text_body, html_body, status, attempts, next_attempt, last_error, created_at, sent_at`

func scanMail(sc scanner) (*parley.OutboxMail, error) {
	var m parley.OutboxMail
	var sent sql.NullTime
	if err := sc.Scan(&m.ID, &m.TenantID, &m.Key, &m.ChatID, &m.MessageID, &m.From, &m.To, &m.Subject,
		&m.Text, &m.HTML, &m.Status, &m.Attempts, &m.NextAttempt, &m.LastError, &m.CreatedAt, &sent); err != nil {
		return nil, err
	}
	m.NextAttempt, m.CreatedAt, m.SentAt = m.NextAttempt.UTC(), m.CreatedAt.UTC(), TimeOf(sent)
	return &m, nil
}

// EnqueueMail stores m as pending unless a mail with its key exists.
func (s *Tables) EnqueueMail(ctx context.Context, m *parley.OutboxMail) (bool, error) {
	created := s.stamp(m.CreatedAt)
	next := m.NextAttempt
	if next.IsZero() {
		next = created
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO outbox (tenant_id, key, chat_id, message_id, from_addr,
		to_addr, subject, text_body, html_body, status, attempts, next_attempt, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12)
		ON CONFLICT (key) DO NOTHING RETURNING id`,
		m.TenantID, NullString(m.Key), m.ChatID, m.MessageID, m.From, m.To, m.Subject, m.Text, m.HTML,
		parley.MailPending, next.UTC(), created).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		stored, err := scanMail(s.db.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE key = $1`, m.Key))
		if err != nil {
			return false, s.wrap("select mail by key", err)
		}
		*m = *stored
		return false, nil
	} else if err != nil {
		return false, s.dbError(err, "insert mail", "", fmt.Sprintf("tenant %d does not exist", m.TenantID))
	}
	m.ID, m.CreatedAt, m.NextAttempt, m.Status, m.Attempts = id, created, next.UTC(), parley.MailPending, 0
	return true, nil
}

// ClaimMail takes due pending mails in one write transaction, so two
// senders never claim the same mail: SQLite has one writer, and on
// PostgreSQL the rows taken are locked and those another sender (of any
// node) is taking are skipped.
func (s *Tables) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*parley.OutboxMail, error) {
	var out []*parley.OutboxMail
	err := s.write(ctx, "claim mail", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = $1
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt <= $2
				ORDER BY next_attempt, id LIMIT $3`+s.claimLock+`)
			RETURNING `+outboxColumns, now.Add(lease).UTC(), now.UTC(), limit)
		if err != nil {
			return s.wrap("claim mail", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				return s.wrap("scan mail", err)
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// MarkMailSent records the delivery of mail id.
func (s *Tables) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	return s.markMail(ctx, id, `UPDATE outbox SET status = 'sent', sent_at = $2, last_error = '' WHERE id = $1`, at.UTC())
}

// MarkMailFailed records a failed attempt of mail id.
func (s *Tables) MarkMailFailed(ctx context.Context, id int64, next time.Time, reason string, final bool) error {
	status := parley.MailPending
	if final {
		status = parley.MailFailed
	}
	return s.markMail(ctx, id, `UPDATE outbox SET status = $2, next_attempt = $3, last_error = $4 WHERE id = $1`,
		status, next.UTC(), reason)
}

func (s *Tables) markMail(ctx context.Context, id int64, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, append([]any{id}, args...)...)
	if err != nil {
		return s.wrap("update mail", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "mail not found")
	}
	return nil
}

// Mail returns the outbox mail id.
func (s *Tables) Mail(ctx context.Context, id int64) (*parley.OutboxMail, error) {
	m, err := scanMail(s.rdb.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id))
	if err != nil {
		return nil, s.notFound(err, "select mail", "mail not found")
	}
	return m, nil
}
