package conversation

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

func requireAdmin(actor Actor) error {
	if !actor.hasRole(parley.RoleAdmin) {
		return parley.Errorf(parley.EFORBIDDEN, "this needs the admin role")
	}
	return nil
}

// CreateTenant adds a tenant. Only admins of the default tenant manage
// tenants.
func (s *Service) CreateTenant(ctx context.Context, actor Actor, name string) (*parley.Tenant, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if actor.TenantID != parley.DefaultTenantID {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only admins of the default tenant manage tenants")
	}
	t := &parley.Tenant{Name: name}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return nil, internal("create tenant", err)
	}
	return t, s.audit(ctx, actor, t.ID, "tenant.create", "tenant", t.ID, t.Name, "")
}

// Tenants lists the tenants (admins of the default tenant only).
func (s *Service) Tenants(ctx context.Context, actor Actor) ([]*parley.Tenant, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if actor.TenantID != parley.DefaultTenantID {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only admins of the default tenant manage tenants")
	}
	return s.store.Tenants(ctx)
}

// targetTenant returns the tenant an admin works on: its own, or for an
// admin of the default tenant any tenant it names.
func (s *Service) targetTenant(ctx context.Context, actor Actor, tenantID int64) (int64, error) {
	if err := requireAdmin(actor); err != nil {
		return 0, err
	}
	if tenantID == 0 || tenantID == actor.TenantID {
		return actor.TenantID, nil
	}
	if actor.TenantID != parley.DefaultTenantID {
		return 0, parley.Errorf(parley.ENOTFOUND, "tenant not found")
	}
	if _, err := s.store.Tenant(ctx, tenantID); err != nil {
		return 0, internal("find tenant", err)
	}
	return tenantID, nil
}

// Groups lists the groups of the actor's tenant. Everyone logged in may
// read them (agents pick transfer targets from them).
func (s *Service) Groups(ctx context.Context, actor Actor) ([]*parley.Group, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents list groups")
	}
	return s.store.Groups(ctx, actor.TenantID)
}

// CreateGroup adds a group to the admin's tenant (or to g.TenantID for
// admins of the default tenant).
func (s *Service) CreateGroup(ctx context.Context, actor Actor, g *parley.Group) error {
	tenant, err := s.targetTenant(ctx, actor, g.TenantID)
	if err != nil {
		return err
	}
	g.TenantID = tenant
	if err := g.Validate(); err != nil {
		return err
	}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		return internal("create group", err)
	}
	if err := s.groupChanged(ctx, g); err != nil {
		return err
	}
	return s.audit(ctx, actor, g.TenantID, "group.create", "group", g.ID, g.Name, "")
}

// GroupUpdate changes the fields that are set.
type GroupUpdate struct {
	Name           *string              `json:"name"`
	WelcomeMessage *string              `json:"welcome_message"`
	QueueMessage   *string              `json:"queue_message"`
	ClosedMessage  *string              `json:"closed_message"`
	Limits         *parley.GroupLimits  `json:"limits"`
	Routing        *parley.GroupRouting `json:"routing"`
	// Transcript replaces the group's transcript settings.
	Transcript *parley.GroupTranscript `json:"transcript"`
}

// UpdateGroup changes a group of the admin's tenant.
func (s *Service) UpdateGroup(ctx context.Context, actor Actor, id int64, u GroupUpdate) (*parley.Group, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	g, err := s.adminGroup(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	before := *g
	set(&g.Name, u.Name)
	set(&g.WelcomeMessage, u.WelcomeMessage)
	set(&g.QueueMessage, u.QueueMessage)
	set(&g.ClosedMessage, u.ClosedMessage)
	set(&g.Limits, u.Limits)
	set(&g.Routing, u.Routing)
	set(&g.Transcript, u.Transcript)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpdateGroup(ctx, g); err != nil {
		return nil, internal("update group", err)
	}
	if err := s.groupChanged(ctx, g); err != nil {
		return nil, err
	}
	if u.Limits != nil {
		// A capacity override changes the members' routing.
		agents, err := s.store.Agents(ctx, g.TenantID)
		if err != nil {
			return nil, internal("list agents", err)
		}
		for _, a := range agents {
			if a.InGroup(g.ID) {
				if _, err := s.changeAgent(ctx, a.ID, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	return g, s.audit(ctx, actor, g.TenantID, "group.update", "group", g.ID, g.Name, changed(before, g))
}

func (s *Service) adminGroup(ctx context.Context, actor Actor, id int64) (*parley.Group, error) {
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return nil, internal("load group", err)
	}
	if g.TenantID != actor.TenantID && actor.TenantID != parley.DefaultTenantID {
		return nil, parley.Errorf(parley.ENOTFOUND, "group not found")
	}
	return g, nil
}

// Agents lists the agents of the actor's tenant. Agents see colleagues
// (for transfers); only admins see every field.
func (s *Service) Agents(ctx context.Context, actor Actor) ([]*parley.Agent, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents list agents")
	}
	agents, err := s.store.Agents(ctx, actor.TenantID)
	if err != nil || actor.hasRole(parley.RoleAdmin) {
		return agents, err
	}
	// A calendar feed's address is often its only credential.
	for _, a := range agents {
		if a.ID != actor.Agent.ID {
			a.CalendarURL = ""
		}
	}
	return agents, nil
}

// NewAgent is an agent to create, with its initial password; without
// one the agent cannot sign in until it follows an invitation link
// (InviteAgent).
type NewAgent struct {
	parley.Agent
	Password string `json:"password"`
}

// CreateAgent adds an agent to the admin's tenant. Presence starts
// offline and status not ready (the agent goes ready when it wants
// chats); capacity defaults to DefaultCapacity.
func (s *Service) CreateAgent(ctx context.Context, actor Actor, in NewAgent) (*parley.Agent, error) {
	tenant, err := s.targetTenant(ctx, actor, in.TenantID)
	if err != nil {
		return nil, err
	}
	a := in.Agent
	a.ID, a.TenantID, a.CreatedAt = 0, tenant, time.Time{}
	// Only the directory sync links agents to the directory, and only the
	// presence sources report.
	a.DirectoryDN, a.OnCall, a.InMeeting, a.PresenceReason = "", false, false, ""
	if a.Role == "" {
		a.Role = parley.RoleAgent
	}
	if a.Capacity == 0 {
		a.Capacity = parley.DefaultCapacity
	}
	if a.Presence == "" {
		a.Presence = parley.PresenceOffline
	}
	if a.Status == "" {
		a.Status = parley.StatusNotReady
	}
	if a.DisplayName == "" {
		a.DisplayName = a.Login
	}
	if err := s.checkAgent(ctx, &a); err != nil {
		return nil, err
	}
	a.PasswordHash = ""
	if in.Password != "" {
		if a.PasswordHash, err = s.HashPassword(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateAgent(ctx, &a); err != nil {
		if isCode(err, parley.ECONFLICT) {
			return nil, parley.FieldErrorf("login", "the login %q is taken", a.Login)
		}
		return nil, internal("create agent", err)
	}
	created, err := s.changeAgent(ctx, a.ID, nil)
	if err != nil {
		return nil, err
	}
	return created, s.audit(ctx, actor, a.TenantID, "agent.create", "agent", a.ID, a.Login, "role "+string(a.Role))
}

func (s *Service) checkAgent(ctx context.Context, a *parley.Agent) error {
	if err := a.Validate(); err != nil {
		return err
	}
	for _, m := range a.Groups {
		g, err := s.store.Group(ctx, m.GroupID)
		if err != nil || g.TenantID != a.TenantID {
			if err != nil && !isCode(err, parley.ENOTFOUND) {
				return internal("load group", err)
			}
			return parley.FieldErrorf("groups", "group %d does not exist", m.GroupID)
		}
	}
	return nil
}

// AgentUpdate changes the fields that are set.
type AgentUpdate struct {
	DisplayName *string              `json:"display_name"`
	ChatName    *string              `json:"chat_name"`
	FirstName   *string              `json:"first_name"`
	LastName    *string              `json:"last_name"`
	Email       *string              `json:"email"`
	PhotoURL    *string              `json:"photo_url"`
	Phone       *string              `json:"phone"`
	CalendarURL *string              `json:"calendar_url"`
	Role        *parley.Role         `json:"role"`
	Capacity    *int                 `json:"capacity"`
	Groups      *[]parley.Membership `json:"groups"`
	Password    *string              `json:"password"`
}

// UpdateAgent changes an agent of the admin's tenant.
func (s *Service) UpdateAgent(ctx context.Context, actor Actor, id int64, u AgentUpdate) (*parley.Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var hash string
	if u.Password != nil {
		// Hash before taking routing's lock: it takes a while.
		var err error
		if hash, err = s.HashPassword(ctx, *u.Password); err != nil {
			return nil, err
		}
	}
	var before parley.Agent
	a, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		if a.TenantID != actor.TenantID && actor.TenantID != parley.DefaultTenantID {
			return parley.Errorf(parley.ENOTFOUND, "agent not found")
		}
		before = *a
		if u.Role != nil && *u.Role != parley.RoleAdmin && a.ID == actor.AgentID() {
			return parley.FieldErrorf("role", "you cannot take the admin role from yourself")
		}
		set(&a.DisplayName, u.DisplayName)
		set(&a.ChatName, u.ChatName)
		set(&a.FirstName, u.FirstName)
		set(&a.LastName, u.LastName)
		set(&a.Email, u.Email)
		set(&a.PhotoURL, u.PhotoURL)
		set(&a.Phone, u.Phone)
		if u.CalendarURL != nil && *u.CalendarURL != a.CalendarURL {
			// A new or removed feed is read afresh; until then the agent
			// is not held in a meeting.
			own := ownPresence(a)
			a.CalendarURL, a.InMeeting = *u.CalendarURL, false
			combinePresence(a, own)
		}
		set(&a.Role, u.Role)
		set(&a.Capacity, u.Capacity)
		set(&a.Groups, u.Groups)
		if hash != "" {
			if a.DirectoryDN != "" {
				return parley.Errorf(parley.EINVALID, "%s signs in with the company directory's password; set it there", a.Login)
			}
			a.PasswordHash = hash
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	detail := changed(before, a)
	if u.Password != nil {
		// A reset password ends every login made with the old one.
		if _, err := s.store.DeleteAgentSessions(ctx, a.ID, nil); err != nil {
			return nil, internal("end sessions", err)
		}
		detail += "; password set"
	}
	return a, s.audit(ctx, actor, a.TenantID, "agent.update", "agent", a.ID, a.Login, detail)
}

// EnsureAdmin creates the first admin of the default tenant when there is
// none, with a random password that is returned once.
func (s *Service) EnsureAdmin(ctx context.Context) (login, password string, created bool, err error) {
	agents, err := s.store.Agents(ctx, parley.DefaultTenantID)
	if err != nil {
		return "", "", false, internal("list agents", err)
	}
	for _, a := range agents {
		if a.Role == parley.RoleAdmin {
			return "", "", false, nil
		}
	}
	password = newToken()
	a := parley.Agent{
		TenantID: parley.DefaultTenantID, Login: "admin", DisplayName: "Administrator",
		Role: parley.RoleAdmin, Capacity: parley.DefaultCapacity,
		Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{},
	}
	if a.PasswordHash, err = s.HashPassword(ctx, password); err != nil {
		return "", "", false, err
	}
	if err := s.store.CreateAgent(ctx, &a); err != nil {
		return "", "", false, internal("create admin", err)
	}
	return a.Login, password, true, nil
}

// Seed creates groups and agents directly, without an acting admin (for
// --demo and tests). Agents get password as their password.
func (s *Service) Seed(ctx context.Context, groups []*parley.Group, agents []*parley.Agent, password string) error {
	for _, g := range groups {
		if err := g.Validate(); err != nil {
			return err
		}
		if err := s.store.CreateGroup(ctx, g); err != nil {
			return internal("seed group", err)
		}
		if err := s.groupChanged(ctx, g); err != nil {
			return err
		}
	}
	for _, a := range agents {
		if err := s.checkAgent(ctx, a); err != nil {
			return err
		}
		hash, err := s.HashPassword(ctx, password)
		if err != nil {
			return err
		}
		a.PasswordHash = hash
		if err := s.store.CreateAgent(ctx, a); err != nil {
			return internal("seed agent", err)
		}
		if _, err := s.changeAgent(ctx, a.ID, nil); err != nil {
			return err
		}
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
