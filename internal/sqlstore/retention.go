package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// Retention and erasure (F6.4). What the deleted rows leave in a
// database's files is the dialect's: each store has its own Scrub.

// RetentionPolicy returns the tenant's policy, Days 0 when it has none.
func (s *Tables) RetentionPolicy(ctx context.Context, tenantID int64) (*parley.RetentionPolicy, error) {
	p := &parley.RetentionPolicy{TenantID: tenantID}
	err := s.rdb.QueryRowContext(ctx, `SELECT days, updated_at FROM retention_policies WHERE tenant_id = $1`, tenantID).
		Scan(&p.Days, &p.UpdatedAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.wrap("select retention policy", err)
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, nil
}

// SetRetentionPolicy stores p as its tenant's policy.
func (s *Tables) SetRetentionPolicy(ctx context.Context, p *parley.RetentionPolicy) error {
	updated := s.stamp(p.UpdatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO retention_policies (tenant_id, days, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
		p.TenantID, p.Days, updated)
	if err != nil {
		return s.dbError(err, "store retention policy", "", fmt.Sprintf("tenant %d does not exist", p.TenantID))
	}
	p.UpdatedAt = updated
	return nil
}

// RetentionPolicies lists the policies that delete anything.
func (s *Tables) RetentionPolicies(ctx context.Context) ([]*parley.RetentionPolicy, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT tenant_id, days, updated_at FROM retention_policies WHERE days > 0 ORDER BY tenant_id`)
	if err != nil {
		return nil, s.wrap("select retention policies", err)
	}
	defer rows.Close()
	out := []*parley.RetentionPolicy{}
	for rows.Next() {
		var p parley.RetentionPolicy
		if err := rows.Scan(&p.TenantID, &p.Days, &p.UpdatedAt); err != nil {
			return nil, s.wrap("scan retention policy", err)
		}
		p.UpdatedAt = p.UpdatedAt.UTC()
		out = append(out, &p)
	}
	return out, rows.Err()
}

// Purge deletes up to limit of each kind of the tenant's records older
// than before.
func (s *Tables) Purge(ctx context.Context, tenantID int64, before time.Time, limit int) (*parley.Deletion, error) {
	if limit <= 0 {
		limit = 500
	}
	d := &parley.Deletion{}
	err := s.write(ctx, "purge", func(tx *sql.Tx) error {
		chats, err := s.strings1(ctx, tx, `SELECT id FROM chats WHERE tenant_id = $1 AND state = 2 AND ended_at < $2
			ORDER BY ended_at LIMIT $3`, tenantID, before.UTC(), limit)
		if err != nil {
			return err
		}
		if err := s.deleteChats(ctx, tx, chats, d); err != nil {
			return err
		}
		offline, err := s.ints(ctx, tx, `SELECT id FROM offline_messages WHERE tenant_id = $1 AND created_at < $2
			ORDER BY created_at LIMIT $3`, tenantID, before.UTC(), limit)
		if err != nil {
			return err
		}
		if err := s.deleteOffline(ctx, tx, offline, d); err != nil {
			return err
		}
		n, err := s.exec(ctx, tx, `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
			WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3)`, tenantID, before.UTC(), limit)
		if err != nil {
			return err
		}
		d.Mails += n
		if n, err = s.exec(ctx, tx, `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3)`, tenantID, before.UTC(), limit); err != nil {
			return err
		}
		d.WebhookDeliveries += n
		if n, err = s.exec(ctx, tx, `DELETE FROM visitors WHERE id IN (SELECT v.id FROM visitors v
			WHERE v.tenant_id = $1 AND v.created_at < $2
				AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.visitor_id = v.id)
			ORDER BY v.created_at LIMIT $3)`, tenantID, before.UTC(), limit); err != nil {
			return err
		}
		d.Visitors += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// EraseVisitor deletes the visitors r names and everything of theirs.
func (s *Tables) EraseVisitor(ctx context.Context, r parley.ErasureRequest) (*parley.Deletion, error) {
	d := &parley.Deletion{}
	err := s.write(ctx, "erase visitor", func(tx *sql.Tx) error {
		var where, key string
		switch {
		case r.VisitorID != "":
			where, key = `id = $2`, r.VisitorID
		case r.Email != "":
			where, key = `email <> '' AND lower(email) = lower($2)`, r.Email
		case r.Phone != "":
			where, key = `phone <> '' AND phone = $2`, r.Phone
		default:
			return parley.Errorf(parley.EINVALID, "name a visitor_id, email or phone")
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, email FROM visitors WHERE tenant_id = $1 AND `+where+s.eraseLock, r.TenantID, key)
		if err != nil {
			return s.wrap("select visitors to erase", err)
		}
		var visitors []string
		emails := map[string]bool{}
		if r.Email != "" {
			emails[strings.ToLower(r.Email)] = true
		}
		for rows.Next() {
			var id, email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return s.wrap("scan visitor", err)
			}
			visitors = append(visitors, id)
			if email != "" {
				emails[strings.ToLower(email)] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.wrap("select visitors to erase", err)
		}
		var chats []string
		for _, part := range chunks(visitors) {
			marks, args := inList(part, 0)
			var active int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chats WHERE state <> 2 AND visitor_id IN (`+marks+`)`, args...).
				Scan(&active); err != nil {
				return s.wrap("count active chats", err)
			}
			if active > 0 {
				return parley.Errorf(parley.ECONFLICT, "the visitor has %d chats that have not ended; erase after they end", active)
			}
			ids, err := s.strings1(ctx, tx, `SELECT id FROM chats WHERE visitor_id IN (`+marks+`)`, args...)
			if err != nil {
				return err
			}
			chats = append(chats, ids...)
		}
		if err := s.deleteChats(ctx, tx, chats, d); err != nil {
			return err
		}
		addrs := make([]string, 0, len(emails))
		for e := range emails {
			addrs = append(addrs, e)
		}
		for _, part := range chunks(addrs) {
			marks, args := inList(part, 1)
			offline, err := s.ints(ctx, tx, `SELECT id FROM offline_messages WHERE tenant_id = $1 AND lower(email) IN (`+marks+`)`,
				append([]any{r.TenantID}, args...)...)
			if err != nil {
				return err
			}
			if err := s.deleteOffline(ctx, tx, offline, d); err != nil {
				return err
			}
			n, err := s.exec(ctx, tx, `DELETE FROM outbox WHERE tenant_id = $1 AND lower(to_addr) IN (`+marks+`)`,
				append([]any{r.TenantID}, args...)...)
			if err != nil {
				return err
			}
			d.Mails += n
		}
		for _, part := range chunks(visitors) {
			marks, args := inList(part, 0)
			n, err := s.exec(ctx, tx, `DELETE FROM visitors WHERE id IN (`+marks+`)`, args...)
			if err != nil {
				return err
			}
			d.Visitors += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// deleteChats deletes the chats ids with what belongs to them, counting
// into d. The rows that reference a chat without a foreign key (text
// index, if the dialect names its tables, backlogs, mail, webhook
// deliveries) are deleted here; events,
// participants, attachments, ratings and attached data by cascade.
func (s *Tables) deleteChats(ctx context.Context, tx *sql.Tx, ids []string, d *parley.Deletion) error {
	for _, part := range chunks(ids) {
		marks, args := inList(part, 0)
		for _, c := range []struct {
			query string
			n     *int
		}{
			{`SELECT count(*) FROM events WHERE chat_id IN (` + marks + `)`, &d.Events},
			{`SELECT count(*) FROM attachments WHERE chat_id IN (` + marks + `)`, &d.Attachments},
			{`SELECT count(*) FROM chat_ratings WHERE chat_id IN (` + marks + `)`, &d.Ratings},
		} {
			var n int
			if err := tx.QueryRowContext(ctx, c.query, args...).Scan(&n); err != nil {
				return s.wrap("count what a chat holds", err)
			}
			*c.n += n
		}
		for _, table := range s.chatTables {
			if _, err := s.exec(ctx, tx, `DELETE FROM `+table+` WHERE chat_id IN (`+marks+`)`, args...); err != nil {
				return err
			}
		}
		for _, q := range []struct {
			query string
			n     *int
		}{
			{`DELETE FROM webhook_backlog WHERE chat_id IN (` + marks + `)`, nil},
			{`DELETE FROM webhook_deliveries WHERE chat_id IN (` + marks + `)`, &d.WebhookDeliveries},
			{`DELETE FROM outbox WHERE chat_id IN (` + marks + `)`, &d.Mails},
			{`DELETE FROM chats WHERE id IN (` + marks + `)`, &d.Chats},
		} {
			n, err := s.exec(ctx, tx, q.query, args...)
			if err != nil {
				return err
			}
			if q.n != nil {
				*q.n += n
			}
		}
		d.ChatIDs = append(d.ChatIDs, part...)
	}
	return nil
}

// deleteOffline deletes offline messages with their mail and webhook
// backlog and deliveries.
func (s *Tables) deleteOffline(ctx context.Context, tx *sql.Tx, ids []int64, d *parley.Deletion) error {
	for _, part := range chunks(ids) {
		keys := make([]string, len(part))
		for i, id := range part {
			keys[i] = "offline:" + strconv.FormatInt(id, 10)
		}
		idMarks, idArgs := inList(part, 0)
		keyMarks, keyArgs := inList(keys, 0)
		for _, q := range []struct {
			query string
			args  []any
			n     *int
		}{
			{`DELETE FROM outbox WHERE key IN (` + keyMarks + `)`, keyArgs, &d.Mails},
			{`DELETE FROM webhook_deliveries WHERE order_key IN (` + keyMarks + `)`, keyArgs, &d.WebhookDeliveries},
			{`DELETE FROM webhook_backlog WHERE kind = 'offline' AND ref IN (` + idMarks + `)`, idArgs, nil},
			{`DELETE FROM offline_messages WHERE id IN (` + idMarks + `)`, idArgs, &d.OfflineMessages},
		} {
			n, err := s.exec(ctx, tx, q.query, q.args...)
			if err != nil {
				return err
			}
			if q.n != nil {
				*q.n += n
			}
		}
	}
	return nil
}

// chunk bounds the values of one IN list.
const chunk = 500

// chunks splits ids into IN lists of at most chunk values.
func chunks[T any](ids []T) [][]T {
	var out [][]T
	for len(ids) > chunk {
		out = append(out, ids[:chunk])
		ids = ids[chunk:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// inList returns "$k+1, $k+2, …" for the values and the values as args.
func inList[T any](vals []T, k int) (string, []any) {
	marks := make([]string, len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		marks[i] = "$" + strconv.Itoa(k+i+1)
		args[i] = v
	}
	return strings.Join(marks, ", "), args
}

// exec runs a delete and returns how many rows it deleted.
func (s *Tables) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, s.wrap("delete", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// strings1 returns the one string column of a query's rows.
func (s *Tables) strings1(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("select", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.wrap("scan", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ints returns the one integer column of a query's rows.
func (s *Tables) ints(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("select", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, s.wrap("scan", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
