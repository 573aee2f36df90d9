package conversation

import (
	"context"
	"slices"

	"github.com/parleychat/parley"
)

// PublicAgent is what anyone may see of an agent, for the contact portal
// and the business card: no login, email, role or status reason.
type PublicAgent struct {
	ID     int64         `json:"id"`
	Name   string        `json:"name"`
	Groups []PublicGroup `json:"groups"`
	// Available is true while the agent's presence is available.
	Available bool `json:"available"`
	// PhotoURL is the agent's photo, when it has one.
	PhotoURL string `json:"photo_url,omitempty"`
}

// PublicGroup names a group of a PublicAgent.
type PublicGroup struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PublicAgents lists the agents of a tenant's groups (groupIDs nil: of
// every group) by name. Agents in no group are never listed.
func (s *Service) PublicAgents(ctx context.Context, tenantID int64, groupIDs []int64) ([]PublicAgent, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	groups, err := s.store.Groups(ctx, tenantID)
	if err != nil {
		return nil, internal("list groups", err)
	}
	names := make(map[int64]string, len(groups))
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	for _, id := range groupIDs {
		if _, ok := names[id]; !ok {
			return nil, parley.Errorf(parley.ENOTFOUND, "group %d not found", id)
		}
	}
	agents, err := s.store.Agents(ctx, tenantID)
	if err != nil {
		return nil, internal("list agents", err)
	}
	out := []PublicAgent{}
	for _, a := range agents {
		p, ok := publicAgent(a, names, groupIDs)
		if ok {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b PublicAgent) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// PublicAgentByID returns one agent for its business card.
func (s *Service) PublicAgentByID(ctx context.Context, tenantID, id int64) (*PublicAgent, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	a, err := s.store.Agent(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && a.TenantID != tenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent not found")
	}
	if err != nil {
		return nil, internal("load agent", err)
	}
	groups, err := s.store.Groups(ctx, tenantID)
	if err != nil {
		return nil, internal("list groups", err)
	}
	names := make(map[int64]string, len(groups))
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	p, ok := publicAgent(a, names, nil)
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent not found")
	}
	return &p, nil
}

// publicAgent projects a onto its public fields; ok is false when the
// agent is in none of the wanted groups (nil: any group).
func publicAgent(a *parley.Agent, names map[int64]string, want []int64) (PublicAgent, bool) {
	if a.Disabled {
		return PublicAgent{}, false
	}
	p := PublicAgent{ID: a.ID, Name: a.NameForVisitors(), Groups: []PublicGroup{}, Available: a.Presence == parley.PresenceAvailable, PhotoURL: a.PhotoURL}
	match := false
	for _, m := range a.Groups {
		name, ok := names[m.GroupID]
		if !ok {
			continue
		}
		p.Groups = append(p.Groups, PublicGroup{ID: m.GroupID, Name: name})
		if want == nil || slices.Contains(want, m.GroupID) {
			match = true
		}
	}
	return p, match
}
