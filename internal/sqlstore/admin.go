package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// SetAgentPhoto stores or replaces the agent's photo.
func (s *Tables) SetAgentPhoto(ctx context.Context, p *parley.AgentPhoto) error {
	at := s.stamp(p.UpdatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO agent_photos (agent_id, content_type, data, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (agent_id) DO UPDATE SET
		content_type = excluded.content_type, data = excluded.data, updated_at = excluded.updated_at`,
		p.AgentID, p.ContentType, p.Data, at)
	if err != nil {
		return s.dbError(err, "set agent photo", "", fmt.Sprintf("agent %d does not exist", p.AgentID))
	}
	p.UpdatedAt = at
	return nil
}

// AgentPhoto returns the agent's photo.
func (s *Tables) AgentPhoto(ctx context.Context, agentID int64) (*parley.AgentPhoto, error) {
	p := parley.AgentPhoto{AgentID: agentID}
	err := s.rdb.QueryRowContext(ctx, `SELECT content_type, data, updated_at FROM agent_photos WHERE agent_id = $1`, agentID).
		Scan(&p.ContentType, &p.Data, &p.UpdatedAt)
	if err != nil {
		return nil, s.notFound(err, "select agent photo", "the agent has no photo")
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return &p, nil
}

// DeleteAgentPhoto removes the agent's photo.
func (s *Tables) DeleteAgentPhoto(ctx context.Context, agentID int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM agent_photos WHERE agent_id = $1`, agentID)
	if err != nil {
		return s.wrap("delete agent photo", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "the agent has no photo")
	}
	return nil
}

// CreateInvite stores inv in place of the agent's earlier invites.
func (s *Tables) CreateInvite(ctx context.Context, inv *parley.Invite) error {
	if len(inv.TokenHash) == 0 {
		return parley.Errorf(parley.EINVALID, "invite token hash is required")
	}
	created := s.stamp(inv.CreatedAt)
	err := s.write(ctx, "create invite", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_invites WHERE agent_id = $1`, inv.AgentID); err != nil {
			return s.wrap("delete invites", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO agent_invites (token_hash, agent_id, tenant_id, purpose, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			inv.TokenHash, inv.AgentID, inv.TenantID, string(inv.Purpose), created, inv.ExpiresAt.UTC())
		if err != nil {
			return s.dbError(err, "insert invite", "the invite already exists", "the invite's agent or tenant does not exist")
		}
		return nil
	})
	if err != nil {
		return err
	}
	inv.CreatedAt = created
	return nil
}

// UseInvite deletes the invite and returns it if it is still valid.
func (s *Tables) UseInvite(ctx context.Context, tokenHash []byte, now time.Time) (*parley.Invite, error) {
	var inv parley.Invite
	var purpose string
	err := s.db.QueryRowContext(ctx, `DELETE FROM agent_invites WHERE token_hash = $1
		RETURNING token_hash, agent_id, tenant_id, purpose, created_at, expires_at`, NullBytes(tokenHash)).
		Scan(&inv.TokenHash, &inv.AgentID, &inv.TenantID, &purpose, &inv.CreatedAt, &inv.ExpiresAt)
	if err != nil {
		return nil, s.notFound(err, "use invite", "the link is unknown, used or expired")
	}
	inv.Purpose = parley.InvitePurpose(purpose)
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	if !now.Before(inv.ExpiresAt) {
		return nil, parley.Errorf(parley.ENOTFOUND, "the link is unknown, used or expired")
	}
	return &inv, nil
}

// AppendAudit adds an entry to the audit log.
func (s *Tables) AppendAudit(ctx context.Context, e *parley.AuditEntry) error {
	at := s.stamp(e.At)
	err := s.db.QueryRowContext(ctx, `INSERT INTO audit_log (tenant_id, at, actor_id, actor_login, remote_addr,
		action, target_kind, target_id, target_name, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		e.TenantID, at, e.ActorID, e.ActorLogin, e.RemoteAddr, e.Action, e.TargetKind, e.TargetID, e.TargetName, e.Detail).Scan(&e.ID)
	if err != nil {
		return s.wrap("insert audit entry", err)
	}
	e.At = at
	return nil
}

// AuditLog lists the entries matching f, newest first.
func (s *Tables) AuditLog(ctx context.Context, f parley.AuditFilter) ([]*parley.AuditEntry, error) {
	var where []string
	var args []any
	arg := func(clause string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(clause, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.TenantID != 0 {
		arg("tenant_id = ?", f.TenantID)
	}
	if _, prefix := strings.CutSuffix(f.Action, "."); prefix {
		args = append(args, f.Action)
		where = append(where, fmt.Sprintf("substr(action, 1, length($%d)) = $%d", len(args), len(args)))
	} else if f.Action != "" {
		arg("action = ?", f.Action)
	}
	if f.ActorID != 0 {
		arg("actor_id = ?", f.ActorID)
	}
	if f.TargetKind != "" {
		arg("target_kind = ?", f.TargetKind)
	}
	if f.TargetID != "" {
		arg("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		arg("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		arg("at < ?", f.Until.UTC())
	}
	if f.Before > 0 {
		arg("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, tenant_id, at, actor_id, actor_login, remote_addr, action, target_kind, target_id, target_name, detail
		FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("select audit log", err)
	}
	defer rows.Close()
	out := []*parley.AuditEntry{}
	for rows.Next() {
		var e parley.AuditEntry
		if err := rows.Scan(&e.ID, &e.TenantID, &e.At, &e.ActorID, &e.ActorLogin, &e.RemoteAddr, &e.Action,
			&e.TargetKind, &e.TargetID, &e.TargetName, &e.Detail); err != nil {
			return nil, s.wrap("scan audit entry", err)
		}
		e.At = e.At.UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("select audit log", err)
	}
	return out, nil
}
