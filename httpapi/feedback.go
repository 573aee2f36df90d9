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
