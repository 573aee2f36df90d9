package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// CreateTenant stores t and sets t.ID (unless set) and t.CreatedAt (unless
// set).
func (s *Store) CreateTenant(ctx context.Context, t *parley.Tenant) error {
	created := s.stamp(t.CreatedAt)
	widget, err := json.Marshal(t.Widget)
	if err != nil {
		return fmt.Errorf("postgres: encode tenant widget: %w", err)
	}
	query := `INSERT INTO tenants (name, widget, created_at) VALUES ($1, $2, $3) RETURNING id`
	args := []any{t.Name, string(widget), created}
	if t.ID != 0 {
		query = `INSERT INTO tenants (name, widget, created_at, id) VALUES ($1, $2, $3, $4) RETURNING id`
		args = append(args, t.ID)
	}
	id, err := s.insertID(ctx, "tenants", query, args...)
	if err != nil {
		return dbError(err, "insert tenant", fmt.Sprintf("tenant %d already exists", t.ID), "")
	}
	t.ID, t.CreatedAt = id, created
	return nil
}

// insertID runs query, an INSERT … RETURNING id into table, and returns
// the id. The table's sequence is moved past an id the caller chose, in
// the same transaction; a generated one is where the sequence is already.
func (s *Store) insertID(ctx context.Context, table, query string, args ...any) (int64, error) {
	var id int64
	err := s.write(ctx, "insert into "+table, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&id); err != nil {
			return err
		}
		return bumpSequence(ctx, tx, table, id)
	})
	return id, err
}

const tenantColumns = `id, name, widget, created_at`

func scanTenant(sc scanner) (*parley.Tenant, error) {
	var t parley.Tenant
	var widget string
	if err := sc.Scan(&t.ID, &t.Name, &widget, &t.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(widget), &t.Widget); err != nil {
		return nil, fmt.Errorf("tenant %d widget: %w", t.ID, err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// Tenant returns the tenant id.
func (s *Store) Tenant(ctx context.Context, id int64) (*parley.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "select tenant", "tenant not found")
	}
	return t, nil
}

// UpdateTenant replaces the tenant's name and widget appearance.
func (s *Store) UpdateTenant(ctx context.Context, t *parley.Tenant) error {
	widget, err := json.Marshal(t.Widget)
	if err != nil {
		return fmt.Errorf("postgres: encode tenant widget: %w", err)
	}
	var created time.Time
	err = s.db.QueryRowContext(ctx, `UPDATE tenants SET name = $2, widget = $3 WHERE id = $1 RETURNING created_at`,
		t.ID, t.Name, string(widget)).Scan(&created)
	if err != nil {
		return notFound(err, "update tenant", "tenant not found")
	}
	t.CreatedAt = created.UTC()
	return nil
}

// Tenants lists every tenant by ID.
func (s *Store) Tenants(ctx context.Context) ([]*parley.Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: select tenants: %w", err)
	}
	defer rows.Close()
	ts := []*parley.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: scan tenant: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: select tenants: %w", err)
	}
	return ts, nil
}

const groupColumns = `id, tenant_id, name, welcome_message, queue_message, closed_message,
	max_message_length, max_attachment_kb, idle_timeout_seconds, capacity, routing, transcript, created_at`

func scanGroup(sc scanner) (*parley.Group, error) {
	var g parley.Group
	var maxLen, maxKB, idle, capacity sql.NullInt64
	var routing, transcript string
	err := sc.Scan(&g.ID, &g.TenantID, &g.Name, &g.WelcomeMessage, &g.QueueMessage, &g.ClosedMessage,
		&maxLen, &maxKB, &idle, &capacity, &routing, &transcript, &g.CreatedAt)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(routing), &g.Routing); err != nil {
		return nil, fmt.Errorf("group %d routing: %w", g.ID, err)
	}
	if err := json.Unmarshal([]byte(transcript), &g.Transcript); err != nil {
		return nil, fmt.Errorf("group %d transcript: %w", g.ID, err)
	}
	g.Limits = parley.GroupLimits{
		MaxMessageLength:   intPtr(maxLen),
		MaxAttachmentKB:    intPtr(maxKB),
		IdleTimeoutSeconds: intPtr(idle),
		Capacity:           intPtr(capacity),
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return &g, nil
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func nullIntPtr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateGroup stores g and sets g.ID (unless set) and g.CreatedAt (unless
// set).
func (s *Store) CreateGroup(ctx context.Context, g *parley.Group) error {
	created := s.stamp(g.CreatedAt)
	l := g.Limits
	routing, err := json.Marshal(g.Routing)
	if err != nil {
		return fmt.Errorf("postgres: encode group routing: %w", err)
	}
	transcript, err := json.Marshal(g.Transcript)
	if err != nil {
		return fmt.Errorf("postgres: encode group transcript: %w", err)
	}
	args := []any{g.TenantID, g.Name, g.WelcomeMessage, g.QueueMessage, g.ClosedMessage,
		nullIntPtr(l.MaxMessageLength), nullIntPtr(l.MaxAttachmentKB),
		nullIntPtr(l.IdleTimeoutSeconds), nullIntPtr(l.Capacity), string(routing), string(transcript), created}
	const cols = `tenant_id, name, welcome_message, queue_message, closed_message,
		max_message_length, max_attachment_kb, idle_timeout_seconds, capacity, routing, transcript, created_at`
	const vals = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12`
	query := `INSERT INTO groups (` + cols + `) VALUES (` + vals + `) RETURNING id`
	if g.ID != 0 {
		query = `INSERT INTO groups (` + cols + `, id) VALUES (` + vals + `, $13) RETURNING id`
		args = append(args, g.ID)
	}
	id, err := s.insertID(ctx, "groups", query, args...)
	if err != nil {
		return dbError(err, "insert group", "a group with this ID or name already exists",
			fmt.Sprintf("tenant %d does not exist", g.TenantID))
	}
	g.ID, g.CreatedAt = id, created
	return nil
}

// UpdateGroup replaces every field of the group g.ID but its tenant and
// creation time, and sets those two on g from the stored record.
func (s *Store) UpdateGroup(ctx context.Context, g *parley.Group) error {
	l := g.Limits
	var tenantID int64
	var created time.Time
	routing, err := json.Marshal(g.Routing)
	if err != nil {
		return fmt.Errorf("postgres: encode group routing: %w", err)
	}
	transcript, err := json.Marshal(g.Transcript)
	if err != nil {
		return fmt.Errorf("postgres: encode group transcript: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `UPDATE groups SET name = $2, welcome_message = $3,
		queue_message = $4, closed_message = $5, max_message_length = $6, max_attachment_kb = $7,
		idle_timeout_seconds = $8, capacity = $9, routing = $10, transcript = $11
		WHERE id = $1 RETURNING tenant_id, created_at`,
		g.ID, g.Name, g.WelcomeMessage, g.QueueMessage, g.ClosedMessage,
		nullIntPtr(l.MaxMessageLength), nullIntPtr(l.MaxAttachmentKB),
		nullIntPtr(l.IdleTimeoutSeconds), nullIntPtr(l.Capacity), string(routing), string(transcript)).Scan(&tenantID, &created)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "group not found")
		}
		return dbError(err, "update group", "a group with this name already exists", "")
	}
	g.TenantID, g.CreatedAt = tenantID, created.UTC()
	return nil
}

// Group returns the group id.
func (s *Store) Group(ctx context.Context, id int64) (*parley.Group, error) {
	g, err := scanGroup(s.db.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "select group", "group not found")
	}
	return g, nil
}

// GroupByName finds a group of a tenant by name, case-insensitively.
func (s *Store) GroupByName(ctx context.Context, tenantID int64, name string) (*parley.Group, error) {
	g, err := scanGroup(s.db.QueryRowContext(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE tenant_id = $1 AND lower(name) = lower($2)`, tenantID, name))
	if err != nil {
		return nil, notFound(err, "select group by name", "group not found")
	}
	return g, nil
}

// Groups lists a tenant's groups by ID.
func (s *Store) Groups(ctx context.Context, tenantID int64) ([]*parley.Group, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("postgres: select groups: %w", err)
	}
	defer rows.Close()
	gs := []*parley.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: scan group: %w", err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: select groups: %w", err)
	}
	return gs, nil
}
