package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Proactive triggers: the admin's CRUD under /api/v1/admin/triggers and
// the widget's public read, GET /api/v1/public/triggers.

// publicTriggersMaxAge is how long browsers and proxies may keep the
// public trigger list: a changed rule reaches pages within a minute.
const publicTriggersMaxAge = "60"

// TriggerBody is POST /api/v1/admin/triggers.
type TriggerBody struct {
	// TenantID is for admins of the default tenant; 0 is the admin's own.
	TenantID    int64  `json:"tenant_id"`
	GroupID     int64  `json:"group_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Enabled defaults to true.
	Enabled    *bool  `json:"enabled"`
	RunOnce    bool   `json:"run_once"`
	URLPattern string `json:"url_pattern"`
	TimeOnSite int    `json:"time_on_site"`
	ChatOpened bool   `json:"chat_opened"`
	SenderName string `json:"sender_name"`
	Message    string `json:"message"`
}

// PublicTriggersBody is the answer of GET /api/v1/public/triggers.
type PublicTriggersBody struct {
	Triggers []conversation.WidgetTrigger `json:"triggers"`
}

func (s *Server) listTriggers(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		list, err := s.svc.Triggers(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, list)
		}
		return err
	})
}

func (s *Server) createTrigger(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b TriggerBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		t := &parley.Trigger{TenantID: b.TenantID, GroupID: b.GroupID, Name: b.Name, Description: b.Description,
			Enabled: b.Enabled == nil || *b.Enabled, RunOnce: b.RunOnce, URLPattern: b.URLPattern,
			TimeOnSite: b.TimeOnSite, ChatOpened: b.ChatOpened, SenderName: b.SenderName, Message: b.Message}
		err := s.svc.CreateTrigger(r.Context(), a, t)
		if err == nil {
			writeJSON(w, http.StatusCreated, t)
		}
		return err
	})
}

func (s *Server) getTrigger(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		t, err := s.svc.Trigger(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, t)
		}
		return err
	})
}

func (s *Server) updateTrigger(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b conversation.TriggerUpdate
		if err := decode(w, r, &b); err != nil {
			return err
		}
		t, err := s.svc.UpdateTrigger(r.Context(), a, id, b)
		if err == nil {
			writeJSON(w, http.StatusOK, t)
		}
		return err
	})
}

func (s *Server) deleteTrigger(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		err = s.svc.DeleteTrigger(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// publicTriggers answers the widget: no credentials, only enabled rules
// and only the fields the widget evaluates, cacheable for a minute.
func (s *Server) publicTriggers(w http.ResponseWriter, r *http.Request) {
	tenant, err := queryInt(r, "tenant_id", 0)
	if err == nil && tenant < 0 {
		tenant = 0 // the widget's "no tenant" is -1
	}
	var group int64
	if err == nil {
		group, err = queryInt(r, "group_id", 0)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.svc.WidgetTriggers(r.Context(), tenant, group)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := json.Marshal(PublicTriggersBody{Triggers: list})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Not writeJSON: its answers are never cached, and this one should be;
	// after max-age, the ETag lets a browser revalidate without the body.
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+publicTriggersMaxAge)
	h.Set("ETag", etag)
	if slices.Contains(strings.Split(strings.ReplaceAll(r.Header.Get("If-None-Match"), " ", ""), ","), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(append(data, '\n'))
}
