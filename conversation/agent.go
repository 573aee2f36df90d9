package conversation

import (
	"context"
	"slices"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// Accept makes the agent the handler of a chat offered to it. The routing
// dispatcher checks that the offer still stands and records the change, so
// an accept and a withdrawal of the same offer cannot both happen.
func (s *Service) Accept(ctx context.Context, actor Actor, chatID string) (*ChatView, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents accept chats")
	}
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, errChatEnded
	}
	decisions := s.router.Do(ctx, routing.OfferAccepted{ChatID: c.ID, AgentID: actor.Agent.ID, At: s.now().UTC()})
	if !assigned(decisions, c.ID, actor.Agent.ID) {
		return nil, parley.Errorf(parley.ECONFLICT, "this chat is not offered to you")
	}
	if c, err = s.store.Chat(ctx, chatID); err != nil {
		return nil, internal("reload chat", err)
	}
	if c.State != parley.StateHandling || c.AgentID != actor.Agent.ID {
		if !c.Active() {
			return nil, errChatEnded
		}
		return nil, parley.Errorf(parley.ECONFLICT, "this chat is not offered to you")
	}
	return s.view(ctx, c, true)
}

// assigned reports whether decisions give the chat to the agent.
func assigned(decisions []routing.Decision, chatID string, agentID int64) bool {
	return slices.ContainsFunc(decisions, func(d routing.Decision) bool {
		a, ok := d.(routing.Assign)
		return ok && a.ChatID == chatID && a.AgentID == agentID
	})
}

// applyAssign records an accepted offer: the agent joins and the chat is
// handled. It runs under the dispatcher.
func (s *Service) applyAssign(ctx context.Context, d routing.Assign) []routing.Input {
	unlock := s.lockChat(d.ChatID)
	defer unlock()
	now := s.now().UTC()
	c, err := s.store.Chat(ctx, d.ChatID)
	switch {
	case err != nil:
		s.log.Error("assign: load chat", "chat", d.ChatID, "err", err)
		return nil
	case !c.Active():
		return []routing.Input{routing.ChatEnded{ChatID: c.ID, At: now}}
	case c.State != parley.StateQueued || (c.OfferedTo != d.AgentID && c.OfferedTo != 0):
		// The store disagrees with routing; place the chat again.
		s.log.Error("assign: chat is not offered to the agent", "chat", c.ID, "agent", d.AgentID, "offered_to", c.OfferedTo)
		return []routing.Input{routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: c.QueuedAt}}
	}
	a, err := s.store.Agent(ctx, d.AgentID)
	if err != nil {
		s.log.Error("assign: load agent", "agent", d.AgentID, "err", err)
		return []routing.Input{routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: c.QueuedAt}}
	}
	g, err := s.store.Group(ctx, d.GroupID)
	if err != nil {
		s.log.Error("assign: load group", "group", d.GroupID, "err", err)
		return []routing.Input{routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: c.QueuedAt}}
	}
	ap := parley.Party{Kind: parley.PartyAgent, AgentID: a.ID, Name: a.NameForVisitors()}
	// The first answer ends the visitor's wait and greets; after a
	// transfer neither happens again.
	first := c.AcceptedAt.IsZero()
	c.State, c.AgentID, c.OfferedTo = parley.StateHandling, a.ID, 0
	if first {
		c.AcceptedAt = now
	}
	c.GroupID = d.GroupID
	c.Participants = append(c.Participants, parley.Participant{Party: ap, JoinedAt: now})
	events := []parley.Event{
		{Type: parley.EventJoined, From: ap},
		{Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateHandling}},
	}
	if first && g.WelcomeMessage != "" {
		events = append(events, parley.Event{Type: parley.EventMessage, From: system, Text: g.WelcomeMessage})
	}
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	if err != nil {
		s.log.Error("assign: update chat", "chat", c.ID, "err", err)
		return []routing.Input{routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: c.QueuedAt}}
	}
	s.publish(ctx, stored...)
	s.armIdle(c.ID, c.IdleTimeout)
	s.queues.forget(c.ID)
	// Every console of the agent follows the chat (auto-accept and picks
	// have no offer; an accept is answered here too). The notice goes out
	// even when the view cannot be built: the chat ID is what matters.
	view, err := s.viewUnrouted(ctx, c)
	if err != nil {
		s.log.Error("assign: chat view", "chat", c.ID, "err", err)
	}
	s.notifyAgent(ctx, a.ID, AgentNotice{Type: NoticeAssigned, ChatID: c.ID, Chat: view})
	return nil
}

// Decline turns down a chat offered to the agent; it goes to the next
// agent or back to the queue, and is not offered to this agent again for
// the decline cool-down.
func (s *Service) Decline(ctx context.Context, actor Actor, chatID string) error {
	if actor.Agent == nil {
		return parley.Errorf(parley.EFORBIDDEN, "only agents decline chats")
	}
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if !c.Active() {
		return errChatEnded
	}
	decisions := s.router.Do(ctx, routing.OfferDeclined{ChatID: c.ID, AgentID: actor.Agent.ID, At: s.now().UTC()})
	if !slices.Contains(decisions, routing.Decision(routing.Revoke{ChatID: c.ID, AgentID: actor.Agent.ID})) {
		return parley.Errorf(parley.ECONFLICT, "this chat is not offered to you")
	}
	return nil
}

// Pick takes a waiting chat from a queue of the agent's groups (the way
// chats are taken in groups with the manual strategy).
func (s *Service) Pick(ctx context.Context, actor Actor, chatID string) (*ChatView, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents pick chats")
	}
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, errChatEnded
	}
	if !actor.Agent.InGroup(c.GroupID) {
		return nil, parley.Errorf(parley.EFORBIDDEN, "the chat waits in a group you are not a member of")
	}
	decisions := s.router.Do(ctx, routing.Pick{ChatID: c.ID, AgentID: actor.Agent.ID, At: s.now().UTC()})
	if !assigned(decisions, c.ID, actor.Agent.ID) {
		return nil, parley.Errorf(parley.ECONFLICT, "the chat is not waiting, or you are not ready or have no free slot")
	}
	if c, err = s.store.Chat(ctx, chatID); err != nil {
		return nil, internal("reload chat", err)
	}
	if c.State != parley.StateHandling || c.AgentID != actor.Agent.ID {
		return nil, parley.Errorf(parley.ECONFLICT, "the chat could not be given to you")
	}
	return s.view(ctx, c, true)
}

// GroupQueue lists the chats waiting in a group, in order, for its
// members, supervisors and admins.
func (s *Service) GroupQueue(ctx context.Context, actor Actor, groupID int64) ([]*ChatView, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents see queues")
	}
	g, err := s.findGroup(ctx, actor.TenantID, groupID, "")
	if err != nil {
		return nil, err
	}
	if !actor.Agent.InGroup(g.ID) && !actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin) {
		return nil, parley.Errorf(parley.EFORBIDDEN, "you are not a member of this group")
	}
	var waiting []routing.Queued
	s.router.Query(func(e routing.View) { waiting = e.Queue(g.ID) })
	out := make([]*ChatView, 0, len(waiting))
	for _, w := range waiting {
		c, err := s.store.Chat(ctx, w.ChatID)
		if err != nil {
			continue // ended meanwhile
		}
		v, err := s.viewUnrouted(ctx, c)
		if err != nil {
			return nil, err
		}
		v.Queue = &parley.QueueInfo{Position: w.Position, EstimatedWait: w.EstimatedWait}
		v.GroupName = g.Name
		out = append(out, v)
	}
	return out, nil
}

// End terminates a chat the agent handles.
func (s *Service) End(ctx context.Context, actor Actor, chatID string) error {
	if actor.Agent == nil {
		return parley.Errorf(parley.EFORBIDDEN, "only agents end chats; visitors leave them")
	}
	if _, err := s.tenantChat(ctx, actor, chatID); err != nil {
		return err
	}
	return s.terminate(ctx, chatID, parley.CauseAgentEnded, func(c *parley.Chat) error {
		if c.AgentID != actor.Agent.ID || (c.State != parley.StateHandling && c.Active()) {
			return parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
		}
		return nil
	}, parley.Event{Type: parley.EventLeft, From: actor.party(nil)})
}

// Transfer names where a chat goes: a group, or an agent (in the chat's
// group unless GroupID is also set), with an optional note for the
// colleague who takes it.
type Transfer struct {
	GroupID int64  `json:"group_id,omitempty"`
	AgentID int64  `json:"agent_id,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Transfer hands a chat the agent handles to another group or agent. The
// agent leaves the chat; the visitor waits for the next agent. A note is
// kept on the chat for the agents (ChatView.TransferNote) and logged as a
// message only agents see.
func (s *Service) Transfer(ctx context.Context, actor Actor, chatID string, to Transfer) error {
	if actor.Agent == nil {
		return parley.Errorf(parley.EFORBIDDEN, "only agents transfer chats")
	}
	if to.GroupID == 0 && to.AgentID == 0 {
		return parley.Errorf(parley.EINVALID, "a target group_id or agent_id is required")
	}
	if to.AgentID == actor.Agent.ID {
		return parley.Errorf(parley.EINVALID, "a chat cannot be transferred to its own agent")
	}
	note := to.Note
	if strings.TrimSpace(note) == "" {
		note = ""
	} else if _, err := checkText(note, s.cfg.MaxMessageLength); err != nil {
		return parley.Errorf(parley.ErrorCode(err), "note: %s", parley.ErrorMessage(err))
	}
	// Check the target first: routing must not be asked while a chat is
	// locked (the dispatcher locks chats while it applies decisions).
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	group := c.GroupID
	if to.GroupID != 0 {
		group = to.GroupID
	}
	g, err := s.findGroup(ctx, actor.TenantID, group, "")
	if err != nil {
		return err
	}
	notice := "You are being transferred to " + g.Name + "."
	if to.AgentID != 0 {
		target, err := s.store.Agent(ctx, to.AgentID)
		if err != nil || target.TenantID != actor.TenantID {
			if err != nil && !isCode(err, parley.ENOTFOUND) {
				return internal("load agent", err)
			}
			return parley.Errorf(parley.ENOTFOUND, "agent not found")
		}
		if !s.routingSays(func(e routing.View) bool { return e.AgentCanTake(target.ID, g.ID) }) {
			return parley.Errorf(parley.ECONFLICT, "%s cannot take a chat now", target.NameForVisitors())
		}
		notice = "You are being transferred to " + target.NameForVisitors() + "."
	} else if !s.groupOpen(g.ID) {
		return parley.Errorf(parley.ECLOSED, "%s is closed", g.Name)
	}

	unlock := s.lockChat(chatID)
	if c, err = s.store.Chat(ctx, chatID); err != nil {
		unlock()
		return internal("load chat", err)
	}
	if c.AgentID != actor.Agent.ID || c.State != parley.StateHandling {
		unlock()
		if !c.Active() && c.AgentID == actor.Agent.ID {
			return errChatEnded
		}
		return parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
	}
	now := s.now().UTC()
	ap := actor.party(nil)
	c.State, c.AgentID, c.GroupID, c.QueuedAt = parley.StateQueued, 0, g.ID, now
	c.TransferNote = note
	events := []parley.Event{{Type: parley.EventNotice, From: system, Notice: parley.NoticeTransferred, Text: notice}}
	if note != "" {
		events = append(events, parley.Event{Type: parley.EventMessage, From: ap, Audience: parley.AudienceAgents, Text: note})
	}
	events = append(events, parley.Event{Type: parley.EventLeft, From: ap})
	// Agents added to the chat (conference, barge-in) leave with it.
	var joined []int64
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.Kind == parley.PartyAgent && p.LeftAt.IsZero() {
			p.LeftAt = now
			if p.AgentID != actor.Agent.ID {
				joined = append(joined, p.AgentID)
				events = append(events, parley.Event{Type: parley.EventLeft, From: p.Party})
			}
		}
	}
	events = append(events, parley.Event{Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateQueued}})
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	unlock()
	if err != nil {
		return internal("transfer chat", err)
	}
	s.publish(ctx, stored...)
	s.stopIdle(c.ID)
	for _, id := range append(joined, actor.Agent.ID) {
		s.notifyAgent(ctx, id, AgentNotice{Type: NoticeRemoved, ChatID: c.ID})
	}
	s.enqueue(ctx, routing.ChatQueued{ChatID: c.ID, Groups: []int64{g.ID}, Priority: c.Priority, At: now,
		OnlyAgent: to.AgentID, Exclude: actor.Agent.ID})
	return nil
}

// PresenceChange sets an agent's presence and status.
type PresenceChange struct {
	Presence parley.Presence `json:"presence"`
	Status   parley.Status   `json:"status"`
	Reason   string          `json:"reason,omitempty"`
}

// SetPresence changes the calling agent's presence and status. An empty
// field keeps its value.
func (s *Service) SetPresence(ctx context.Context, actor Actor, ch PresenceChange) (*parley.Agent, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents have a presence")
	}
	return s.changeAgent(ctx, actor.Agent.ID, func(a *parley.Agent) error {
		if ch.Presence != "" {
			// The agent's choice; a presence source may still hold an
			// available agent away (sources.go).
			combinePresence(a, ch.Presence)
		}
		if ch.Status != "" {
			a.Status = ch.Status
			a.StatusReason = ""
		}
		if ch.Reason != "" {
			a.StatusReason = ch.Reason
		}
		if a.Status != parley.StatusNotReady {
			a.StatusReason = ""
		}
		return nil
	})
}

// changeAgent reads an agent, lets change modify it, stores it and tells
// routing, all while routing is locked: no status routing decides (a
// wrap-up, say) can slip in between and be lost or reverted. A nil change
// only tells routing the agent as stored.
func (s *Service) changeAgent(ctx context.Context, id int64, change func(*parley.Agent) error) (*parley.Agent, error) {
	var a *parley.Agent
	_, err := s.router.Update(ctx, func() (routing.Input, error) {
		var err error
		if a, err = s.store.Agent(ctx, id); err != nil {
			return nil, internal("load agent", err)
		}
		if change != nil {
			if err := change(a); err != nil {
				return nil, err
			}
			if err := s.checkAgent(ctx, a); err != nil {
				return nil, err
			}
			if err := s.store.UpdateAgent(ctx, a); err != nil {
				return nil, internal("update agent", err)
			}
		}
		ra, err := s.routingAgent(ctx, a)
		if err != nil {
			return nil, err
		}
		return routing.AgentChanged{Agent: ra, At: s.now().UTC()}, nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyAgent(ctx, a.ID, AgentNotice{Type: NoticeAgent, Agent: a})
	return a, nil
}

// routingAgent builds the engine's view of an agent: per group, the
// membership's capacity, else the group's override, else the agent's.
func (s *Service) routingAgent(ctx context.Context, a *parley.Agent) (routing.Agent, error) {
	presence := a.Presence
	if a.Disabled {
		presence = parley.PresenceOffline
	}
	ra := routing.Agent{
		ID: a.ID, Presence: presence, Status: a.Status, Capacity: a.Capacity,
		Groups: make(map[int64]int, len(a.Groups)),
	}
	if a.Disabled {
		ra.Presence = parley.PresenceOffline
	}
	for _, m := range a.Groups {
		c := m.Capacity
		if c == 0 {
			g, err := s.store.Group(ctx, m.GroupID)
			if err != nil && !isCode(err, parley.ENOTFOUND) {
				return routing.Agent{}, internal("load group", err)
			}
			if err == nil && g.Limits.Capacity != nil {
				c = *g.Limits.Capacity
			}
		}
		ra.Groups[m.GroupID] = c
	}
	return ra, nil
}

// apply carries out one routing decision. It runs with the dispatcher
// locked and never calls it.
func (s *Service) apply(ctx context.Context, d routing.Decision) []routing.Input {
	ctx = s.fenced(ctx)
	switch d := d.(type) {
	case routing.Offer:
		return s.applyOffer(ctx, d)
	case routing.Assign:
		return s.applyAssign(ctx, d)
	case routing.Revoke:
		unlock := s.lockChat(d.ChatID)
		c, err := s.store.Chat(ctx, d.ChatID)
		if err == nil && c.OfferedTo == d.AgentID {
			c.OfferedTo = 0
			_, err = s.store.UpdateChat(ctx, c, nil)
		}
		unlock()
		if err != nil {
			s.log.Error("revoke offer", "chat", d.ChatID, "agent", d.AgentID, "err", err)
		}
		s.notifyAgent(ctx, d.AgentID, AgentNotice{Type: NoticeRevoke, ChatID: d.ChatID})
	case routing.Queued:
		return s.applyQueued(ctx, d)
	case routing.QueueChanged:
		s.queues.markDirty(d.GroupID)
	case routing.Closed:
		// Every group closed while the chat was being placed; routing has
		// forgotten it.
		msg := "No agent is available at the moment."
		if g, err := s.store.Group(ctx, d.GroupID); err == nil && g.ClosedMessage != "" {
			msg = g.ClosedMessage
		}
		err := s.endChat(ctx, d.ChatID, parley.CauseGroupClosed, func(*parley.Chat) error { return nil },
			parley.Event{Type: parley.EventMessage, From: system, Text: msg})
		if err != nil && !isCode(err, parley.ECLOSED) {
			s.log.Error("close chat", "chat", d.ChatID, "err", err)
		}
	case routing.StatusChanged:
		s.applyStatus(ctx, d)
	}
	return nil
}

// applyQueued records the group a chat waits in and tells its visitor the
// place.
func (s *Service) applyQueued(ctx context.Context, d routing.Queued) []routing.Input {
	unlock := s.lockChat(d.ChatID)
	c, err := s.store.Chat(ctx, d.ChatID)
	if err == nil && c.Active() && (c.GroupID != d.GroupID || c.OfferedTo != 0) {
		c.GroupID, c.OfferedTo = d.GroupID, 0
		_, err = s.store.UpdateChat(ctx, c, nil)
	}
	unlock()
	if err != nil {
		s.log.Error("queue: update chat", "chat", d.ChatID, "err", err)
	}
	info := parley.QueueInfo{Position: d.Position, EstimatedWait: d.EstimatedWait}
	s.queues.record(d.ChatID, d.GroupID, info)
	s.publish(ctx, parley.Event{ChatID: d.ChatID, Type: parley.EventQueue, At: s.now().UTC(), From: system, Queue: &info})
	return nil
}

// applyStatus records a status routing gave an agent (wrap-up, ready after
// it, not ready after a missed offer) and tells the agent's consoles.
func (s *Service) applyStatus(ctx context.Context, d routing.StatusChanged) {
	a, err := s.store.Agent(ctx, d.AgentID)
	if err != nil {
		s.log.Error("status: load agent", "agent", d.AgentID, "err", err)
		return
	}
	a.Status, a.StatusReason = d.Status, d.Reason
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		s.log.Error("status: update agent", "agent", d.AgentID, "err", err)
		return
	}
	s.notifyAgent(ctx, a.ID, AgentNotice{Type: NoticeAgent, Agent: a})
}

func (s *Service) applyOffer(ctx context.Context, d routing.Offer) []routing.Input {
	unlock := s.lockChat(d.ChatID)
	c, err := s.store.Chat(ctx, d.ChatID)
	if err != nil {
		unlock()
		s.log.Error("offer: load chat", "chat", d.ChatID, "err", err)
		return []routing.Input{routing.OfferDeclined{ChatID: d.ChatID, AgentID: d.AgentID, At: s.now().UTC()}}
	}
	if !c.Active() {
		// The chat ended while it was being placed.
		unlock()
		return []routing.Input{routing.ChatEnded{ChatID: d.ChatID, At: s.now().UTC()}}
	}
	if c.State != parley.StateQueued {
		unlock()
		s.log.Error("offer: chat is not queued", "chat", c.ID, "state", c.State)
		return []routing.Input{routing.OfferDeclined{ChatID: d.ChatID, AgentID: d.AgentID, At: s.now().UTC()}}
	}
	c.OfferedTo, c.GroupID = d.AgentID, d.GroupID
	_, err = s.store.UpdateChat(ctx, c, nil)
	unlock()
	if err != nil {
		s.log.Error("offer: update chat", "chat", d.ChatID, "err", err)
		return []routing.Input{routing.OfferDeclined{ChatID: d.ChatID, AgentID: d.AgentID, At: s.now().UTC()}}
	}
	s.count(func(st *Stats) { st.offers++ })
	s.queues.forget(c.ID)
	s.publish(ctx, parley.Event{
		ChatID: c.ID, Type: parley.EventQueue, At: s.now().UTC(), From: system,
		Queue: &parley.QueueInfo{Position: 0, EstimatedWait: -1},
	})
	view, err := s.viewUnrouted(ctx, c)
	if err != nil {
		s.log.Error("offer: view", "chat", d.ChatID, "err", err)
	}
	s.notifyAgent(ctx, d.AgentID, AgentNotice{Type: NoticeOffer, ChatID: c.ID, Chat: view})
	return nil
}

// viewUnrouted builds an agent's view without asking the dispatcher, which
// is locked while decisions are applied.
func (s *Service) viewUnrouted(ctx context.Context, c *parley.Chat) (*ChatView, error) {
	v := &ChatView{
		ID: c.ID, TenantID: c.TenantID, GroupID: c.GroupID, State: c.State, OfferedTo: c.OfferedTo,
		LastSeq: c.LastSeq, CreatedAt: c.CreatedAt, AcceptedAt: c.AcceptedAt, Participants: c.Participants,
		TransferNote: c.TransferNote,
		Queue:        &parley.QueueInfo{EstimatedWait: -1},
	}
	if g, err := s.store.Group(ctx, c.GroupID); err == nil {
		v.GroupName = g.Name
	}
	vis, err := s.store.Visitor(ctx, c.VisitorID)
	if err != nil {
		return v, internal("load visitor", err)
	}
	v.Visitor = vis
	return v, nil
}
