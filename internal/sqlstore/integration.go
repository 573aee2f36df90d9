package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// The integration API's records: API keys, bot-first groups, attached
// chat data, webhooks and their deliveries. These methods are outside
// parley.Store; conversation and webhook declare the interfaces they use.

// CreateAPIKey stores k and sets k.ID and k.CreatedAt.
func (s *Tables) CreateAPIKey(ctx context.Context, k *parley.APIKey) error {
	k.CreatedAt = s.stamp(k.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, k.TenantID, k.Name, k.Prefix, k.Hash, k.CreatedAt).Scan(&k.ID)
	return s.orDBError(err, "insert api key", "the key exists", fmt.Sprintf("tenant %d does not exist", k.TenantID))
}

const apiKeyColumns = `id, tenant_id, name, prefix, key_hash, created_at, revoked_at`

func scanAPIKey(sc scanner) (*parley.APIKey, error) {
	var k parley.APIKey
	var revoked sql.NullTime
	if err := sc.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = k.CreatedAt.UTC(), TimeOf(revoked)
	return &k, nil
}

// APIKeyByHash returns the key with the hash, revoked or not.
func (s *Tables) APIKeyByHash(ctx context.Context, hash []byte) (*parley.APIKey, error) {
	k, err := scanAPIKey(s.rdb.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENOTFOUND, "api key not found")
	}
	return k, s.orDBError(err, "select api key", "", "")
}

// APIKeys lists a tenant's keys by ID.
func (s *Tables) APIKeys(ctx context.Context, tenantID int64) ([]*parley.APIKey, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, s.wrap("list api keys", err)
	}
	defer rows.Close()
	out := []*parley.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.wrap("scan api key", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes key id of the tenant; revoking twice keeps the
// first time.
func (s *Tables) RevokeAPIKey(ctx context.Context, tenantID, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1)
		WHERE id = $2 AND tenant_id = $3`, at.UTC(), id, tenantID)
	if err != nil {
		return s.wrap("revoke api key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "api key %d not found", id)
	}
	return nil
}

// SetGroupBot makes the group bot first with the bot's name; "" ends it.
func (s *Tables) SetGroupBot(ctx context.Context, tenantID, groupID int64, name string) error {
	var err error
	if name == "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM group_bots WHERE group_id = $1 AND tenant_id = $2`, groupID, tenantID)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO group_bots (group_id, tenant_id, name) VALUES ($1, $2, $3)
			ON CONFLICT (group_id) DO UPDATE SET name = excluded.name`, groupID, tenantID, name)
	}
	return s.orDBError(err, "set group bot", "", fmt.Sprintf("group %d does not exist", groupID))
}

// GroupBot returns the name of the group's bot, "" when it has none.
func (s *Tables) GroupBot(ctx context.Context, groupID int64) (string, error) {
	var name string
	err := s.rdb.QueryRowContext(ctx, `SELECT name FROM group_bots WHERE group_id = $1`, groupID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, s.orDBError(err, "select group bot", "", "")
}

// SetChatData sets the chat's attached data: each key to its value, a
// key with an empty value removed, in one transaction.
func (s *Tables) SetChatData(ctx context.Context, chatID string, data map[string]string, at time.Time) error {
	return s.write(ctx, "set chat data", func(tx *sql.Tx) error {
		for k, v := range data {
			var err error
			if v == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM chat_data WHERE chat_id = $1 AND key = $2`, chatID, k)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO chat_data (chat_id, key, value, updated_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
					chatID, k, v, at.UTC())
			}
			if err != nil {
				return s.orDBError(err, "set chat data", "", fmt.Sprintf("chat %s does not exist", chatID))
			}
		}
		return nil
	})
}

// ChatData returns the chat's attached data.
func (s *Tables) ChatData(ctx context.Context, chatID string) (map[string]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT key, value FROM chat_data WHERE chat_id = $1`, chatID)
	if err != nil {
		return nil, s.wrap("select chat data", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.wrap("scan chat data", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// OfflineMessage returns one offline message.
func (s *Tables) OfflineMessage(ctx context.Context, id int64) (*parley.OfflineMessage, error) {
	var m parley.OfflineMessage
	err := s.rdb.QueryRowContext(ctx, `SELECT id, tenant_id, group_id, name, email, message, created_at
		FROM offline_messages WHERE id = $1`, id).Scan(&m.ID, &m.TenantID, &m.GroupID, &m.Name, &m.Email, &m.Message, &m.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENOTFOUND, "offline message not found")
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, s.orDBError(err, "select offline message", "", "")
}

const webhookColumns = `id, tenant_id, url, secret, events, created_at`

func scanWebhook(sc scanner) (*parley.Webhook, error) {
	var w parley.Webhook
	var events string
	if err := sc.Scan(&w.ID, &w.TenantID, &w.URL, &w.Secret, &events, &w.CreatedAt); err != nil {
		return nil, err
	}
	w.CreatedAt = w.CreatedAt.UTC()
	w.Events = []string{}
	if events != "" {
		w.Events = strings.Split(events, ",")
	}
	return &w, nil
}

// CreateWebhook stores w and sets w.ID and w.CreatedAt.
func (s *Tables) CreateWebhook(ctx context.Context, w *parley.Webhook) error {
	w.CreatedAt = s.stamp(w.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO webhooks (tenant_id, url, secret, events, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, w.TenantID, w.URL, w.Secret, strings.Join(w.Events, ","), w.CreatedAt).Scan(&w.ID)
	return s.orDBError(err, "insert webhook", "", fmt.Sprintf("tenant %d does not exist", w.TenantID))
}

// Webhooks lists the webhooks not deleted of a tenant (0: of all), by ID.
func (s *Tables) Webhooks(ctx context.Context, tenantID int64) ([]*parley.Webhook, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE deleted_at IS NULL AND ($1 = 0 OR tenant_id = $1) ORDER BY id`, tenantID)
	if err != nil {
		return nil, s.wrap("list webhooks", err)
	}
	defer rows.Close()
	out := []*parley.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, s.wrap("scan webhook", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Webhook returns a webhook, deleted or not.
func (s *Tables) Webhook(ctx context.Context, id int64) (*parley.Webhook, error) {
	w, err := scanWebhook(s.rdb.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENOTFOUND, "webhook not found")
	}
	return w, s.orDBError(err, "select webhook", "", "")
}

// DeleteWebhook stops webhook id of the tenant; its pending deliveries
// are given up.
func (s *Tables) DeleteWebhook(ctx context.Context, tenantID, id int64, at time.Time) error {
	return s.write(ctx, "delete webhook", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL`,
			at.UTC(), id, tenantID)
		if err != nil {
			return s.wrap("delete webhook", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.Errorf(parley.ENOTFOUND, "webhook %d not found", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deleted'
			WHERE webhook_id = $1 AND status = 'pending'`, id)
		return err
	})
}

// WebhookBacklog returns up to limit captured changes, oldest first.
func (s *Tables) WebhookBacklog(ctx context.Context, limit int) ([]parley.WebhookCapture, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, tenant_id, chat_id, seq, kind, ref, at FROM webhook_backlog
		ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, s.wrap("select webhook backlog", err)
	}
	defer rows.Close()
	var out []parley.WebhookCapture
	for rows.Next() {
		var c parley.WebhookCapture
		if err := rows.Scan(&c.ID, &c.TenantID, &c.ChatID, &c.Seq, &c.Kind, &c.Ref, &c.At); err != nil {
			return nil, s.wrap("scan webhook backlog", err)
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaptureDeliveries stores deliveries and deletes the backlog rows
// they were made from, in one transaction: each captured change becomes
// its deliveries exactly once.
func (s *Tables) CaptureDeliveries(ctx context.Context, done []int64, deliveries []*parley.WebhookDelivery) error {
	return s.write(ctx, "capture deliveries", func(tx *sql.Tx) error {
		for _, d := range deliveries {
			d.CreatedAt = s.stamp(d.CreatedAt)
			if d.NextAttempt.IsZero() {
				d.NextAttempt = d.CreatedAt
			}
			d.Status = parley.DeliveryPending
			err := tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, tenant_id, chat_id, order_key,
				event, payload, next_attempt, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
				d.WebhookID, d.TenantID, d.ChatID, d.OrderKey, d.Event, d.Payload, d.NextAttempt.UTC(), d.CreatedAt).Scan(&d.ID)
			if err != nil {
				return s.wrap("insert delivery", err)
			}
		}
		for _, id := range done {
			if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_backlog WHERE id = $1`, id); err != nil {
				return s.wrap("delete backlog", err)
			}
		}
		return nil
	})
}

const deliveryColumns = `id, webhook_id, tenant_id, chat_id, order_key, event, payload, status, attempts,
	next_attempt, last_error, last_status, created_at, delivered_at`

func scanDelivery(sc scanner) (*parley.WebhookDelivery, error) {
	var d parley.WebhookDelivery
	var delivered sql.NullTime
	if err := sc.Scan(&d.ID, &d.WebhookID, &d.TenantID, &d.ChatID, &d.OrderKey, &d.Event, &d.Payload, &d.Status,
		&d.Attempts, &d.NextAttempt, &d.LastError, &d.LastStatus, &d.CreatedAt, &delivered); err != nil {
		return nil, err
	}
	d.NextAttempt, d.CreatedAt, d.DeliveredAt = d.NextAttempt.UTC(), d.CreatedAt.UTC(), TimeOf(delivered)
	return &d, nil
}

// ClaimDeliveries takes up to limit due deliveries, each the oldest
// pending one of its chain (webhook and chat), so a chat's events go out
// in order and one at a time; each gets one more attempt and is hidden
// from other claims until now+lease or until its outcome is marked.
func (s *Tables) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*parley.WebhookDelivery, error) {
	var out []*parley.WebhookDelivery
	err := s.write(ctx, "claim deliveries", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, leased_until = $1
			WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt <= $2
				AND (d.leased_until IS NULL OR d.leased_until <= $2)
				AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id
					AND e.order_key = d.order_key AND e.status = 'pending' AND e.id < d.id)
				ORDER BY d.id LIMIT $3`+s.dlvLock+`)
			RETURNING `+deliveryColumns, now.Add(lease).UTC(), now.UTC(), limit)
		if err != nil {
			return s.wrap("claim deliveries", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return s.wrap("scan delivery", err)
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// ReleaseDeliveries ends every lease: the sender that held them is gone
// (one sender runs per store, and it calls this when it starts).
func (s *Tables) ReleaseDeliveries(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET leased_until = NULL
		WHERE status = 'pending' AND leased_until IS NOT NULL`)
	return s.orDBError(err, "release deliveries", "", "")
}

// MarkDelivered records that the receiver acknowledged delivery id.
func (s *Tables) MarkDelivered(ctx context.Context, id int64, status int, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1,
		last_status = $2, last_error = '', leased_until = NULL WHERE id = $3`, at.UTC(), status, id)
	return s.orDBError(err, "mark delivered", "", "")
}

// MarkDeliveryFailed records a failed attempt: due again at next, or
// given up when final.
func (s *Tables) MarkDeliveryFailed(ctx context.Context, id int64, next time.Time, status int, reason string, final bool) error {
	st := parley.DeliveryPending
	if final {
		st = parley.DeliveryFailed
	}
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, next_attempt = $2, last_status = $3,
		last_error = $4, leased_until = NULL WHERE id = $5 AND status = 'pending'`, st, next.UTC(), status, reason, id)
	return s.orDBError(err, "mark delivery failed", "", "")
}

// PruneDeliveries deletes the delivered and given-up deliveries created
// before before.
func (s *Tables) PruneDeliveries(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1`, before.UTC())
	return s.orDBError(err, "prune deliveries", "", "")
}

// WebhookDeliveries lists a webhook's deliveries, newest first, at most
// limit, with IDs below before (0: from the newest).
func (s *Tables) WebhookDeliveries(ctx context.Context, webhookID, before int64, limit int) ([]*parley.WebhookDelivery, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, webhookID, before, limit)
	if err != nil {
		return nil, s.wrap("list deliveries", err)
	}
	defer rows.Close()
	out := []*parley.WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, s.wrap("scan delivery", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// orDBError is dbError for results that may be no error at all.
func (s *Tables) orDBError(err error, op, conflict, missing string) error {
	if err == nil {
		return nil
	}
	return s.dbError(err, op, conflict, missing)
}
