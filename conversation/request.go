package conversation

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// ChatRequest asks for a chat with a group.
type ChatRequest struct {
	// TenantID 0 means the default tenant.
	TenantID int64
	// GroupID or GroupName names the group; the ID wins when both are set.
	GroupID   int64
	GroupName string
	// Groups is a prioritized list of group IDs (estos "groups"): the
	// first group with an agent who can take the chat now gets it, else it
	// waits in the first open group. It replaces GroupID and GroupName.
	Groups []int64
	// Visitor holds the visitor's details (ID and token are ignored).
	Visitor parley.Visitor
	// VisitorToken, when valid, keeps the identity of a returning visitor.
	VisitorToken string
	// SessionID is the client's own session identifier.
	SessionID string
	// Message is the visitor's first question, shown to both sides.
	Message string
	// MessageToAgent is shown to agents only (InitialMessageToAgent).
	MessageToAgent string
	// Context is the visitor's page and browser as the widget reports
	// them; nil when the client sends none. Only agents see it.
	Context *parley.ChatContext
	// IdleTimeout is the client's idle timeout; 0 keeps the server's. The
	// lesser of this and the server's CustomerTimeout applies.
	IdleTimeout time.Duration
	// AgentID asks for one agent of the group (the contact portal and the
	// business card): the agent is preferred as after an earlier chat,
	// and the chat goes to another member after the preferred wait.
	AgentID int64
	// TriggerID is the trigger whose greeting the visitor answered: the
	// chat begins with its message (conversation/triggers.go).
	TriggerID int64
}

// ChatStarted is the result of RequestChat.
type ChatStarted struct {
	Chat *ChatView
	// VisitorToken is the visitor's credential for this and later chats.
	VisitorToken string
	// Message is the group's queue message, if it has one.
	Message string
}

// checkRequestedAgent makes sure a requested agent is a member of the
// chat's group in the tenant.
func (s *Service) checkRequestedAgent(ctx context.Context, tenantID, agentID, groupID int64) error {
	a, err := s.store.Agent(ctx, agentID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && a.TenantID != tenantID) {
		return parley.Errorf(parley.EINVALID, "agent %d does not exist", agentID)
	}
	if err != nil {
		return internal("load requested agent", err)
	}
	for _, m := range a.Groups {
		if m.GroupID == groupID {
			return nil
		}
	}
	return parley.Errorf(parley.EINVALID, "agent %d is not a member of the chat's group", agentID)
}

// RequestChat creates a chat for a visitor and routes it. A closed group
// gives an ECLOSED error whose message is the group's closed message.
func (s *Service) RequestChat(ctx context.Context, req ChatRequest) (*ChatStarted, error) {
	if req.TenantID == 0 {
		req.TenantID = parley.DefaultTenantID
	}
	if err := s.chatRequestAllowed(ctx); err != nil {
		return nil, err
	}
	if err := s.routingReachable(); err != nil {
		return nil, err
	}
	groups, err := s.requestedGroups(ctx, req)
	if err != nil {
		return nil, err
	}
	g := groups[0]
	limits := s.limits(g)
	if req.Message != "" {
		if req.Message, err = checkText(req.Message, limits.maxLen); err != nil {
			return nil, err
		}
	}
	if req.MessageToAgent != "" {
		if req.MessageToAgent, err = checkText(req.MessageToAgent, limits.maxLen); err != nil {
			return nil, err
		}
	}
	if req.IdleTimeout < 0 {
		return nil, parley.Errorf(parley.EINVALID, "idle timeout must not be negative")
	}
	if len(req.SessionID) > 200 {
		return nil, parley.Errorf(parley.EINVALID, "session id is longer than 200 characters")
	}
	if !utf8.ValidString(req.SessionID) {
		return nil, parley.Errorf(parley.EINVALID, "session id is not valid UTF-8")
	}
	if err := parley.CheckChars("session id", req.SessionID, false); err != nil {
		return nil, err
	}
	details := req.Visitor
	if s.cfg.IgnoreCustomerDetails {
		details.Name, details.Email, details.Phone = "", "", ""
	}
	if err := details.Validate(); err != nil {
		return nil, err
	}
	if req.Context != nil {
		if err := req.Context.Validate(); err != nil {
			return nil, err
		}
		if *req.Context == (parley.ChatContext{}) {
			req.Context = nil
		}
	}
	ids := make([]int64, len(groups))
	for i, gr := range groups {
		ids[i] = gr.ID
	}
	open := s.routingSays(func(e routing.View) bool { _, open := e.FirstOpen(ids, s.now().UTC()); return open })
	if !open {
		return nil, closedError(g)
	}
	if req.AgentID != 0 {
		if err := s.checkRequestedAgent(ctx, req.TenantID, req.AgentID, g.ID); err != nil {
			return nil, err
		}
	}

	greeting, err := s.triggerGreeting(ctx, req.TenantID, req.TriggerID, g.ID)
	if err != nil {
		return nil, err
	}

	// The session limit is checked before anything is created.
	slot, err := s.sessions.reserve()
	if err != nil {
		return nil, err
	}
	defer slot.release()
	visitor, token, returning, err := s.visitorFor(ctx, req.TenantID, req.VisitorToken, details)
	if err != nil {
		return nil, err
	}
	var sticky, preferred int64
	if returning {
		if sticky, preferred, err = s.partners(ctx, visitor); err != nil {
			return nil, err
		}
	}
	if req.AgentID != 0 {
		preferred = req.AgentID
	}
	if s.cfg.PreferredWait < 0 {
		preferred = 0 // preferred agents are turned off
	}
	now := s.now().UTC()
	c := &parley.Chat{
		ID: newID(), TenantID: req.TenantID, GroupID: g.ID, VisitorID: visitor.ID,
		State: parley.StateQueued, Cause: parley.CauseNone, SessionID: req.SessionID,
		IdleTimeout: s.idleTimeout(limits.idle, req.IdleTimeout),
		CreatedAt:   now, QueuedAt: now,
	}
	vp := parley.Party{Kind: parley.PartyVisitor, Name: visitor.Name}
	c.Participants = []parley.Participant{{Party: vp, JoinedAt: now}}
	events := []parley.Event{
		{Type: parley.EventJoined, From: vp},
		{Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateQueued}},
	}
	botJoin := s.botFirst(ctx, c, now) // a bot-first group's bot takes the chat before routing
	events = append(events, botJoin...)
	if req.Context != nil {
		events = append(events, pageEvent(vp, req.Context))
	}
	events = append(events, greeting...)
	if req.Message != "" {
		events = append(events, parley.Event{Type: parley.EventMessage, From: vp, Text: req.Message})
	}
	if req.MessageToAgent != "" {
		events = append(events, parley.Event{Type: parley.EventMessage, From: vp, Text: req.MessageToAgent, Audience: parley.AudienceAgents})
	}
	if g.QueueMessage != "" {
		events = append(events, parley.Event{Type: parley.EventMessage, From: system, Text: g.QueueMessage})
	}
	stamp(c.ID, now, events)
	stored, err := s.store.CreateChat(ctx, c, events)
	if err != nil {
		return nil, internal("create chat", err)
	}
	slot.commit(c.ID)
	s.count(func(st *Stats) { st.chatsRequested++ })
	s.publish(ctx, stored...)
	s.visitorSeen(c.ID)
	if botJoin == nil {
		s.enqueue(ctx, routing.ChatQueued{ChatID: c.ID, Groups: ids, Priority: c.Priority, At: now,
			Sticky: sticky, Preferred: preferred})
	}

	c, err = s.store.Chat(ctx, c.ID)
	if err != nil {
		return nil, internal("reload chat", err)
	}
	if !c.Active() {
		// Every group closed while the chat was being placed.
		return nil, closedError(g)
	}
	view, err := s.view(ctx, c, false)
	if err != nil {
		return nil, err
	}
	return &ChatStarted{Chat: view, VisitorToken: token, Message: g.QueueMessage}, nil
}

func closedError(g *parley.Group) error {
	msg := g.ClosedMessage
	if msg == "" {
		msg = "No agent is available at the moment."
	}
	return parley.Errorf(parley.ECLOSED, "%s", msg)
}

// requestedGroups resolves the groups a request names, in order, without
// duplicates and without the groups that refuse requests.
func (s *Service) requestedGroups(ctx context.Context, req ChatRequest) ([]*parley.Group, error) {
	if len(req.Groups) > 20 {
		return nil, parley.Errorf(parley.EINVALID, "a request lists at most 20 groups")
	}
	var groups []*parley.Group
	if len(req.Groups) == 0 {
		g, err := s.findGroup(ctx, req.TenantID, req.GroupID, req.GroupName)
		if err != nil {
			return nil, err
		}
		groups = []*parley.Group{g}
	}
	for _, id := range req.Groups {
		g, err := s.findGroup(ctx, req.TenantID, id, "")
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(groups, func(x *parley.Group) bool { return x.ID == id }) {
			groups = append(groups, g)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(groups), func(g *parley.Group) bool { return slices.Contains(s.cfg.RejectGroups, g.ID) })
	if len(kept) == 0 {
		return nil, parley.Errorf(parley.EFORBIDDEN, "chat requests for this group are refused")
	}
	return kept, nil
}

// partners returns the agent of the visitor's chat still going on (sticky)
// and of its latest earlier chat (preferred).
func (s *Service) partners(ctx context.Context, v *parley.Visitor) (sticky, preferred int64, err error) {
	chats, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: v.TenantID, VisitorID: v.ID})
	if err != nil {
		return 0, 0, internal("list visitor chats", err)
	}
	for i := len(chats) - 1; i >= 0; i-- { // newest first
		c := chats[i]
		switch {
		case c.AgentID == 0:
		case c.State == parley.StateHandling && sticky == 0:
			sticky = c.AgentID
		case c.State == parley.StateTerminated && preferred == 0:
			preferred = c.AgentID
		}
	}
	return sticky, preferred, nil
}

// visitorFor returns the visitor of a valid token, with its details
// updated (returning), or a new visitor with a new token.
func (s *Service) visitorFor(ctx context.Context, tenantID int64, token string, details parley.Visitor) (_ *parley.Visitor, _ string, returning bool, _ error) {
	if token != "" {
		v, err := s.store.VisitorByToken(ctx, hashToken(token))
		if err == nil && v.TenantID == tenantID && strings.HasPrefix(token, visitorTokenPrefix) {
			// What the visitor tells again replaces what it told before;
			// what it leaves out is kept.
			for _, f := range []struct{ dst, src *string }{
				{&v.Name, &details.Name}, {&v.Email, &details.Email}, {&v.Phone, &details.Phone},
				{&v.CustomerID, &details.CustomerID}, {&v.PrivateData, &details.PrivateData},
			} {
				if *f.src != "" {
					*f.dst = *f.src
				}
			}
			if details.TZOffset != 0 {
				v.TZOffset = details.TZOffset
			}
			if err := s.store.UpdateVisitor(ctx, v); err != nil {
				return nil, "", false, internal("update visitor", err)
			}
			return v, token, true, nil
		}
		if err != nil && !isCode(err, parley.ENOTFOUND) {
			return nil, "", false, internal("find visitor", err)
		}
		// An unknown or foreign token starts a new identity.
	}
	token = visitorTokenPrefix + newToken()
	v := details
	v.ID, v.TenantID, v.TokenHash = newID(), tenantID, hashToken(token)
	if err := s.store.CreateVisitor(ctx, &v); err != nil {
		return nil, "", false, internal("create visitor", err)
	}
	return &v, token, false, nil
}

func (s *Service) findGroup(ctx context.Context, tenantID, id int64, name string) (*parley.Group, error) {
	var (
		g   *parley.Group
		err error
	)
	switch {
	case id != 0:
		g, err = s.store.Group(ctx, id)
		if err == nil && g.TenantID != tenantID {
			return nil, parley.Errorf(parley.ENOTFOUND, "group not found")
		}
	case strings.TrimSpace(name) != "":
		g, err = s.store.GroupByName(ctx, tenantID, strings.TrimSpace(name))
	default:
		return nil, parley.Errorf(parley.EINVALID, "a group id or name is required")
	}
	if err != nil {
		return nil, internal("find group", err)
	}
	return g, nil
}

func (s *Service) groupOpen(groupID int64) bool {
	return s.routingSays(func(e routing.View) bool { return e.GroupOpen(groupID, s.now().UTC()) })
}

// routingSays asks routing a yes-or-no question whose "no" refuses the
// caller (a group closed). A cluster's follower answers from the leader's
// latest snapshot, which may be a tenth of a second old: an agent who went
// ready meanwhile is not in it. So a follower's "no" is asked of the
// leader again, and the answer is the leader's.
func (s *Service) routingSays(ask func(e routing.View) bool) bool {
	var yes bool
	s.router.Query(func(e routing.View) { yes = ask(e) })
	if !yes && s.cluster != nil && s.cluster.dispatcher() == nil {
		s.cluster.QueryLeader(func(e routing.View) { yes = ask(e) })
	}
	return yes
}

// GroupStatus is what a visitor may know about a group before a chat.
type GroupStatus struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Open      bool   `json:"open"`
	// EstimatedWait is in seconds, -1 without an estimate.
	EstimatedWait int `json:"estimated_wait"`
	Waiting       int `json:"waiting"`
	// TranscriptMail says whether a visitor can have the transcript
	// mailed: the group or the server has a sender address.
	TranscriptMail bool `json:"transcript_mail"`
}

// GroupStatus reports whether a group takes chats and how long the wait is.
func (s *Service) GroupStatus(ctx context.Context, tenantID, groupID int64, name string) (*GroupStatus, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	g, err := s.findGroup(ctx, tenantID, groupID, name)
	if err != nil {
		return nil, err
	}
	st := &GroupStatus{GroupID: g.ID, GroupName: g.Name, EstimatedWait: -1, TranscriptMail: s.canMailTranscript(g)}
	s.router.Query(func(e routing.View) {
		st.Open = e.GroupOpen(g.ID, s.now().UTC())
		st.Waiting = e.QueueLengths()[g.ID]
		st.EstimatedWait = e.EstimatedWait(g.ID)
	})
	if slices.Contains(s.cfg.RejectGroups, g.ID) {
		st.Open = false
	}
	return st, nil
}

type limits struct {
	maxLen    int
	maxFileKB int // negative: attachments off
	idle      time.Duration
}

func (s *Service) limits(g *parley.Group) limits {
	l := limits{maxLen: s.cfg.MaxMessageLength, maxFileKB: s.cfg.MaxAttachmentKB, idle: s.cfg.IdleTimeout}
	if v := g.Limits.MaxMessageLength; v != nil {
		l.maxLen = *v
	}
	if v := g.Limits.MaxAttachmentKB; v != nil {
		l.maxFileKB = *v
		if *v == 0 {
			l.maxFileKB = -1
		}
	}
	if v := g.Limits.IdleTimeoutSeconds; v != nil {
		l.idle = time.Duration(*v) * time.Second
	}
	return l
}

// idleTimeout returns the idle timeout of a new chat: the client's value
// when given, else the group's or server's, never above CustomerTimeout.
func (s *Service) idleTimeout(group, client time.Duration) time.Duration {
	d := group
	if client > 0 {
		d = client
	}
	if d <= 0 || d > s.cfg.CustomerTimeout {
		d = s.cfg.CustomerTimeout
	}
	return d
}
