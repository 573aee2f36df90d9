package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// likePattern makes s a substring pattern for LIKE … ESCAPE '\'. Queries
// compare lower() of both sides, as the trigram index on lower(text)
// (migration 0004) expects.
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
// first. Customer and text match as substrings, in any case; the agent
// filter matches every agent who took part in the chat. A text of three
// or more characters in few chats is looked up in the trigram index; a
// common or shorter one is found by scanning the newest chats.
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
	var textPattern string // the text condition's argument, when the scan needs it
	if q.Text != "" {
		textPattern = likePattern(q.Text)
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
		if textPattern != "" {
			ids, ok, err := textCandidates(ctx, tx, q.Text, textPattern)
			switch {
			case err != nil:
				return err
			case ok && len(ids) == 0:
				return nil
			case ok:
				where = append(where, "c.id = ANY("+arg(ids)+")")
			default:
				// A scalar subquery, which the planner does not turn into
				// a join: it is run per chat, newest first, until the page
				// is full, which is soon for a common text.
				where = append(where, `(SELECT true FROM events e WHERE e.chat_id = c.id AND e.type = 'message'
					AND lower(e.text) LIKE lower(`+arg(textPattern)+`) ESCAPE '\' LIMIT 1)`)
			}
		}
		query := `SELECT ` + prefixed("c.", chatColumns) + ` FROM chats c WHERE ` + strings.Join(where, " AND ") +
			` ORDER BY c.created_at DESC, c.id DESC LIMIT ` + arg(limit+1)
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("postgres: search chats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChat(rows)
			if err != nil {
				return fmt.Errorf("postgres: scan chat: %w", err)
			}
			page.Chats = append(page.Chats, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: search chats: %w", err)
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

// Bounds of a text search's look-up in the trigram index: a text in more
// chats than maxTextCandidates, or in more messages than maxTextRows, is
// common, and scanning the newest chats fills a page sooner than
// collecting every match.
const (
	maxTextCandidates = 500
	maxTextRows       = 2000
)

// textCandidates returns the chats with a message containing text
// (pattern is its LIKE form), from the trigram index, when that narrows
// the search: ok is false for text shorter than a trigram, which the index
// cannot look up, and for common text.
func textCandidates(ctx context.Context, tx *sql.Tx, text, pattern string) (ids []string, ok bool, err error) {
	if utf8.RuneCountInString(text) < 3 {
		return nil, false, nil
	}
	// QueryExecModeExec plans the look-up for this pattern: a cached
	// generic plan knows nothing of it and may choose to scan.
	rows, err := tx.QueryContext(ctx, `SELECT chat_id FROM events
		WHERE type = 'message' AND lower(text) LIKE lower($1) ESCAPE '\' LIMIT $2`,
		pgx.QueryExecModeExec, pattern, maxTextRows+1)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: search text index: %w", err)
	}
	defer rows.Close()
	n, seen := 0, map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("postgres: search text index: %w", err)
		}
		if n++; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("postgres: search text index: %w", err)
	}
	if n > maxTextRows || len(ids) > maxTextCandidates {
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
