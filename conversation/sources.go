package conversation

import (
	"context"
	"strings"

	"github.com/parleychat/parley"
)

// Presence sources. An agent's presence is its own choice (PUT
// /api/v1/me/presence), except that while the agent chose available, a
// presence source that reports it busy makes it away with the source as
// PresenceReason: the phone system's "on a call" (reason call) first, then
// a busy calendar entry (reason meeting). When the sources end, the agent
// is available again. Away, busy and offline chosen by the agent are never
// changed by a source. The stored presence is always the combined one, so
// routing, the supervisor and the portal read it as they read any presence.

// ownPresence is the presence the agent chose: available while a source
// holds it away.
func ownPresence(a *parley.Agent) parley.Presence {
	if a.PresenceReason != "" {
		return parley.PresenceAvailable
	}
	return a.Presence
}

// combinePresence sets a's presence from its own choice and its sources.
func combinePresence(a *parley.Agent, own parley.Presence) {
	a.Presence, a.PresenceReason = own, ""
	if own != parley.PresenceAvailable {
		return
	}
	switch {
	case a.OnCall:
		a.Presence, a.PresenceReason = parley.PresenceAway, parley.ReasonCall
	case a.InMeeting:
		a.Presence, a.PresenceReason = parley.PresenceAway, parley.ReasonMeeting
	}
}

// CallParty names the agent a phone system reports: by login, or by the
// phone number or extension on the agent's record.
type CallParty struct {
	Login string `json:"login,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// SetOnCall records the telephony source's report for an agent of the
// integration's tenant: on a call, or the call ended.
func (s *Service) SetOnCall(ctx context.Context, in *Integration, who CallParty, onCall bool) (*parley.Agent, error) {
	a, err := s.callAgent(ctx, in.TenantID, who)
	if err != nil {
		return nil, err
	}
	return s.setSource(ctx, a.ID, func(a *parley.Agent) bool {
		if a.OnCall == onCall {
			return false
		}
		a.OnCall = onCall
		return true
	})
}

// SetInMeeting records the calendar source's finding for an agent: a busy
// entry now, or none. An unchanged finding changes nothing.
func (s *Service) SetInMeeting(ctx context.Context, agentID int64, inMeeting bool) (*parley.Agent, error) {
	return s.setSource(ctx, agentID, func(a *parley.Agent) bool {
		if a.InMeeting == inMeeting {
			return false
		}
		a.InMeeting = inMeeting
		return true
	})
}

// setSource changes a source's state with report and combines the
// presence again, under routing's lock. It returns the agent unchanged
// when report reports no change.
func (s *Service) setSource(ctx context.Context, agentID int64, report func(*parley.Agent) bool) (*parley.Agent, error) {
	a, err := s.changeAgent(ctx, agentID, func(a *parley.Agent) error {
		own := ownPresence(a)
		if !report(a) {
			return errStale
		}
		combinePresence(a, own)
		return nil
	})
	if err == errStale {
		return s.store.Agent(ctx, agentID)
	}
	return a, err
}

// callAgent finds the agent a phone system names, in tenant.
func (s *Service) callAgent(ctx context.Context, tenantID int64, who CallParty) (*parley.Agent, error) {
	notFound := parley.Errorf(parley.ENOTFOUND, "no agent has this login or phone")
	switch {
	case who.Login != "" && who.Phone != "":
		return nil, parley.Errorf(parley.EINVALID, "name the agent by login or by phone, not both")
	case who.Login != "":
		if len(who.Login) > 100 {
			return nil, notFound
		}
		a, err := s.store.AgentByLogin(ctx, tenantID, who.Login)
		if isCode(err, parley.ENOTFOUND) {
			return nil, notFound
		}
		if err != nil {
			return nil, internal("find agent", err)
		}
		return a, nil
	case who.Phone != "":
		want := phoneDigits(who.Phone)
		if want == "" || len(who.Phone) > 50 {
			return nil, parley.Errorf(parley.EINVALID, "phone must hold digits")
		}
		agents, err := s.store.Agents(ctx, tenantID)
		if err != nil {
			return nil, internal("list agents", err)
		}
		var found *parley.Agent
		for _, a := range agents {
			if a.Phone != "" && phoneDigits(a.Phone) == want {
				if found != nil {
					return nil, parley.Errorf(parley.ECONFLICT, "several agents have this phone; name the agent by login")
				}
				found = a
			}
		}
		if found == nil {
			return nil, notFound
		}
		return found, nil
	}
	return nil, parley.Errorf(parley.EINVALID, "login or phone is required")
}

// phoneDigits reduces a phone number to its digits and a leading +, so
// "+49 89 1234-201" and "+4989 1234201" match.
func phoneDigits(p string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(p) {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CalendarAgent is an agent with a calendar feed, for the calendar
// source.
type CalendarAgent struct {
	ID        int64
	TenantID  int64
	URL       string
	InMeeting bool
}

// CalendarAgents lists the agents of every tenant that have a calendar
// feed and can take chats (not disabled).
func (s *Service) CalendarAgents(ctx context.Context) ([]CalendarAgent, error) {
	agents, err := s.store.Agents(ctx, 0)
	if err != nil {
		return nil, internal("list agents", err)
	}
	var out []CalendarAgent
	for _, a := range agents {
		if a.CalendarURL != "" && !a.Disabled {
			out = append(out, CalendarAgent{ID: a.ID, TenantID: a.TenantID, URL: a.CalendarURL, InMeeting: a.InMeeting})
		}
	}
	return out, nil
}
