package conversation

import (
	"context"
	"slices"
	"time"

	"github.com/parleychat/parley"
)

// The company directory (LDAP, Active Directory) can own a tenant's agents:
// package directory reads who is in the mapped directory groups and hands
// the result to ApplyDirectory, which creates the groups and agents, keeps
// their names and memberships in step, and disables the agents who left
// (signed out at once, offered nothing). Directory agents sign in with the
// directory password, checked by Config.DirectoryBind. Local accounts are
// never touched, so a local admin always works as a fallback.

// DirectoryUser is a member of the mapped directory groups.
type DirectoryUser struct {
	// DN is the user's entry, bound to when the user signs in.
	DN    string
	Login string
	// DisplayName, Email, Phone and PhotoURL come from the mapped
	// attributes; invalid values are dropped.
	DisplayName string
	Email       string
	Phone       string
	PhotoURL    string
	// Photo is a binary photo (jpegPhoto, thumbnailPhoto), checked to be
	// a PNG, JPEG or WebP image: it becomes the agent's stored photo.
	Photo []byte
	// Groups are the names of the Parley groups the user is a member of.
	Groups []string
}

// DirectorySnapshot is what one sync read from the directory.
type DirectorySnapshot struct {
	// TenantID is the tenant the directory owns agents of; 0 is the
	// default tenant.
	TenantID int64
	// Groups are the names of every mapped Parley group; missing ones are
	// created.
	Groups []string
	Users  []DirectoryUser
}

// DirectoryReport says what a sync changed.
type DirectoryReport struct {
	GroupsCreated  []string `json:"groups_created"`
	AgentsCreated  int      `json:"agents_created"`
	AgentsUpdated  int      `json:"agents_updated"`
	AgentsDisabled int      `json:"agents_disabled"`
	// SessionsEnded counts the sign-ins of disabled agents that ended.
	SessionsEnded int `json:"sessions_ended"`
	// Skipped lists directory users left out, with the reason.
	Skipped []string `json:"skipped"`
}

// ApplyDirectory brings the tenant's directory agents and groups in step
// with snap.
func (s *Service) ApplyDirectory(ctx context.Context, snap DirectorySnapshot) (*DirectoryReport, error) {
	tenant := snap.TenantID
	if tenant == 0 {
		tenant = parley.DefaultTenantID
	}
	rep := &DirectoryReport{GroupsCreated: []string{}, Skipped: []string{}}
	groupIDs := make(map[string]int64, len(snap.Groups))
	for _, name := range snap.Groups {
		g, err := s.store.GroupByName(ctx, tenant, name)
		if isCode(err, parley.ENOTFOUND) {
			g = &parley.Group{TenantID: tenant, Name: name}
			if err := g.Validate(); err != nil {
				return nil, err
			}
			if err := s.store.CreateGroup(ctx, g); err != nil {
				return nil, internal("create group", err)
			}
			if err := s.groupChanged(ctx, g); err != nil {
				return nil, err
			}
			rep.GroupsCreated = append(rep.GroupsCreated, g.Name)
		} else if err != nil {
			return nil, internal("find group", err)
		}
		groupIDs[name] = g.ID
	}
	agents, err := s.store.Agents(ctx, tenant)
	if err != nil {
		return nil, internal("list agents", err)
	}
	byLogin := make(map[string]*parley.Agent, len(agents))
	for _, a := range agents {
		byLogin[a.Login] = a
	}
	seen := map[int64]bool{}
	for _, u := range snap.Users {
		old := byLogin[u.Login]
		if old != nil && old.DirectoryDN == "" {
			rep.Skipped = append(rep.Skipped, u.Login+": the login belongs to a local account")
			continue
		}
		if old != nil && seen[old.ID] {
			rep.Skipped = append(rep.Skipped, u.Login+": two directory entries have this login")
			continue
		}
		if old == nil {
			a, err := s.createDirectoryAgent(ctx, tenant, u, groupIDs)
			if isCode(err, parley.EINVALID) {
				rep.Skipped = append(rep.Skipped, u.Login+": "+parley.ErrorMessage(err))
				continue
			} else if err != nil {
				return nil, err
			}
			seen[a.ID] = true
			rep.AgentsCreated++
			continue
		}
		seen[old.ID] = true
		_, err := s.changeAgent(ctx, old.ID, func(a *parley.Agent) error {
			before := *a
			before.Groups = slices.Clone(a.Groups)
			fillFromDirectory(a, u, groupIDs)
			a.Disabled = false
			if a.Validate() != nil {
				a.Email, a.Phone, a.PhotoURL = "", "", ""
			}
			if agentEqual(&before, a) {
				return errStale
			}
			if a.PhotoURL != before.PhotoURL && u.Photo != nil {
				return s.storeDirectoryPhoto(ctx, a.ID, u.Photo)
			}
			return nil
		})
		switch {
		case err == nil:
			rep.AgentsUpdated++
		case err == errStale:
		case isCode(err, parley.EINVALID):
			rep.Skipped = append(rep.Skipped, u.Login+": "+parley.ErrorMessage(err))
		default:
			return nil, err
		}
	}
	for _, a := range agents {
		if a.DirectoryDN == "" || seen[a.ID] || a.Disabled {
			continue
		}
		if err := s.disableAgent(ctx, a.ID, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// createDirectoryAgent adds a directory user as an agent: offline, not
// ready, without a password of its own.
func (s *Service) createDirectoryAgent(ctx context.Context, tenant int64, u DirectoryUser, groupIDs map[string]int64) (*parley.Agent, error) {
	a := &parley.Agent{TenantID: tenant, Login: u.Login, Role: parley.RoleAgent, Capacity: parley.DefaultCapacity,
		Presence: parley.PresenceOffline, Status: parley.StatusNotReady}
	fillFromDirectory(a, u, groupIDs)
	if a.Validate() != nil {
		a.Email, a.Phone, a.PhotoURL = "", "", ""
	}
	if err := s.checkAgent(ctx, a); err != nil {
		return nil, err
	}
	if err := s.store.CreateAgent(ctx, a); err != nil {
		return nil, internal("create agent", err)
	}
	if u.Photo == nil {
		return s.changeAgent(ctx, a.ID, nil)
	}
	if err := s.storeDirectoryPhoto(ctx, a.ID, u.Photo); err != nil {
		return nil, err
	}
	return s.changeAgent(ctx, a.ID, func(a *parley.Agent) error {
		a.PhotoURL = photoURL(a.ID, u.Photo)
		return nil
	})
}

// storeDirectoryPhoto stores a photo read from the directory as the
// agent's uploaded photo.
func (s *Service) storeDirectoryPhoto(ctx context.Context, id int64, data []byte) error {
	ct := PhotoType(data)
	if ct == "" || len(data) > parley.MaxPhotoBytes {
		return parley.FieldErrorf("photo", "the directory's photo is not a PNG, JPEG or WebP image of at most 512 KB")
	}
	if err := s.store.SetAgentPhoto(ctx, &parley.AgentPhoto{AgentID: id, ContentType: ct, Data: data, UpdatedAt: s.now().UTC()}); err != nil {
		return internal("store photo", err)
	}
	return nil
}

// fillFromDirectory copies what the directory owns onto a: the entry,
// names, contact details and memberships (keeping the capacity of a
// membership that stays).
func fillFromDirectory(a *parley.Agent, u DirectoryUser, groupIDs map[string]int64) {
	a.DirectoryDN, a.DisplayName, a.Email, a.Phone, a.PhotoURL = u.DN, u.DisplayName, u.Email, u.Phone, u.PhotoURL
	if u.Photo != nil && a.ID != 0 {
		// The stored photo's address carries its hash: an unchanged
		// photo leaves the agent as it is.
		a.PhotoURL = photoURL(a.ID, u.Photo)
	}
	if a.DisplayName == "" {
		a.DisplayName = u.Login
	}
	ms := []parley.Membership{}
	for _, name := range u.Groups {
		id, ok := groupIDs[name]
		if !ok || slices.ContainsFunc(ms, func(m parley.Membership) bool { return m.GroupID == id }) {
			continue
		}
		m := parley.Membership{GroupID: id}
		for _, old := range a.Groups {
			if old.GroupID == id {
				m.Capacity = old.Capacity
			}
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y parley.Membership) int { return int(x.GroupID - y.GroupID) })
	a.Groups = ms
}

func agentEqual(x, y *parley.Agent) bool {
	return x.DirectoryDN == y.DirectoryDN && x.DisplayName == y.DisplayName && x.Email == y.Email &&
		x.Phone == y.Phone && x.PhotoURL == y.PhotoURL && x.Disabled == y.Disabled && slices.Equal(x.Groups, y.Groups)
}

// disableAgent takes an agent who left the directory groups out of
// routing and signs it out everywhere: it is disabled, offline, in no
// group, and its sessions are deleted. Its consoles are told.
func (s *Service) disableAgent(ctx context.Context, id int64, rep *DirectoryReport) error {
	_, err := s.changeAgent(ctx, id, func(a *parley.Agent) error {
		a.Disabled, a.Groups, a.Status, a.StatusReason = true, []parley.Membership{}, parley.StatusNotReady, ""
		combinePresence(a, parley.PresenceOffline)
		return nil
	})
	if err != nil {
		return err
	}
	n, err := s.store.DeleteAgentSessions(ctx, id, nil)
	if err != nil {
		return internal("end sessions", err)
	}
	rep.AgentsDisabled++
	rep.SessionsEnded += n
	return nil
}

// directoryLogin checks a directory agent's password by binding to the
// directory as the agent.
func (s *Service) directoryLogin(ctx context.Context, a *parley.Agent, password string) error {
	denied := parley.Errorf(parley.EUNAUTHORIZED, "wrong login or password")
	// An empty password would be an unauthenticated bind, which LDAP
	// servers accept without checking anything.
	if a.Disabled || s.cfg.DirectoryBind == nil || password == "" {
		return denied
	}
	err := s.cfg.DirectoryBind(ctx, a.DirectoryDN, password)
	switch {
	case err == nil:
		return nil
	case isCode(err, parley.EUNAUTHORIZED):
		return denied
	case ctx.Err() != nil:
		return ctx.Err()
	}
	s.log.Warn("directory sign-in failed", "agent", a.ID, "err", err)
	return parley.Errorf(parley.EUNAVAILABLE, "the company directory cannot be reached; try again later")
}

// DirectoryStatus is a configured directory and its latest sync.
type DirectoryStatus struct {
	Configured      bool   `json:"configured"`
	URL             string `json:"url,omitempty"`
	TenantID        int64  `json:"tenant_id,omitempty"`
	IntervalSeconds int    `json:"interval_seconds,omitempty"`
	// Mapping is how directory entries become agents and groups, for the
	// admin console to show; it holds no password.
	Mapping *DirectoryMapping `json:"mapping,omitempty"`
	At      time.Time         `json:"at,omitzero"`
	Report  *DirectoryReport  `json:"report,omitempty"`
	// Error is why the latest sync failed; empty after a success.
	Error string `json:"error,omitempty"`
}

// DirectoryMapping is a directory's configured mapping onto Parley.
type DirectoryMapping struct {
	// Security is how the connection is protected: "ldaps", "starttls"
	// or "plain".
	Security   string `json:"security"`
	BindDN     string `json:"bind_dn,omitempty"`
	BaseDN     string `json:"base_dn"`
	UserFilter string `json:"user_filter"`
	// Groups are the agent groups; Portal is the portal group.
	Groups []DirectoryGroupMapping `json:"groups"`
	Portal *DirectoryGroupMapping  `json:"portal,omitempty"`
	// The attributes read from a user's entry.
	LoginAttribute string `json:"login_attribute"`
	NameAttribute  string `json:"name_attribute"`
	MailAttribute  string `json:"mail_attribute"`
	PhoneAttribute string `json:"phone_attribute"`
	PhotoAttribute string `json:"photo_attribute,omitempty"`
	// NestedGroups says whether members of nested groups count.
	NestedGroups bool `json:"nested_groups"`
}

// DirectoryGroupMapping maps a directory group (its CN or DN) onto a
// Parley group by name.
type DirectoryGroupMapping struct {
	Directory string `json:"directory"`
	Group     string `json:"group"`
}
