package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

const triggerColumns = `id, tenant_id, group_id, name, description, enabled, run_once,
	url_pattern, time_on_site, chat_opened, sender_name, message, created_at, updated_at`

func scanTrigger(sc scanner) (*parley.Trigger, error) {
	var t parley.Trigger
	if err := sc.Scan(&t.ID, &t.TenantID, &t.GroupID, &t.Name, &t.Description, &t.Enabled, &t.RunOnce,
		&t.URLPattern, &t.TimeOnSite, &t.ChatOpened, &t.SenderName, &t.Message, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// CreateTrigger stores t and sets its ID and times.
func (s *Tables) CreateTrigger(ctx context.Context, t *parley.Trigger) error {
	now := s.stamp(t.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO triggers
		(tenant_id, group_id, name, description, enabled, run_once, url_pattern, time_on_site,
		 chat_opened, sender_name, message, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
		t.TenantID, t.GroupID, t.Name, t.Description, t.Enabled, t.RunOnce, t.URLPattern, t.TimeOnSite,
		t.ChatOpened, t.SenderName, t.Message, now).Scan(&t.ID)
	if err != nil {
		return s.dbError(err, "insert trigger", "", fmt.Sprintf("tenant %d does not exist", t.TenantID))
	}
	t.CreatedAt, t.UpdatedAt = now, now
	return nil
}

// UpdateTrigger replaces the trigger t.ID but its tenant and creation time.
func (s *Tables) UpdateTrigger(ctx context.Context, t *parley.Trigger) error {
	now := s.stamp(t.UpdatedAt)
	err := s.db.QueryRowContext(ctx, `UPDATE triggers SET group_id = $2, name = $3, description = $4,
		enabled = $5, run_once = $6, url_pattern = $7, time_on_site = $8, chat_opened = $9,
		sender_name = $10, message = $11, updated_at = $12 WHERE id = $1
		RETURNING tenant_id, created_at`,
		t.ID, t.GroupID, t.Name, t.Description, t.Enabled, t.RunOnce, t.URLPattern, t.TimeOnSite,
		t.ChatOpened, t.SenderName, t.Message, now).Scan(&t.TenantID, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "trigger not found")
	} else if err != nil {
		return s.dbError(err, "update trigger", "", "")
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), now
	return nil
}

// DeleteTrigger deletes the trigger id.
func (s *Tables) DeleteTrigger(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM triggers WHERE id = $1`, id)
	if err != nil {
		return s.wrap("delete trigger", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "trigger not found")
	}
	return nil
}

// Trigger returns the trigger id.
func (s *Tables) Trigger(ctx context.Context, id int64) (*parley.Trigger, error) {
	t, err := scanTrigger(s.rdb.QueryRowContext(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE id = $1`, id))
	if err != nil {
		return nil, s.notFound(err, "select trigger", "trigger not found")
	}
	return t, nil
}

// Triggers lists the tenant's triggers by ID.
func (s *Tables) Triggers(ctx context.Context, tenantID int64) ([]*parley.Trigger, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+triggerColumns+` FROM triggers
		WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, s.wrap("select triggers", err)
	}
	defer rows.Close()
	out := []*parley.Trigger{}
	for rows.Next() {
		t, err := scanTrigger(rows)
		if err != nil {
			return nil, s.wrap("scan trigger", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("select triggers", err)
	}
	return out, nil
}
