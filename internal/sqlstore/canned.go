package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

const cannedColumns = `id, tenant_id, group_id, folder, shortcut, title, text, created_at, updated_at`

func scanCanned(sc scanner) (*parley.CannedResponse, error) {
	var c parley.CannedResponse
	if err := sc.Scan(&c.ID, &c.TenantID, &c.GroupID, &c.Folder, &c.Shortcut, &c.Title, &c.Text,
		&c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

const cannedTaken = "a canned response with this shortcut already exists in the group"

// CreateCanned stores c and sets its ID and times.
func (s *Tables) CreateCanned(ctx context.Context, c *parley.CannedResponse) error {
	now := s.stamp(c.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO canned_responses
		(tenant_id, group_id, folder, shortcut, title, text, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		c.TenantID, c.GroupID, c.Folder, c.Shortcut, c.Title, c.Text, now).Scan(&c.ID)
	if err != nil {
		return s.dbError(err, "insert canned response", cannedTaken, fmt.Sprintf("tenant %d does not exist", c.TenantID))
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// UpdateCanned replaces the response c.ID but its tenant and creation time.
func (s *Tables) UpdateCanned(ctx context.Context, c *parley.CannedResponse) error {
	now := s.stamp(c.UpdatedAt)
	err := s.db.QueryRowContext(ctx, `UPDATE canned_responses SET group_id = $2, folder = $3,
		shortcut = $4, title = $5, text = $6, updated_at = $7 WHERE id = $1
		RETURNING tenant_id, created_at`,
		c.ID, c.GroupID, c.Folder, c.Shortcut, c.Title, c.Text, now).Scan(&c.TenantID, &c.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "canned response not found")
	} else if err != nil {
		return s.dbError(err, "update canned response", cannedTaken, "")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), now
	return nil
}

// DeleteCanned deletes the response id.
func (s *Tables) DeleteCanned(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM canned_responses WHERE id = $1`, id)
	if err != nil {
		return s.wrap("delete canned response", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "canned response not found")
	}
	return nil
}

// Canned returns the response id.
func (s *Tables) Canned(ctx context.Context, id int64) (*parley.CannedResponse, error) {
	c, err := scanCanned(s.rdb.QueryRowContext(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE id = $1`, id))
	if err != nil {
		return nil, s.notFound(err, "select canned response", "canned response not found")
	}
	return c, nil
}

// CannedResponses lists the tenant's responses by group, folder, title.
func (s *Tables) CannedResponses(ctx context.Context, tenantID int64) ([]*parley.CannedResponse, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+cannedColumns+` FROM canned_responses
		WHERE tenant_id = $1 ORDER BY group_id, folder, title, id`, tenantID)
	if err != nil {
		return nil, s.wrap("select canned responses", err)
	}
	defer rows.Close()
	out := []*parley.CannedResponse{}
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, s.wrap("scan canned response", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("select canned responses", err)
	}
	return out, nil
}
