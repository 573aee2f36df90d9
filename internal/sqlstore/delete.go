package sqlstore

import (
	"context"
	"database/sql"

	"github.com/parleychat/parley"
)

// DeleteGroup deletes a group no chat or offline message names, with its
// memberships, bot, canned responses and triggers, in one transaction.
func (s *Tables) DeleteGroup(ctx context.Context, id int64) error {
	return s.write(ctx, "delete group", func(tx *sql.Tx) error {
		var chats, offline int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chats WHERE group_id = $1`, id).Scan(&chats); err != nil {
			return s.wrap("count the group's chats", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM offline_messages WHERE group_id = $1`, id).Scan(&offline); err != nil {
			return s.wrap("count the group's offline messages", err)
		}
		if chats+offline > 0 {
			return parley.Errorf(parley.ECONFLICT, "%d chats and %d offline messages of the group are kept (the archive shows them); "+
				"the group can be deleted once the retention period has removed them", chats, offline)
		}
		for _, q := range []string{
			`DELETE FROM canned_responses WHERE group_id = $1`,
			`DELETE FROM triggers WHERE group_id = $1`,
			`DELETE FROM agent_groups WHERE group_id = $1`,
			`DELETE FROM group_bots WHERE group_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return s.wrap("delete group", err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, id)
		if err != nil {
			return s.wrap("delete group", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.Errorf(parley.ENOTFOUND, "group not found")
		}
		return nil
	})
}

// DeleteTenant deletes a tenant without chats and everything it holds, in
// one transaction; the audit log keeps its entries.
func (s *Tables) DeleteTenant(ctx context.Context, id int64) error {
	return s.write(ctx, "delete tenant", func(tx *sql.Tx) error {
		var chats int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chats WHERE tenant_id = $1`, id).Scan(&chats); err != nil {
			return s.wrap("count the tenant's chats", err)
		}
		if chats > 0 {
			return parley.Errorf(parley.ECONFLICT, "the tenant still has %d chats", chats)
		}
		agents := `(SELECT id FROM agents WHERE tenant_id = $1)`
		for _, q := range []string{
			`DELETE FROM visitors WHERE tenant_id = $1`,
			`DELETE FROM offline_messages WHERE tenant_id = $1`,
			`DELETE FROM outbox WHERE tenant_id = $1`,
			`DELETE FROM canned_responses WHERE tenant_id = $1`,
			`DELETE FROM internal_messages WHERE tenant_id = $1`,
			`DELETE FROM triggers WHERE tenant_id = $1`,
			`DELETE FROM api_keys WHERE tenant_id = $1`,
			`DELETE FROM webhook_deliveries WHERE tenant_id = $1`,
			`DELETE FROM webhook_backlog WHERE tenant_id = $1`,
			`DELETE FROM webhooks WHERE tenant_id = $1`,
			`DELETE FROM group_bots WHERE tenant_id = $1`,
			`DELETE FROM sessions WHERE tenant_id = $1`,
			`DELETE FROM agent_photos WHERE agent_id IN ` + agents,
			`DELETE FROM agent_invites WHERE agent_id IN ` + agents,
			`DELETE FROM agent_groups WHERE agent_id IN ` + agents,
			`DELETE FROM agents WHERE tenant_id = $1`,
			`DELETE FROM groups WHERE tenant_id = $1`,
			`DELETE FROM retention_policies WHERE tenant_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return s.wrap("delete tenant", err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, id)
		if err != nil {
			return s.wrap("delete tenant", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.Errorf(parley.ENOTFOUND, "tenant not found")
		}
		return nil
	})
}
