package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

const agentColumns = `id, tenant_id, login, display_name, chat_name, first_name, last_name, email,
	role, capacity, presence, status, status_reason, password_hash, created_at, photo_url, disabled`

func scanAgent(sc scanner) (*parley.Agent, error) {
	var a parley.Agent
	err := sc.Scan(&a.ID, &a.TenantID, &a.Login, &a.DisplayName, &a.ChatName, &a.FirstName,
		&a.LastName, &a.Email, &a.Role, &a.Capacity, &a.Presence, &a.Status, &a.StatusReason,
		&a.PasswordHash, &a.CreatedAt, &a.PhotoURL, &a.Disabled)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.Groups = []parley.Membership{}
	return &a, nil
}

const (
	agentConflict = "an agent with this ID or login already exists"
	agentMissing  = "the agent's tenant or one of its groups does not exist"
)

// CreateAgent stores a and its memberships and sets a.ID (unless set) and
// a.CreatedAt (unless set).
func (s *Store) CreateAgent(ctx context.Context, a *parley.Agent) error {
	created := s.stamp(a.CreatedAt)
	args := []any{a.TenantID, a.Login, a.DisplayName, a.ChatName, a.FirstName, a.LastName, a.Email,
		a.Role, a.Capacity, a.Presence, a.Status, a.StatusReason, a.PasswordHash, created, a.PhotoURL, a.Disabled}
	const cols = `tenant_id, login, display_name, chat_name, first_name, last_name, email,
		role, capacity, presence, status, status_reason, password_hash, created_at, photo_url, disabled`
	const vals = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16`
	query := `INSERT INTO agents (` + cols + `) VALUES (` + vals + `) RETURNING id`
	if a.ID != 0 {
		query = `INSERT INTO agents (` + cols + `, id) VALUES (` + vals + `, $17) RETURNING id`
		args = append(args, a.ID)
	}
	var id int64
	err := s.write(ctx, "create agent", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&id); err != nil {
			return dbError(err, "insert agent", agentConflict, agentMissing)
		}
		return insertMemberships(ctx, tx, id, a.Groups)
	})
	if err != nil {
		return err
	}
	a.ID, a.CreatedAt = id, created
	return nil
}

func insertMemberships(ctx context.Context, tx *sql.Tx, agentID int64, ms []parley.Membership) error {
	for _, m := range ms {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO agent_groups (agent_id, group_id, capacity) VALUES ($1, $2, $3)`,
			agentID, m.GroupID, m.Capacity)
		if err != nil {
			return dbError(err, "insert membership",
				fmt.Sprintf("group %d is listed twice", m.GroupID),
				fmt.Sprintf("group %d does not exist", m.GroupID))
		}
	}
	return nil
}

// UpdateAgent replaces every field of agent a.ID but its tenant and creation
// time, including memberships and password hash, and sets those two on a
// from the stored record.
func (s *Store) UpdateAgent(ctx context.Context, a *parley.Agent) error {
	var tenantID int64
	var created time.Time
	err := s.write(ctx, "update agent", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE agents SET login = $2, display_name = $3,
			chat_name = $4, first_name = $5, last_name = $6, email = $7, role = $8, capacity = $9,
			presence = $10, status = $11, status_reason = $12, password_hash = $13, photo_url = $14,
			disabled = $15 WHERE id = $1 RETURNING tenant_id, created_at`,
			a.ID, a.Login, a.DisplayName, a.ChatName, a.FirstName, a.LastName, a.Email, a.Role,
			a.Capacity, a.Presence, a.Status, a.StatusReason, a.PasswordHash, a.PhotoURL, a.Disabled).Scan(&tenantID, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "agent not found")
		}
		if err != nil {
			return dbError(err, "update agent", agentConflict, agentMissing)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_groups WHERE agent_id = $1`, a.ID); err != nil {
			return fmt.Errorf("sqlite: delete memberships: %w", err)
		}
		return insertMemberships(ctx, tx, a.ID, a.Groups)
	})
	if err != nil {
		return err
	}
	a.TenantID, a.CreatedAt = tenantID, created.UTC()
	return nil
}

// Agent returns the agent id with its memberships.
func (s *Store) Agent(ctx context.Context, id int64) (*parley.Agent, error) {
	var a *parley.Agent
	err := s.read(ctx, "agent", func(tx *sql.Tx) error {
		var err error
		a, err = scanAgent(tx.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = $1`, id))
		if err != nil {
			return notFound(err, "select agent", "agent not found")
		}
		return loadMemberships(ctx, tx, []*parley.Agent{a},
			`SELECT agent_id, group_id, capacity FROM agent_groups WHERE agent_id = $1 ORDER BY group_id`, id)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// AgentByLogin returns the agent of a tenant with the login (exact match).
func (s *Store) AgentByLogin(ctx context.Context, tenantID int64, login string) (*parley.Agent, error) {
	var a *parley.Agent
	err := s.read(ctx, "agent by login", func(tx *sql.Tx) error {
		var err error
		a, err = scanAgent(tx.QueryRowContext(ctx,
			`SELECT `+agentColumns+` FROM agents WHERE tenant_id = $1 AND login = $2`, tenantID, login))
		if err != nil {
			return notFound(err, "select agent by login", "agent not found")
		}
		return loadMemberships(ctx, tx, []*parley.Agent{a},
			`SELECT agent_id, group_id, capacity FROM agent_groups WHERE agent_id = $1 ORDER BY group_id`, a.ID)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Agents lists a tenant's agents by ID; tenantID 0 lists all tenants'.
func (s *Store) Agents(ctx context.Context, tenantID int64) ([]*parley.Agent, error) {
	agentsQuery := `SELECT ` + agentColumns + ` FROM agents ORDER BY id`
	membersQuery := `SELECT agent_id, group_id, capacity FROM agent_groups ORDER BY agent_id, group_id`
	var args []any
	if tenantID != 0 {
		agentsQuery = `SELECT ` + agentColumns + ` FROM agents WHERE tenant_id = $1 ORDER BY id`
		membersQuery = `SELECT m.agent_id, m.group_id, m.capacity FROM agent_groups m
			JOIN agents a ON a.id = m.agent_id WHERE a.tenant_id = $1 ORDER BY m.agent_id, m.group_id`
		args = []any{tenantID}
	}
	as := []*parley.Agent{}
	err := s.read(ctx, "agents", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, agentsQuery, args...)
		if err != nil {
			return fmt.Errorf("sqlite: select agents: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAgent(rows)
			if err != nil {
				return fmt.Errorf("sqlite: scan agent: %w", err)
			}
			as = append(as, a)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: select agents: %w", err)
		}
		return loadMemberships(ctx, tx, as, membersQuery, args...)
	})
	if err != nil {
		return nil, err
	}
	return as, nil
}

// loadMemberships runs query, which selects (agent_id, group_id, capacity)
// ordered by group, and attaches the rows to the agents in as.
func loadMemberships(ctx context.Context, q querier, as []*parley.Agent, query string, args ...any) error {
	byID := make(map[int64]*parley.Agent, len(as))
	for _, a := range as {
		byID[a.ID] = a
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: select memberships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var agentID int64
		var m parley.Membership
		if err := rows.Scan(&agentID, &m.GroupID, &m.Capacity); err != nil {
			return fmt.Errorf("sqlite: scan membership: %w", err)
		}
		if a := byID[agentID]; a != nil {
			a.Groups = append(a.Groups, m)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: select memberships: %w", err)
	}
	return nil
}

// CreateSession stores a session and sets s.CreatedAt (unless set).
func (s *Store) CreateSession(ctx context.Context, sess *parley.Session) error {
	if len(sess.TokenHash) == 0 {
		return parley.Errorf(parley.EINVALID, "session token hash is required")
	}
	created := s.stamp(sess.CreatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, agent_id, tenant_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`,
		sess.TokenHash, sess.AgentID, sess.TenantID, created, sess.ExpiresAt.UTC())
	if err != nil {
		return dbError(err, "insert session", "the session already exists",
			"the session's agent or tenant does not exist")
	}
	sess.CreatedAt = created
	return nil
}

// Session returns the session with the token hash, expired or not.
func (s *Store) Session(ctx context.Context, tokenHash []byte) (*parley.Session, error) {
	var sess parley.Session
	err := s.rdb.QueryRowContext(ctx, `SELECT token_hash, agent_id, tenant_id, created_at, expires_at
		FROM sessions WHERE token_hash = $1`, nullBytes(tokenHash)).
		Scan(&sess.TokenHash, &sess.AgentID, &sess.TenantID, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return nil, notFound(err, "select session", "session not found")
	}
	sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
	return &sess, nil
}

// DeleteSession deletes the session with the token hash; ENOTFOUND if there
// is none.
// DeleteAgentSessions implements parley.Store.
func (s *Store) DeleteAgentSessions(ctx context.Context, agentID int64, keepHash []byte) (int, error) {
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM sessions WHERE agent_id = $1 AND ($2 IS NULL OR token_hash <> $2)`, agentID, nullBytes(keepHash))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete agent sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete agent sessions: %w", err)
	}
	return int(n), nil
}

// DeleteSession implements parley.Store.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, nullBytes(tokenHash))
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	if n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "session not found")
	}
	return nil
}
