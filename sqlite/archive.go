package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// likePattern makes s a substring pattern for LIKE … ESCAPE '\'. Queries
// compare lower() of both sides, which folds ASCII letters only (SQLite
// has no Unicode case folding without ICU).
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// archiveCursor encodes the position after chat c in newest-first order.
func archiveCursor(c *parley.Chat) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + " " + c.ID))
}

func parseArchiveCursor(s string) (time.Time, string, error) {
	bad := parley.Errorf(parley.EINVALID, "before is not a cursor returned by a search")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(raw), " ")
	if !ok {
		return time.Time{}, "", bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", bad
	}
	return t.UTC(), id, nil
}

// SearchChats returns a page of the tenant's chats matching q, newest
// first. Customer and text match as substrings, ASCII letters in any case;
// the agent filter matches every agent who took part in the chat.
func (s *Store) SearchChats(ctx context.Context, q parley.ArchiveQuery) (*parley.ArchivePage, error) {
	args := []any{q.TenantID}
	where := []string{"c.tenant_id = $1"}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.GroupID != 0 {
		where = append(where, "c.group_id = "+arg(q.GroupID))
	}
	if q.VisitorID != "" {
		where = append(where, "c.visitor_id = "+arg(q.VisitorID))
	}
	if q.AgentID != 0 {
		where = append(where, `EXISTS (SELECT 1 FROM chat_participants p WHERE p.chat_id = c.id
			AND p.kind = 'agent' AND p.agent_id = `+arg(q.AgentID)+`)`)
	}
	if !q.From.IsZero() {
		where = append(where, "c.created_at >= "+arg(q.From.UTC()))
	}
	if !q.To.IsZero() {
		where = append(where, "c.created_at < "+arg(q.To.UTC()))
	}
	if q.Customer != "" {
		p := arg(likePattern(q.Customer))
		where = append(where, `EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id AND
			(lower(v.name) LIKE lower(`+p+`) ESCAPE '\' OR lower(v.email) LIKE lower(`+p+`) ESCAPE '\'
			OR lower(v.phone) LIKE lower(`+p+`) ESCAPE '\' OR lower(v.customer_id) LIKE lower(`+p+`) ESCAPE '\'))`)
	}
	if q.Text != "" {
		where = append(where, `EXISTS (SELECT 1 FROM events e WHERE e.chat_id = c.id
			AND e.type = 'message' AND lower(e.text) LIKE lower(`+arg(likePattern(q.Text))+`) ESCAPE '\')`)
	}
	if q.Before != "" {
		at, id, err := parseArchiveCursor(q.Before)
		if err != nil {
			return nil, err
		}
		a, i := arg(at), arg(id)
		where = append(where, "(c.created_at < "+a+" OR (c.created_at = "+a+" AND c.id < "+i+"))")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = parley.DefaultArchiveLimit
	}
	page := &parley.ArchivePage{Chats: []*parley.Chat{}}
	err := s.read(ctx, "search chats", func(tx *sql.Tx) error {
		if q.Text != "" {
			ids, ok, err := textCandidates(ctx, tx, q.Text)
			if err != nil {
				return err
			}
			if ok && len(ids) == 0 {
				return nil
			}
			if ok {
				marks := make([]string, len(ids))
				for i, id := range ids {
					marks[i] = arg(id)
				}
				where = append(where, "c.id IN ("+strings.Join(marks, ", ")+")")
			}
		}
		query := `SELECT ` + prefixed("c.", chatColumns) + ` FROM chats c WHERE ` + strings.Join(where, " AND ") +
			` ORDER BY c.created_at DESC, c.id DESC LIMIT ` + arg(limit+1)
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlite: search chats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChat(rows)
			if err != nil {
				return fmt.Errorf("sqlite: scan chat: %w", err)
			}
			page.Chats = append(page.Chats, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: search chats: %w", err)
		}
		if len(page.Chats) > limit {
			page.Chats = page.Chats[:limit]
			page.Next = archiveCursor(page.Chats[limit-1])
		}
		return loadParticipants(ctx, tx, page.Chats)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// maxTextCandidates bounds the chats a text search takes from the trigram
// index. A word in more chats is common: scanning the newest chats finds a
// page of matches sooner than collecting every match.
const maxTextCandidates = 500

// textCandidates returns the chats whose messages may contain text, from
// the trigram index and the messages not yet indexed (the backlog, which
// is short), when that narrows the search: ok is false for text shorter
// than a trigram and for text in more than maxTextCandidates chats. The
// candidates are a superset of the chats that match (the index folds case
// more widely than lower()); the caller checks each.
func textCandidates(ctx context.Context, q querier, text string) (ids []string, ok bool, err error) {
	if utf8.RuneCountInString(text) < 3 {
		return nil, false, nil
	}
	phrase := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
	rows, err := q.QueryContext(ctx, `SELECT chat_id FROM events_text WHERE events_text MATCH $1
		UNION SELECT b.chat_id FROM events_text_backlog b
			JOIN events e ON e.chat_id = b.chat_id AND e.seq = b.seq
			WHERE lower(e.text) LIKE lower($3) ESCAPE '\'
		LIMIT $2`,
		phrase, maxTextCandidates+1, likePattern(text))
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: search text index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("sqlite: search text index: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlite: search text index: %w", err)
	}
	if len(ids) > maxTextCandidates {
		return nil, false, nil
	}
	return ids, true, nil
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
