package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// RatingBody is POST /api/v1/chats/{id}/rating.
type RatingBody struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

func (s *Server) rateChat(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b RatingBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		rating, err := s.svc.RateChat(r.Context(), a, r.PathValue("id"), b.Score, b.Comment)
		if err == nil {
			writeJSON(w, http.StatusCreated, rating)
		}
		return err
	})
}

// PageBody is POST /api/v1/chats/{id}/page: the visitor's widget reports
// the page of the host site the visitor moved to.
type PageBody struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

func (s *Server) visitorPage(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b PageBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		e, err := s.svc.VisitorPage(r.Context(), a, r.PathValue("id"), b.URL, b.Title)
		if err == nil {
			writeJSON(w, http.StatusCreated, e)
		}
		return err
	})
}

// OfflineMessageBody is POST /api/v1/offline-messages.
type OfflineMessageBody struct {
	TenantID int64 `json:"tenant_id"`
	// Group is the group's ID ("3", "g_3") or name.
	Group   string `json:"group"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Message string `json:"message"`
}

// leaveOfflineMessage needs no credentials: the offline form is for
// visitors who could not start a chat.
func (s *Server) leaveOfflineMessage(w http.ResponseWriter, r *http.Request) {
	var b OfflineMessageBody
	if err := decode(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	req := conversation.OfflineRequest{TenantID: b.TenantID, Name: b.Name, Email: b.Email, Message: b.Message}
	g := strings.TrimSpace(b.Group)
	if id, err := strconv.ParseInt(strings.TrimPrefix(g, "g_"), 10, 64); err == nil {
		req.GroupID = id
	} else {
		req.GroupName = g
	}
	m, err := s.svc.LeaveOfflineMessage(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The answer does not echo the personal data back.
	writeJSON(w, http.StatusCreated, map[string]any{"id": m.ID, "group_id": m.GroupID, "created_at": m.CreatedAt})
}

// OfflineMessagesBody is the answer of GET /api/v1/offline-messages.
type OfflineMessagesBody struct {
	Messages []*parley.OfflineMessage `json:"messages"`
}

func (s *Server) listOfflineMessages(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		group, err := queryInt(r, "group_id", 0)
		if err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100)
		if err != nil {
			return err
		}
		if limit < 1 || limit > 1000 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and 1000")
		}
		ms, err := s.svc.OfflineMessages(r.Context(), a, group, int(limit))
		if err == nil {
			writeJSON(w, http.StatusOK, OfflineMessagesBody{Messages: ms})
		}
		return err
	})
}

// PublicAgentsBody is the answer of GET /api/v1/public/agents.
type PublicAgentsBody struct {
	Agents []conversation.PublicAgent `json:"agents"`
}

// publicAgents lists agents with their presence for the contact portal;
// it needs no credentials and shows no personal data beyond the name.
func (s *Server) publicAgents(w http.ResponseWriter, r *http.Request) {
	tenant, err := queryInt(r, "tenant_id", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var groups []int64
	if v := strings.TrimSpace(r.URL.Query().Get("group_id")); v != "" {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(part), "g_"), 10, 64)
			if err != nil || id <= 0 {
				s.fail(w, r, parley.Errorf(parley.EINVALID, "group_id must be a comma-separated list of group IDs"))
				return
			}
			groups = append(groups, id)
		}
		if len(groups) > 50 {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "group_id lists more than 50 groups"))
			return
		}
	}
	agents, err := s.svc.PublicAgents(r.Context(), tenant, groups)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PublicAgentsBody{Agents: agents})
}

// publicAgent answers one agent's business card.
func (s *Server) publicAgent(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tenant, err := queryInt(r, "tenant_id", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.svc.PublicAgentByID(r.Context(), tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}
