package conversation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// ArchiveEntry is one chat in archive search results.
type ArchiveEntry struct {
	ID        string `json:"id"`
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	// From is the visitor as FromPriority shows it.
	From         string               `json:"from"`
	Visitor      *parley.Visitor      `json:"visitor"`
	State        parley.State         `json:"state"`
	Cause        parley.Cause         `json:"cause,omitempty"`
	SessionID    string               `json:"session_id,omitempty"`
	Participants []parley.Participant `json:"participants"`
	CreatedAt    time.Time            `json:"created_at"`
	AcceptedAt   time.Time            `json:"accepted_at,omitzero"`
	EndedAt      time.Time            `json:"ended_at,omitzero"`
	// Rating is the visitor's rating of the chat, if any.
	Rating *parley.Rating `json:"rating,omitempty"`
	// Snippet is a piece of the first message that matches a text search,
	// around the match; the client highlights the searched text in it.
	Snippet string `json:"snippet,omitempty"`
}

// ArchiveResult is a page of search results; Next continues the search.
type ArchiveResult struct {
	Chats []ArchiveEntry `json:"chats"`
	Next  string         `json:"next,omitempty"`
}

// SearchArchive searches the actor's tenant's chats. Supervisors and
// admins search every chat; agents only the chats they took part in.
func (s *Service) SearchArchive(ctx context.Context, actor Actor, q parley.ArchiveQuery) (*ArchiveResult, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents search the archive")
	}
	if !actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin) {
		if q.AgentID != 0 && q.AgentID != actor.Agent.ID {
			return nil, parley.Errorf(parley.EFORBIDDEN, "agents search only their own chats")
		}
		q.AgentID = actor.Agent.ID
	}
	q.TenantID = actor.TenantID
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return s.archivePage(ctx, q)
}

// VisitorHistory returns the other chats of the chat's visitor, newest
// first, for an agent who may read the chat: the console's "earlier
// chats". The agent may then read each of them while serving the visitor.
func (s *Service) VisitorHistory(ctx context.Context, actor Actor, chatID string, limit int) (*ArchiveResult, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents see a visitor's earlier chats")
	}
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = 20
	case limit < 0 || limit > 100:
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and 100")
	}
	// One more than asked: the chat itself is among them.
	res, err := s.archivePage(ctx, parley.ArchiveQuery{TenantID: actor.TenantID, VisitorID: c.VisitorID, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	out := &ArchiveResult{Chats: []ArchiveEntry{}}
	for _, e := range res.Chats {
		if e.ID != c.ID && len(out.Chats) < limit {
			out.Chats = append(out.Chats, e)
		}
	}
	return out, nil
}

func (s *Service) archivePage(ctx context.Context, q parley.ArchiveQuery) (*ArchiveResult, error) {
	page, err := s.store.SearchChats(ctx, q)
	if err != nil {
		return nil, internal("search chats", err)
	}
	out := &ArchiveResult{Chats: make([]ArchiveEntry, 0, len(page.Chats)), Next: page.Next}
	ids := make([]string, len(page.Chats))
	for i, c := range page.Chats {
		ids[i] = c.ID
	}
	ratings, err := s.store.Ratings(ctx, ids)
	if err != nil {
		return nil, internal("load ratings", err)
	}
	groups := map[int64]string{}
	for _, c := range page.Chats {
		name, ok := groups[c.GroupID]
		if !ok {
			if g, err := s.store.Group(ctx, c.GroupID); err == nil {
				name = g.Name
			}
			groups[c.GroupID] = name
		}
		v, err := s.store.Visitor(ctx, c.VisitorID)
		if err != nil {
			return nil, internal("load visitor", err)
		}
		e := ArchiveEntry{
			ID: c.ID, GroupID: c.GroupID, GroupName: name, From: v.From(s.cfg.FromPriority), Visitor: v,
			State: c.State, SessionID: c.SessionID, Participants: c.Participants,
			CreatedAt: c.CreatedAt, AcceptedAt: c.AcceptedAt, EndedAt: c.EndedAt,
		}
		if c.State == parley.StateTerminated {
			e.Cause = c.Cause
		}
		e.Rating = ratings[c.ID]
		if q.Text != "" && len(out.Chats) < maxSnippets {
			if e.Snippet, err = s.snippet(ctx, c.ID, q.Text); err != nil {
				return nil, err
			}
		}
		out.Chats = append(out.Chats, e)
	}
	return out, nil
}

// Snippet lengths in characters around a match, and the most results of
// a page that get one (each reads its chat's log).
const (
	maxSnippets   = 100
	snippetBefore = 40
	snippetAfter  = 80
)

// snippet returns a piece of the chat's first message containing text
// (ASCII letters in any case, as the search matches), "" when none does.
func (s *Service) snippet(ctx context.Context, chatID, text string) (string, error) {
	events, err := s.store.Events(ctx, chatID, 0, 0)
	if err != nil {
		return "", internal("load events", err)
	}
	needle := asciiLower(text)
	for _, e := range events {
		if e.Type != parley.EventMessage {
			continue
		}
		if i := strings.Index(asciiLower(e.Text), needle); i >= 0 {
			return cutAround(e.Text, i, len(needle)), nil
		}
	}
	return "", nil
}

// asciiLower folds ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// cutAround returns s around the n bytes at i, on one line, with "…" where
// it was cut.
func cutAround(s string, i, n int) string {
	start, end := i, i+n
	for k := 0; k < snippetBefore && start > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:start])
		start -= size
	}
	for k := 0; k < snippetAfter && end < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	out := strings.Join(strings.Fields(s[start:end]), " ")
	if start > 0 {
		out = "…" + out
	}
	if end < len(s) {
		out += "…"
	}
	return out
}
