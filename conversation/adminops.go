package conversation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
	"github.com/parleychat/parley/transcript"
)

// The admin console's operations beyond creating and changing records
// (admin.go): reading one tenant's records, one-time password links,
// disabling and signing out agents, photos, the widget's appearance and
// the transcript preview. Each checks that the actor administers the
// tenant, and records itself in the audit log.

// How long one-time links stay valid.
const (
	InviteTTL = 7 * 24 * time.Hour // a new agent's first password
	ResetTTL  = 24 * time.Hour     // a password an admin reset
)

// AdminTenant returns a tenant the admin manages: its own, or any for
// admins of the default tenant.
func (s *Service) AdminTenant(ctx context.Context, actor Actor, id int64) (*parley.Tenant, error) {
	tenant, err := s.targetTenant(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	t, err := s.store.Tenant(ctx, tenant)
	if err != nil {
		return nil, internal("load tenant", err)
	}
	return t, nil
}

// RenameTenant changes a tenant's name (admins of the default tenant).
func (s *Service) RenameTenant(ctx context.Context, actor Actor, id int64, name string) (*parley.Tenant, error) {
	if err := requireSuperadmin(actor); err != nil {
		return nil, err
	}
	t, err := s.store.Tenant(ctx, id)
	if err != nil {
		return nil, internal("load tenant", err)
	}
	old := t.Name
	t.Name = name
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpdateTenant(ctx, t); err != nil {
		return nil, internal("update tenant", err)
	}
	return t, s.audit(ctx, actor, t.ID, "tenant.update", "tenant", t.ID, t.Name, "renamed from "+strconv.Quote(old))
}

func requireSuperadmin(actor Actor) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if actor.TenantID != parley.DefaultTenantID {
		return parley.Errorf(parley.EFORBIDDEN, "only admins of the default tenant manage tenants")
	}
	return nil
}

// WidgetAppearance returns how the tenant's widget looks.
func (s *Service) WidgetAppearance(ctx context.Context, actor Actor, tenantID int64) (*parley.WidgetAppearance, error) {
	t, err := s.AdminTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	return &t.Widget, nil
}

// SetWidgetAppearance replaces how the tenant's widget looks.
func (s *Service) SetWidgetAppearance(ctx context.Context, actor Actor, tenantID int64, w parley.WidgetAppearance) (*parley.WidgetAppearance, error) {
	t, err := s.AdminTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	before := t.Widget
	t.Widget = w
	if err := s.store.UpdateTenant(ctx, t); err != nil {
		return nil, internal("update tenant", err)
	}
	return &t.Widget, s.audit(ctx, actor, t.ID, "widget.update", "tenant", t.ID, t.Name, changed(before, w))
}

// PublicWidgetAppearance is the tenant's widget appearance for the
// widget's configuration, which visitors read without credentials.
func (s *Service) PublicWidgetAppearance(ctx context.Context, tenantID int64) (*parley.WidgetAppearance, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	t, err := s.store.Tenant(ctx, tenantID)
	if err != nil {
		if isCode(err, parley.ENOTFOUND) {
			return &parley.WidgetAppearance{}, nil
		}
		return nil, internal("load tenant", err)
	}
	return &t.Widget, nil
}

// AdminGroups lists the groups of the admin's tenant (or of tenantID for
// admins of the default tenant).
func (s *Service) AdminGroups(ctx context.Context, actor Actor, tenantID int64) ([]*parley.Group, error) {
	tenant, err := s.targetTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	gs, err := s.store.Groups(ctx, tenant)
	if err != nil {
		return nil, internal("list groups", err)
	}
	return gs, nil
}

// AdminGroup returns a group the admin manages.
func (s *Service) AdminGroup(ctx context.Context, actor Actor, id int64) (*parley.Group, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.adminGroup(ctx, actor, id)
}

// AdminAgents lists the agents of the admin's tenant (or of tenantID for
// admins of the default tenant).
func (s *Service) AdminAgents(ctx context.Context, actor Actor, tenantID int64) ([]*parley.Agent, error) {
	tenant, err := s.targetTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	as, err := s.store.Agents(ctx, tenant)
	if err != nil {
		return nil, internal("list agents", err)
	}
	return as, nil
}

// AdminAgent returns an agent the admin manages.
func (s *Service) AdminAgent(ctx context.Context, actor Actor, id int64) (*parley.Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.adminAgent(ctx, actor, id)
}

func (s *Service) adminAgent(ctx context.Context, actor Actor, id int64) (*parley.Agent, error) {
	a, err := s.store.Agent(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && a.TenantID != actor.TenantID && actor.TenantID != parley.DefaultTenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent not found")
	} else if err != nil {
		return nil, internal("load agent", err)
	}
	return a, nil
}

// Invitation is a one-time link's token, shown once.
type Invitation struct {
	Token     string               `json:"token"`
	Purpose   parley.InvitePurpose `json:"purpose"`
	ExpiresAt time.Time            `json:"expires_at"`
	AgentID   int64                `json:"agent_id"`
	TenantID  int64                `json:"tenant_id"`
	Login     string               `json:"login"`
}

// InviteAgent makes a one-time link with which the agent chooses a
// password; it replaces the agent's earlier link. For a reset the old
// password stops working and the agent's sessions end at once.
func (s *Service) InviteAgent(ctx context.Context, actor Actor, id int64, purpose parley.InvitePurpose) (*Invitation, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	a, err := s.adminAgent(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	ttl := InviteTTL
	switch purpose {
	case parley.InviteWelcome:
	case parley.InviteReset:
		ttl = ResetTTL
		if a, err = s.changeAgent(ctx, id, func(a *parley.Agent) error {
			a.PasswordHash = ""
			a.Presence, a.Status = parley.PresenceOffline, parley.StatusNotReady
			return nil
		}); err != nil {
			return nil, err
		}
		if _, err := s.store.DeleteAgentSessions(ctx, id, nil); err != nil {
			return nil, internal("end sessions", err)
		}
	default:
		return nil, parley.Errorf(parley.EINVALID, "purpose must be invite or reset")
	}
	token := newToken()
	now := s.now().UTC()
	inv := &parley.Invite{TokenHash: hashToken(token), AgentID: a.ID, TenantID: a.TenantID, Purpose: purpose,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, internal("create invite", err)
	}
	action := "agent.invite"
	if purpose == parley.InviteReset {
		action = "agent.password_reset"
	}
	out := &Invitation{Token: token, Purpose: purpose, ExpiresAt: inv.ExpiresAt, AgentID: a.ID, TenantID: a.TenantID, Login: a.Login}
	return out, s.audit(ctx, actor, a.TenantID, action, "agent", a.ID, a.Login, "link valid until "+inv.ExpiresAt.Format(time.RFC3339))
}

// AcceptInvite sets the password of a one-time link's agent and signs
// the agent in; addr is the client's address, for the audit log. The link
// is spent even when it has expired; a password the rules refuse spends
// nothing.
func (s *Service) AcceptInvite(ctx context.Context, token, password, addr string) (string, *parley.Agent, error) {
	if len(token) > 100 {
		return "", nil, parley.Errorf(parley.ENOTFOUND, "the link is unknown, used or expired")
	}
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return "", nil, err
	}
	inv, err := s.store.UseInvite(ctx, hashToken(token), s.now().UTC())
	if isCode(err, parley.ENOTFOUND) {
		return "", nil, err
	} else if err != nil {
		return "", nil, internal("use invite", err)
	}
	a, err := s.changeAgent(ctx, inv.AgentID, func(a *parley.Agent) error {
		if a.Disabled {
			return parley.Errorf(parley.EFORBIDDEN, "the account is disabled")
		}
		a.PasswordHash = hash
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if _, err := s.store.DeleteAgentSessions(ctx, a.ID, nil); err != nil {
		return "", nil, internal("end sessions", err)
	}
	tok, err := s.openSession(ctx, a)
	if err != nil {
		return "", nil, err
	}
	self := Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a, Addr: addr}
	return tok, a, s.audit(ctx, self, a.TenantID, "agent.password_set", "agent", a.ID, a.Login, "with a one-time link ("+string(inv.Purpose)+")")
}

// SetAgentDisabled disables or re-enables an agent. A disabled agent is
// signed out everywhere, goes offline and cannot sign in.
func (s *Service) SetAgentDisabled(ctx context.Context, actor Actor, id int64, disabled bool) (*parley.Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if disabled && id == actor.AgentID() {
		return nil, parley.Errorf(parley.ECONFLICT, "you cannot disable yourself")
	}
	if _, err := s.adminAgent(ctx, actor, id); err != nil {
		return nil, err
	}
	a, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		a.Disabled = disabled
		if disabled {
			a.Presence, a.Status = parley.PresenceOffline, parley.StatusNotReady
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	action := "agent.enable"
	if disabled {
		action = "agent.disable"
		if _, err := s.store.DeleteAgentSessions(ctx, id, nil); err != nil {
			return nil, internal("end sessions", err)
		}
	}
	return a, s.audit(ctx, actor, a.TenantID, action, "agent", a.ID, a.Login, "")
}

// SignOutAgent ends every session of an agent, which goes offline.
func (s *Service) SignOutAgent(ctx context.Context, actor Actor, id int64) (int, error) {
	if err := requireAdmin(actor); err != nil {
		return 0, err
	}
	a, err := s.adminAgent(ctx, actor, id)
	if err != nil {
		return 0, err
	}
	n, err := s.store.DeleteAgentSessions(ctx, id, nil)
	if err != nil {
		return 0, internal("end sessions", err)
	}
	if _, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		a.Presence, a.Status = parley.PresenceOffline, parley.StatusNotReady
		return nil
	}); err != nil {
		return 0, err
	}
	return n, s.audit(ctx, actor, a.TenantID, "agent.sign_out", "agent", a.ID, a.Login, strconv.Itoa(n)+" sessions ended")
}

// photoTypes are the image types an agent's photo may have.
var photoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true}

// PhotoType returns the type of an image an agent's photo may be (PNG,
// JPEG, WebP), read from its bytes; "" for anything else.
func PhotoType(data []byte) string {
	if ct := http.DetectContentType(data); photoTypes[ct] {
		return ct
	}
	return ""
}

// photoURL is where an agent's stored photo with these bytes is served.
func photoURL(agentID int64, data []byte) string {
	sum := sha256.Sum256(data)
	return parley.PhotoPath(agentID, hex.EncodeToString(sum[:6]))
}

// SetAgentPhoto stores an uploaded photo of the agent and points its
// photo_url at it. The type is taken from the bytes, not the client.
func (s *Service) SetAgentPhoto(ctx context.Context, actor Actor, id int64, data []byte) (*parley.Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if _, err := s.adminAgent(ctx, actor, id); err != nil {
		return nil, err
	}
	if len(data) > parley.MaxPhotoBytes {
		return nil, &parley.Error{Code: parley.ETOOLARGE, Message: "the photo is larger than 512 KB", Field: "photo"}
	}
	ct := http.DetectContentType(data)
	if !photoTypes[ct] {
		return nil, parley.FieldErrorf("photo", "the photo must be a PNG, JPEG or WebP image")
	}
	if err := s.store.SetAgentPhoto(ctx, &parley.AgentPhoto{AgentID: id, ContentType: ct, Data: data, UpdatedAt: s.now().UTC()}); err != nil {
		return nil, internal("store photo", err)
	}
	url := photoURL(id, data)
	a, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		a.PhotoURL = url
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, s.audit(ctx, actor, a.TenantID, "agent.photo", "agent", a.ID, a.Login, "uploaded a "+ct+" photo")
}

// DeleteAgentPhoto removes the agent's uploaded photo (and any photo_url).
func (s *Service) DeleteAgentPhoto(ctx context.Context, actor Actor, id int64) (*parley.Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if _, err := s.adminAgent(ctx, actor, id); err != nil {
		return nil, err
	}
	if err := s.store.DeleteAgentPhoto(ctx, id); err != nil && !isCode(err, parley.ENOTFOUND) {
		return nil, internal("delete photo", err)
	}
	a, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		a.PhotoURL = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, s.audit(ctx, actor, a.TenantID, "agent.photo", "agent", a.ID, a.Login, "removed the photo")
}

// AgentPhoto returns an agent's uploaded photo, which visitors see.
func (s *Service) AgentPhoto(ctx context.Context, id int64) (*parley.AgentPhoto, error) {
	p, err := s.store.AgentPhoto(ctx, id)
	if isCode(err, parley.ENOTFOUND) {
		return nil, err
	} else if err != nil {
		return nil, internal("load photo", err)
	}
	return p, nil
}

// TranscriptPreview is a transcript mail rendered from unsaved settings.
type TranscriptPreview struct {
	From    string `json:"from"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// PreviewTranscript renders the transcript mail a group with these
// settings would send, for a sample chat answered by the admin.
func (s *Service) PreviewTranscript(ctx context.Context, actor Actor, g parley.Group) (*TranscriptPreview, error) {
	if _, err := s.targetTenant(ctx, actor, g.TenantID); err != nil {
		return nil, err
	}
	if err := g.Transcript.Validate(); err != nil {
		return nil, err
	}
	if _, err := g.Routing.Location(); err != nil {
		return nil, err
	}
	if g.Name == "" {
		g.Name = "Support"
	}
	from := g.Transcript.Sender
	if from == "" {
		from = s.cfg.MailFrom
	}
	g.Transcript.Sender = from
	now := s.now().UTC()
	start := now.Add(-12 * time.Minute)
	agent := *actor.Agent
	me := parley.Party{Kind: parley.PartyAgent, AgentID: agent.ID, Name: agent.NameForVisitors()}
	vera := parley.Party{Kind: parley.PartyVisitor, Name: "Vera Example"}
	events := []parley.Event{
		{Seq: 1, Type: parley.EventMessage, At: start, From: vera, Text: "Hello, my order 1042 has not arrived yet."},
		{Seq: 2, Type: parley.EventJoined, At: start.Add(time.Minute), From: me},
		{Seq: 3, Type: parley.EventMessage, At: start.Add(2 * time.Minute), From: me, Text: "Let me look that up for you."},
		{Seq: 4, Type: parley.EventMessage, At: start.Add(4 * time.Minute), From: me, Text: "It left our warehouse this morning and arrives tomorrow."},
		{Seq: 5, Type: parley.EventMessage, At: start.Add(5 * time.Minute), From: vera, Text: "Great, thank you!"},
	}
	r := transcript.Render(transcript.Data{Group: &g, Agent: &agent,
		Customer: &parley.Visitor{Name: "Vera Example", Email: "vera@example.com", Phone: "+1 555 0100"},
		Events:   events, Now: now, Received: start})
	return &TranscriptPreview{From: from, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
}

// DeleteGroup deletes a group of the admin's tenant that no chat or
// offline message names, with its memberships, bot, and its own canned
// responses and triggers. A group with chats stays while the archive
// keeps them (ECONFLICT): the retention period removes those in time.
// The former members' routing and consoles are updated.
func (s *Service) DeleteGroup(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	g, err := s.adminGroup(ctx, actor, id)
	if err != nil {
		return err
	}
	agents, err := s.store.Agents(ctx, g.TenantID)
	if err != nil {
		return internal("list agents", err)
	}
	if err := s.store.DeleteGroup(ctx, id); err != nil {
		return internal("delete group", err)
	}
	members := 0
	for _, a := range agents {
		if a.InGroup(id) {
			members++
			if _, err := s.changeAgent(ctx, a.ID, nil); err != nil {
				return err
			}
		}
	}
	detail := ""
	if members > 0 {
		detail = strconv.Itoa(members) + " members removed"
	}
	return s.audit(ctx, actor, g.TenantID, "group.delete", "group", g.ID, g.Name, detail)
}

// DeleteTenant deletes a tenant and everything it holds (admins of the
// default tenant; never the default tenant itself): its ended chats with
// their files, visitors, offline messages and mail as the retention job
// deletes them, then its agents, who are signed out first, its groups and
// its settings. It is refused while one of its chats has not ended. The
// audit log keeps the tenant's entries and records the deletion with the
// counts.
func (s *Service) DeleteTenant(ctx context.Context, actor Actor, id int64) (*parley.Deletion, error) {
	if err := requireSuperadmin(actor); err != nil {
		return nil, err
	}
	if id == parley.DefaultTenantID {
		return nil, parley.Errorf(parley.EINVALID, "the default tenant cannot be deleted")
	}
	t, err := s.store.Tenant(ctx, id)
	if err != nil {
		return nil, internal("load tenant", err)
	}
	active, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: id, ActiveOnly: true, Limit: 1})
	if err != nil {
		return nil, internal("list active chats", err)
	}
	if len(active) > 0 {
		return nil, parley.Errorf(parley.ECONFLICT, "the tenant has chats that have not ended; end them (or let them time out) and delete again")
	}
	total := &parley.Deletion{}
	for {
		d, err := s.store.Purge(ctx, id, s.now().Add(time.Hour), purgeBatch)
		if err != nil {
			return nil, internal("delete the tenant's chats", err)
		}
		if d.Empty() {
			break
		}
		d.Files = s.removeChatFiles(ctx, d.ChatIDs)
		total.Add(d)
	}
	agents, err := s.store.Agents(ctx, id)
	if err != nil {
		return nil, internal("list agents", err)
	}
	rep := &DirectoryReport{}
	for _, a := range agents {
		if !a.Disabled {
			if err := s.disableAgent(ctx, a.ID, rep); err != nil {
				return nil, err
			}
		}
	}
	if err := s.store.DeleteTenant(ctx, id); err != nil {
		return nil, internal("delete tenant", err)
	}
	for _, a := range agents {
		s.router.Do(ctx, routing.AgentRemoved{AgentID: a.ID, At: s.now().UTC()})
	}
	if err := s.store.Scrub(ctx); err != nil {
		s.log.Error("scrub after deleting a tenant; retried by the next retention run or erasure", "err", err)
	}
	detail := fmt.Sprintf("deleted %d agents, %d chats, %d visitors, %d files, %d offline messages, %d mails",
		len(agents), total.Chats, total.Visitors, total.Files, total.OfflineMessages, total.Mails)
	return total, s.audit(ctx, actor, parley.DefaultTenantID, "tenant.delete", "tenant", t.ID, t.Name, detail)
}
