package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The admin console's API beyond creating and changing records
// (handlers.go): reading one tenant's records, one-time password links,
// disabling and signing out agents, photos, the widget's appearance, the
// transcript preview and the audit log. Admins of the default tenant name
// another tenant with ?tenant_id= (or tenant_id in a body).

// TenantCreateBody is POST /api/v1/admin/tenants: a name and, optionally,
// the tenant's first admin, who gets a one-time link.
type TenantCreateBody struct {
	Name  string          `json:"name"`
	Admin *TenantAdminNew `json:"admin"`
}

// TenantAdminNew is a new tenant's first admin.
type TenantAdminNew struct {
	Login       string `json:"login"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
}

// TenantCreated is the answer of POST /api/v1/admin/tenants.
type TenantCreated struct {
	*parley.Tenant
	// Admin and Invitation are set when the body named a first admin.
	Admin      *parley.Agent            `json:"admin,omitempty"`
	Invitation *conversation.Invitation `json:"invitation,omitempty"`
}

// TenantPatchBody is PATCH /api/v1/admin/tenants/{id}.
type TenantPatchBody struct {
	Name string `json:"name"`
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b TenantPatchBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		t, err := s.svc.RenameTenant(r.Context(), a, id, b.Name)
		if err == nil {
			writeJSON(w, http.StatusOK, t)
		}
		return err
	})
}

// ownTenant answers the tenant the admin works on.
func (s *Server) ownTenant(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		t, err := s.svc.AdminTenant(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, t)
		}
		return err
	})
}

func (s *Server) getWidget(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		wa, err := s.svc.WidgetAppearance(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, wa)
		}
		return err
	})
}

func (s *Server) putWidget(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		var b parley.WidgetAppearance
		if err := decode(w, r, &b); err != nil {
			return err
		}
		wa, err := s.svc.SetWidgetAppearance(r.Context(), a, tenant, b)
		if err == nil {
			writeJSON(w, http.StatusOK, wa)
		}
		return err
	})
}

func (s *Server) adminGroups(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		gs, err := s.svc.AdminGroups(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, gs)
		}
		return err
	})
}

func (s *Server) adminGroup(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		g, err := s.svc.AdminGroup(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) previewTranscript(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b GroupBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		p, err := s.svc.PreviewTranscript(r.Context(), a, parley.Group{TenantID: b.TenantID, Name: b.Name,
			Routing: b.Routing, Transcript: b.Transcript})
		if err == nil {
			writeJSON(w, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) adminAgents(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		as, err := s.svc.AdminAgents(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, as)
		}
		return err
	})
}

func (s *Server) adminAgent(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		ag, err := s.svc.AdminAgent(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

// withAgentID runs fn for an authenticated request on /admin/agents/{id}.
func (s *Server) withAgentID(w http.ResponseWriter, r *http.Request, fn func(conversation.Actor, int64) error) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		return fn(a, id)
	})
}

func (s *Server) inviteAgent(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		inv, err := s.svc.InviteAgent(r.Context(), a, id, parley.InviteWelcome)
		if err == nil {
			writeJSON(w, http.StatusCreated, inv)
		}
		return err
	})
}

func (s *Server) resetAgentPassword(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		inv, err := s.svc.InviteAgent(r.Context(), a, id, parley.InviteReset)
		if err == nil {
			writeJSON(w, http.StatusCreated, inv)
		}
		return err
	})
}

func (s *Server) disableAgent(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		ag, err := s.svc.SetAgentDisabled(r.Context(), a, id, true)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

func (s *Server) enableAgent(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		ag, err := s.svc.SetAgentDisabled(r.Context(), a, id, false)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

// SignOutBody is the answer of POST /api/v1/admin/agents/{id}/sign-out.
type SignOutBody struct {
	Ended int `json:"ended"`
}

func (s *Server) signOutAgent(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		n, err := s.svc.SignOutAgent(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, SignOutBody{Ended: n})
		}
		return err
	})
}

func (s *Server) putAgentPhoto(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, parley.MaxPhotoBytes+1))
		if err != nil || len(data) > parley.MaxPhotoBytes {
			return &parley.Error{Code: parley.ETOOLARGE, Message: "the photo is larger than 512 KB", Field: "photo"}
		}
		ag, err := s.svc.SetAgentPhoto(r.Context(), a, id, data)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

func (s *Server) deleteAgentPhoto(w http.ResponseWriter, r *http.Request) {
	s.withAgentID(w, r, func(a conversation.Actor, id int64) error {
		ag, err := s.svc.DeleteAgentPhoto(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

// agentPhoto serves an uploaded photo to anyone: visitors see it in the
// widget, the portal and the business card. Its address changes with the
// photo, so it is cached for good.
func (s *Server) agentPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.svc.AgentPhoto(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.URL.Query().Get("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.Data)
	}
}

// InviteAcceptBody is POST /api/v1/auth/invite.
type InviteAcceptBody struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// acceptInvite sets the password of a one-time link and signs in, like
// login.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	var b InviteAcceptBody
	if err := decode(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	tok, a, err := s.svc.AcceptInvite(r.Context(), b.Token, b.Password, s.opt.TrustedProxies.ClientAddr(r).String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ttl := s.svc.Config().SessionTTL
	s.setSessionCookie(w, tok, ttl)
	writeJSON(w, http.StatusOK, LoginResponse{Token: tok, ExpiresAt: time.Now().Add(ttl).UTC(), Agent: a})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, tok string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		q := conversation.AuditQuery{Action: r.URL.Query().Get("action"), TargetKind: r.URL.Query().Get("target_kind"),
			TargetID: r.URL.Query().Get("target_id")}
		var err error
		if q.TenantID, err = queryInt(r, "tenant_id", 0); err != nil {
			return err
		}
		if q.ActorID, err = queryInt(r, "actor_id", 0); err != nil {
			return err
		}
		if q.Before, err = queryInt(r, "before", 0); err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100)
		if err != nil {
			return err
		}
		q.Limit = int(limit)
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"since", &q.Since}, {"until", &q.Until}} {
			if v := r.URL.Query().Get(p.name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return parley.FieldErrorf(p.name, "%s must be an RFC 3339 time such as 2026-03-01T00:00:00Z", p.name)
				}
				*p.dst = t
			}
		}
		list, err := s.svc.AuditLog(r.Context(), a, q)
		if err == nil {
			writeJSON(w, http.StatusOK, list)
		}
		return err
	})
}

// prefixField puts prefix before the field an error names, for a body
// that nests the checked object.
func prefixField(err error, prefix string) error {
	if f := parley.ErrorField(err); f != "" {
		return &parley.Error{Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err), Field: prefix + f}
	}
	return err
}

// deleteGroup deletes a group that no chat names (DELETE
// /api/v1/admin/groups/{id}); 409 while the archive keeps its chats.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		if err := s.svc.DeleteGroup(r.Context(), a, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// deleteTenant deletes a tenant and everything it holds (DELETE
// /api/v1/admin/tenants/{id}, admins of the default tenant) and answers
// what was deleted; 409 while one of its chats has not ended.
func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		d, err := s.svc.DeleteTenant(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, d)
		}
		return err
	})
}
