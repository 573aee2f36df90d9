package sqlstore

import (
	"context"

	"github.com/parleychat/parley"
)

// CreateInternalMessage stores m and sets its ID and time.
func (s *Tables) CreateInternalMessage(ctx context.Context, m *parley.InternalMessage) error {
	at := s.stamp(m.At)
	err := s.db.QueryRowContext(ctx, `INSERT INTO internal_messages
		(tenant_id, from_agent_id, from_name, to_agent_id, to_name, text, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		m.TenantID, m.From.AgentID, m.From.Name, m.To.AgentID, m.To.Name, m.Text, at).Scan(&m.ID)
	if err != nil {
		return s.dbError(err, "insert internal message", "", "the tenant or an agent does not exist")
	}
	m.At = at
	return nil
}

// InternalMessages returns messages between agents a and b, newest first.
func (s *Tables) InternalMessages(ctx context.Context, tenantID, a, b, before int64, limit int) ([]*parley.InternalMessage, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, tenant_id, from_agent_id, from_name, to_agent_id, to_name, text, at
		FROM internal_messages WHERE tenant_id = $1 AND id < $4
		AND ((from_agent_id = $2 AND to_agent_id = $3) OR (from_agent_id = $3 AND to_agent_id = $2))
		ORDER BY id DESC LIMIT $5`, tenantID, a, b, before, limit)
	if err != nil {
		return nil, s.wrap("select internal messages", err)
	}
	defer rows.Close()
	out := []*parley.InternalMessage{}
	for rows.Next() {
		m := &parley.InternalMessage{From: parley.Party{Kind: parley.PartyAgent}, To: parley.Party{Kind: parley.PartyAgent}}
		if err := rows.Scan(&m.ID, &m.TenantID, &m.From.AgentID, &m.From.Name, &m.To.AgentID, &m.To.Name, &m.Text, &m.At); err != nil {
			return nil, s.wrap("scan internal message", err)
		}
		m.At = m.At.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("select internal messages", err)
	}
	return out, nil
}
