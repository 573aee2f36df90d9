package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// maxUpload is the largest upload any group can allow (1 GiB).
const maxUpload = 1 << 30

// sessionCookie carries an agent's session token for the web console.
const sessionCookie = "parley_session"

// token returns the credential of a request: a bearer token, else the
// session cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) actor(r *http.Request) (conversation.Actor, error) {
	a, err := s.svc.Authenticate(r.Context(), token(r))
	if err == nil {
		a.Addr = s.opt.TrustedProxies.ClientAddr(r).String()
	}
	return a, err
}

// withActor runs fn for an authenticated request.
func (s *Server) withActor(w http.ResponseWriter, r *http.Request, fn func(conversation.Actor) error) {
	a, err := s.actor(r)
	if err == nil {
		err = fn(a)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

func pathInt(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, parley.Errorf(parley.EINVALID, "%s must be an integer", name)
	}
	return v, nil
}

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, parley.Errorf(parley.EINVALID, "query parameter %s must be an integer", name)
	}
	return v, nil
}

// ConfigResponse is GET /api/v1/config: the limits a client must respect.
type ConfigResponse struct {
	Version                   string   `json:"version"`
	MaxMessageLength          int      `json:"max_message_length"`
	MaxAttachmentKB           int      `json:"max_attachment_kb"`
	AllowedAttachmentTypes    []string `json:"allowed_attachment_types"`
	RestrictedAttachmentTypes []string `json:"restricted_attachment_types"`
	IdleTimeoutSeconds        int      `json:"idle_timeout_seconds"`
	IdleWarningSeconds        int      `json:"idle_warning_seconds"`
	CustomerTimeoutSeconds    int      `json:"customer_timeout_seconds"`
	DisconnectTimeoutSeconds  int      `json:"disconnect_timeout_seconds"`
	// OfferTimeoutSeconds is how long an offer waits for an answer (0:
	// offers wait), for the console's countdown.
	OfferTimeoutSeconds int `json:"offer_timeout_seconds"`
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	c := s.svc.Config()
	writeJSON(w, http.StatusOK, ConfigResponse{
		Version:                   parley.Version,
		MaxMessageLength:          c.MaxMessageLength,
		MaxAttachmentKB:           max(c.MaxAttachmentKB, 0),
		AllowedAttachmentTypes:    c.AllowedAttachmentTypes,
		RestrictedAttachmentTypes: c.RestrictedAttachmentTypes,
		IdleTimeoutSeconds:        int(c.IdleTimeout / time.Second),
		IdleWarningSeconds:        int(max(c.IdleWarning, 0) / time.Second),
		CustomerTimeoutSeconds:    int(c.CustomerTimeout / time.Second),
		DisconnectTimeoutSeconds:  int(c.DisconnectTimeout / time.Second),
		OfferTimeoutSeconds:       int(max(c.OfferTimeout, 0) / time.Second),
	})
}

func (s *Server) groupStatus(w http.ResponseWriter, r *http.Request) {
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
	st, err := s.svc.GroupStatus(r.Context(), tenant, id, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// ChatRequestBody is POST /api/v1/chats.
type ChatRequestBody struct {
	TenantID  int64  `json:"tenant_id"`
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	// Groups is a prioritized list of group IDs; it replaces group_id and
	// group_name.
	Groups         []int64 `json:"groups"`
	Name           string  `json:"name"`
	Email          string  `json:"email"`
	Phone          string  `json:"phone"`
	CustomerID     string  `json:"customer_id"`
	PrivateData    string  `json:"private_data"`
	TZOffset       int     `json:"tz_offset"`
	SessionID      string  `json:"session_id"`
	Message        string  `json:"message"`
	MessageToAgent string  `json:"message_to_agent"`
	// IdleTimeoutSeconds is the client's idle timeout (0: the server's).
	IdleTimeoutSeconds int `json:"idle_timeout_seconds"`
	// AgentID asks for one agent of the group (preferred, not exclusive).
	AgentID int64 `json:"agent_id"`
	// Context is the visitor's page and browser, shown to agents only.
	Context *parley.ChatContext `json:"context"`
	// TriggerID is the proactive trigger whose greeting the visitor
	// answered; the chat begins with the trigger's message.
	TriggerID int64 `json:"trigger_id"`
}

// ChatStartedBody is the response to POST /api/v1/chats.
type ChatStartedBody struct {
	Chat *conversation.ChatView `json:"chat"`
	// VisitorToken authenticates the visitor from now on.
	VisitorToken string `json:"visitor_token"`
	Message      string `json:"message,omitempty"`
}

func (s *Server) requestChat(w http.ResponseWriter, r *http.Request) {
	var b ChatRequestBody
	if err := decode(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.IdleTimeoutSeconds < 0 || b.IdleTimeoutSeconds > 86400 {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "idle_timeout_seconds must be between 0 and 86400"))
		return
	}
	res, err := s.svc.RequestChat(r.Context(), conversation.ChatRequest{
		TenantID: b.TenantID, GroupID: b.GroupID, GroupName: b.GroupName, Groups: b.Groups,
		Visitor: parley.Visitor{
			Name: b.Name, Email: b.Email, Phone: b.Phone, CustomerID: b.CustomerID,
			PrivateData: b.PrivateData, TZOffset: b.TZOffset,
		},
		VisitorToken: token(r), SessionID: b.SessionID,
		Message: b.Message, MessageToAgent: b.MessageToAgent,
		IdleTimeout: time.Duration(b.IdleTimeoutSeconds) * time.Second,
		AgentID:     b.AgentID,
		Context:     b.Context,
		TriggerID:   b.TriggerID,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ChatStartedBody{Chat: res.Chat, VisitorToken: res.VisitorToken, Message: res.Message})
}

func (s *Server) getChat(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		v, err := s.svc.Chat(r.Context(), a, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	})
}

// EventsBody is the response of the long-poll.
type EventsBody struct {
	Events []parley.Event `json:"events"`
	// LastSeq is the after value of the next poll.
	LastSeq int64 `json:"last_seq"`
}

func (s *Server) pollEvents(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		after, err := queryInt(r, "after", 0)
		if err != nil {
			return err
		}
		wait, err := queryInt(r, "wait", 0)
		if err != nil {
			return err
		}
		ctx, cancel := s.pollContext(r)
		defer cancel()
		events, last, err := s.svc.Poll(ctx, a, r.PathValue("id"), after, time.Duration(wait)*time.Second)
		if err != nil && s.stopping.Err() != nil && r.Context().Err() == nil {
			// Shutting down: answer with nothing new; the client polls again.
			events, last, err = []parley.Event{}, after, nil
		}
		if err == nil {
			writeJSON(w, http.StatusOK, EventsBody{Events: events, LastSeq: last})
		}
		return err
	})
}

// MessageBody is POST /api/v1/chats/{id}/messages.
type MessageBody struct {
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b MessageBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		e, err := s.svc.Send(r.Context(), a, r.PathValue("id"), b.Text, conversation.SendOptions{ClientID: b.ClientID})
		if err == nil {
			writeJSON(w, http.StatusCreated, e)
		}
		return err
	})
}

// TypingBody is POST /api/v1/chats/{id}/typing.
type TypingBody struct {
	Typing bool `json:"typing"`
}

func (s *Server) typing(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b TypingBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		err := s.svc.Typing(r.Context(), a, r.PathValue("id"), b.Typing)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// callSignal is POST /api/v1/chats/{id}/signal: a call's invite, accept,
// decline or hang-up (201 with the stored event), or an offer, answer,
// candidate or media state relayed to the call's other party (204).
func (s *Server) callSignal(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var raw json.RawMessage
		if err := decode(w, r, &raw); err != nil {
			return err
		}
		e, err := s.svc.Signal(r.Context(), a, r.PathValue("id"), raw)
		switch {
		case err != nil:
		case e != nil:
			writeJSON(w, http.StatusCreated, e)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// callICE is GET /api/v1/chats/{id}/calls/{call}/ice: the ICE servers of
// a call, with TURN credentials for the caller.
func (s *Server) callICE(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		ice, err := s.svc.CallICE(r.Context(), a, r.PathValue("id"), r.PathValue("call"))
		if err == nil {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusOK, ice)
		}
		return err
	})
}

// SeenBody is POST /api/v1/chats/{id}/seen.
type SeenBody struct {
	// Seq is the last event of the chat the caller has read.
	Seq int64 `json:"seq"`
}

func (s *Server) markSeen(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b SeenBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		_, err := s.svc.MarkSeen(r.Context(), a, r.PathValue("id"), b.Seq)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		name := r.URL.Query().Get("name")
		// The service enforces the chat's limit (the group may override the
		// server's) while reading; this only bounds the body at all.
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1)
		e, err := s.svc.SendFile(r.Context(), a, r.PathValue("id"), name, r.Body)
		if err == nil {
			writeJSON(w, http.StatusCreated, e)
		}
		return err
	})
}

func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		att, f, err := s.svc.OpenFile(r.Context(), a, r.PathValue("id"), r.PathValue("file"))
		if err != nil {
			return err
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", att.ContentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "private, max-age=86400")
		disposition := "attachment"
		if strings.HasPrefix(att.ContentType, "image/") {
			disposition = "inline"
		}
		h.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+urlPathEscape(att.Name))
		if sum, err := hex.DecodeString(att.SHA256); err == nil {
			h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
		}
		http.ServeContent(w, r, "", att.CreatedAt, f)
		return nil
	})
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		err := s.svc.Leave(r.Context(), a, r.PathValue("id"))
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		v, err := s.svc.Accept(r.Context(), a, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	})
}

func (s *Server) pick(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		v, err := s.svc.Pick(r.Context(), a, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	})
}

func (s *Server) groupQueue(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		q, err := s.svc.GroupQueue(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, q)
		}
		return err
	})
}

func (s *Server) decline(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		err := s.svc.Decline(r.Context(), a, r.PathValue("id"))
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) end(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		err := s.svc.End(r.Context(), a, r.PathValue("id"))
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b conversation.Transfer
		if err := decode(w, r, &b); err != nil {
			return err
		}
		err := s.svc.Transfer(r.Context(), a, r.PathValue("id"), b)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// LoginBody is POST /api/v1/auth/login.
type LoginBody struct {
	TenantID int64  `json:"tenant_id"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResponse carries the session token (also set as a cookie).
type LoginResponse struct {
	Token     string        `json:"token"`
	ExpiresAt time.Time     `json:"expires_at"`
	Agent     *parley.Agent `json:"agent"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var b LoginBody
	if err := decode(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	tenant := b.TenantID
	if tenant == 0 {
		tenant = parley.DefaultTenantID
	}
	g := s.passwordGuard(r, "login", tenant, b.Login)
	if err := g.check(); err != nil {
		s.fail(w, r, err)
		return
	}
	tok, a, err := s.svc.Login(r.Context(), b.TenantID, b.Login, b.Password)
	g.done(r.Context(), err)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ttl := s.svc.Config().SessionTTL
	s.setSessionCookie(w, tok, ttl)
	writeJSON(w, http.StatusOK, LoginResponse{Token: tok, ExpiresAt: time.Now().Add(ttl).UTC(), Agent: a})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Logout(r.Context(), token(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		if a.Agent == nil {
			return parley.Errorf(parley.EFORBIDDEN, "only agents have a profile")
		}
		writeJSON(w, http.StatusOK, a.Agent)
		return nil
	})
}

func (s *Server) setPresence(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b conversation.PresenceChange
		if err := decode(w, r, &b); err != nil {
			return err
		}
		ag, err := s.svc.SetPresence(r.Context(), a, b)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

// PasswordBody is PUT /api/v1/me/password.
type PasswordBody struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b PasswordBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		if a.Agent == nil {
			return parley.Errorf(parley.EFORBIDDEN, "only agents have passwords")
		}
		g := s.passwordGuard(r, "password change", a.Agent.TenantID, a.Agent.Login)
		if err := g.check(); err != nil {
			return err
		}
		err := s.svc.ChangePassword(r.Context(), a, token(r), b.Current, b.New)
		g.done(r.Context(), err)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) myChats(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		wait, err := queryInt(r, "wait", 0)
		if err != nil {
			return err
		}
		if wait < 0 || wait > int64(conversation.MaxPollWait/time.Second) {
			return parley.Errorf(parley.EINVALID, "wait must be between 0 and %d seconds", int(conversation.MaxPollWait/time.Second))
		}
		if wait > 0 {
			// Long-poll fallback for consoles without a WebSocket: return
			// when a notice for the agent arrives or the wait ends.
			defer s.svc.AgentConnected(a.AgentID())() // the console is connected while it polls
			feed, err := s.svc.OpenAgentFeed(r.Context(), a)
			if err != nil {
				return err
			}
			defer feed.Close()
			timer := time.NewTimer(time.Duration(wait) * time.Second)
			defer timer.Stop()
			select {
			case <-feed.Ready():
			case <-timer.C:
			case <-s.stopping.Done():
			case <-r.Context().Done():
				return nil
			}
		}
		chats, err := s.svc.AgentChats(r.Context(), a)
		if err == nil {
			writeJSON(w, http.StatusOK, chats)
		}
		return err
	})
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		gs, err := s.svc.Groups(r.Context(), a)
		if err == nil {
			writeJSON(w, http.StatusOK, gs)
		}
		return err
	})
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		as, err := s.svc.Agents(r.Context(), a)
		if err == nil {
			writeJSON(w, http.StatusOK, as)
		}
		return err
	})
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		ts, err := s.svc.Tenants(r.Context(), a)
		if err == nil {
			writeJSON(w, http.StatusOK, ts)
		}
		return err
	})
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b TenantCreateBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		var first *parley.Agent
		if b.Admin != nil {
			// Checked before the tenant exists, so a bad admin creates nothing.
			first = &parley.Agent{TenantID: parley.DefaultTenantID, Login: b.Admin.Login, DisplayName: b.Admin.DisplayName,
				Email: b.Admin.Email, Role: parley.RoleAdmin, Capacity: parley.DefaultCapacity,
				Presence: parley.PresenceOffline, Status: parley.StatusNotReady}
			if first.DisplayName == "" {
				first.DisplayName = first.Login
			}
			if err := first.Validate(); err != nil {
				return prefixField(err, "admin.")
			}
		}
		t, err := s.svc.CreateTenant(r.Context(), a, b.Name)
		if err != nil {
			return err
		}
		out := TenantCreated{Tenant: t}
		if first != nil {
			first.TenantID = t.ID
			if out.Admin, err = s.svc.CreateAgent(r.Context(), a, conversation.NewAgent{Agent: *first}); err != nil {
				return err
			}
			if out.Invitation, err = s.svc.InviteAgent(r.Context(), a, out.Admin.ID, parley.InviteWelcome); err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusCreated, out)
		return nil
	})
}

// GroupBody is POST /api/v1/admin/groups.
type GroupBody struct {
	TenantID       int64               `json:"tenant_id"`
	Name           string              `json:"name"`
	WelcomeMessage string              `json:"welcome_message"`
	QueueMessage   string              `json:"queue_message"`
	ClosedMessage  string              `json:"closed_message"`
	Limits         parley.GroupLimits  `json:"limits"`
	Routing        parley.GroupRouting `json:"routing"`
	// Transcript says how the group mails transcripts.
	Transcript parley.GroupTranscript `json:"transcript"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b GroupBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		g := &parley.Group{TenantID: b.TenantID, Name: b.Name, WelcomeMessage: b.WelcomeMessage,
			QueueMessage: b.QueueMessage, ClosedMessage: b.ClosedMessage, Limits: b.Limits, Routing: b.Routing, Transcript: b.Transcript}
		err := s.svc.CreateGroup(r.Context(), a, g)
		if err == nil {
			writeJSON(w, http.StatusCreated, g)
		}
		return err
	})
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b conversation.GroupUpdate
		if err := decode(w, r, &b); err != nil {
			return err
		}
		g, err := s.svc.UpdateGroup(r.Context(), a, id, b)
		if err == nil {
			writeJSON(w, http.StatusOK, g)
		}
		return err
	})
}

// AgentBody is POST /api/v1/admin/agents.
type AgentBody struct {
	TenantID    int64               `json:"tenant_id"`
	Login       string              `json:"login"`
	Password    string              `json:"password"`
	DisplayName string              `json:"display_name"`
	ChatName    string              `json:"chat_name"`
	FirstName   string              `json:"first_name"`
	LastName    string              `json:"last_name"`
	Email       string              `json:"email"`
	PhotoURL    string              `json:"photo_url"`
	Role        parley.Role         `json:"role"`
	Capacity    int                 `json:"capacity"`
	Groups      []parley.Membership `json:"groups"`
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b AgentBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		if b.Groups == nil {
			b.Groups = []parley.Membership{}
		}
		ag, err := s.svc.CreateAgent(r.Context(), a, conversation.NewAgent{
			Agent: parley.Agent{
				TenantID: b.TenantID, Login: b.Login, DisplayName: b.DisplayName, ChatName: b.ChatName,
				FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, PhotoURL: b.PhotoURL, Role: b.Role,
				Capacity: b.Capacity, Groups: b.Groups,
			},
			Password: b.Password,
		})
		if err == nil {
			writeJSON(w, http.StatusCreated, ag)
		}
		return err
	})
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b conversation.AgentUpdate
		if err := decode(w, r, &b); err != nil {
			return err
		}
		ag, err := s.svc.UpdateAgent(r.Context(), a, id, b)
		if err == nil {
			writeJSON(w, http.StatusOK, ag)
		}
		return err
	})
}

// urlPathEscape escapes a file name for an RFC 5987 header value.
func urlPathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
