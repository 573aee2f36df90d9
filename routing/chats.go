package routing

import (
	"time"

	"github.com/parleychat/parley"
)

type chatState struct {
	id        string
	groups    []int64 // asked for, in order of preference
	group     int64   // where it waits or was placed
	priority  int
	at        time.Time
	arrival   uint64 // tie-break for equal times: order of ChatQueued inputs
	agent     int64  // offered to or handled by
	offered   bool
	queued    bool
	handled   bool
	offeredAt time.Time
	accepted  time.Time
	onlyAgent int64
	sticky    int64
	preferred int64
	// preferredUntil ends the wait for the preferred agent; zero until the
	// chat starts waiting for it.
	preferredUntil time.Time
	declined       map[int64]time.Time // agent → when it declined (or was excluded)
}

// excluded reports whether agent a may not be offered chat c now: it
// declined c (or let it time out, or transferred it) within the cool-down.
func (e *Engine) excluded(c *chatState, a int64) bool {
	at, ok := c.declined[a]
	return ok && (e.opt.DeclineCooldown <= 0 || e.now.Sub(at) < e.opt.DeclineCooldown)
}

func (e *Engine) exclude(c *chatState, a int64) {
	if c.declined == nil {
		c.declined = make(map[int64]time.Time)
	}
	c.declined[a] = e.now
}

func (e *Engine) chatQueued(in ChatQueued, out []Decision) []Decision {
	if len(in.Groups) == 0 {
		return out
	}
	c := e.chats[in.ChatID]
	if c != nil {
		out = e.detach(c, out)
	} else {
		c = &chatState{id: in.ChatID}
		e.chats[in.ChatID] = c
	}
	e.arrival++
	*c = chatState{
		id: c.id, groups: in.Groups, group: in.Groups[0], priority: in.Priority, at: in.At, arrival: e.arrival,
		onlyAgent: in.OnlyAgent, sticky: in.Sticky, preferred: in.Preferred,
	}
	if in.Exclude != 0 {
		e.exclude(c, in.Exclude)
	}
	return e.place(c, out)
}

func (e *Engine) chatAssigned(in ChatAssigned) {
	if _, ok := e.chats[in.ChatID]; ok {
		return
	}
	c := &chatState{id: in.ChatID, groups: []int64{in.GroupID}, group: in.GroupID, handled: true, accepted: in.At}
	e.chats[c.id] = c
	if a := e.agents[in.AgentID]; a != nil {
		c.agent = a.ID
		a.load++
		a.chats[c.id] = c
		e.track(a)
	}
}

// place offers c to the best agent, or queues it, or closes it when no
// group it asked for is open.
func (e *Engine) place(c *chatState, out []Decision) []Decision {
	if c.onlyAgent != 0 {
		if a := e.agents[c.onlyAgent]; a != nil && a.ready() && a.hasRoom(e.groupFor(c, a).ID, e.now) {
			return e.offer(c, a, e.groupFor(c, a), out)
		}
		// The chosen agent cannot take it after all: the groups decide.
		c.onlyAgent = 0
	}
	if c.sticky != 0 {
		// The visitor's current partner, while logged in and not away,
		// takes it whatever the load: it is the same conversation.
		if a := e.agents[c.sticky]; a != nil && a.loggedIn() && a.Presence != parley.PresenceAway && !e.excluded(c, a.ID) {
			return e.offer(c, a, e.groupFor(c, a), out)
		}
		c.sticky = 0
	}
	if c.preferred != 0 {
		a := e.agents[c.preferred]
		var g *groupState
		if a != nil {
			g = e.memberGroup(c, a)
		}
		switch {
		case g == nil || !a.loggedIn() || e.excluded(c, a.ID) || !g.Schedule.Open(e.now):
			// Gone, declined, in none of the groups asked for, or its
			// group is closed: the preference does not apply.
			c.preferred = 0
		case a.ready() && a.hasRoom(g.ID, e.now):
			return e.offer(c, a, g, out)
		case c.preferredUntil.IsZero() && e.opt.PreferredWait > 0:
			// Wait a while for the preferred agent, in its group.
			c.preferredUntil = e.now.Add(e.opt.PreferredWait)
			e.reserved[c.id] = c
			return e.enqueue(c, g, out)
		default:
			c.preferred = 0
		}
	}
	// The available bucket: the first group with an agent who can take it.
	for _, id := range c.groups {
		g := e.group(id)
		if !g.Schedule.Open(e.now) {
			continue
		}
		if a := e.pickAgent(c, g); a != nil {
			if e.waitingFor(g, a) {
				// Older chats wait that this agent may take: they go
				// first, and this one waits its turn.
				out = e.enqueue(c, g, out)
				return e.fill(a, out)
			}
			return e.offer(c, a, g, out)
		}
	}
	// The not-available bucket: wait in the first group that is open.
	for _, id := range c.groups {
		if g := e.group(id); g.loggedIn > 0 && g.Schedule.Open(e.now) {
			return e.enqueue(c, g, out)
		}
	}
	e.forgetChat(c)
	return append(out, Closed{ChatID: c.id, GroupID: c.groups[0]})
}

// memberGroup returns the first group asked for that a belongs to, or nil.
func (e *Engine) memberGroup(c *chatState, a *agentState) *groupState {
	for _, id := range c.groups {
		if _, ok := a.Groups[id]; ok {
			return e.group(id)
		}
	}
	return nil
}

// waitingFor reports whether a chat waits in g that agent a may take.
func (e *Engine) waitingFor(g *groupState, a *agentState) bool {
	for _, c := range g.queue.items {
		if e.mayTake(a, c) {
			return true
		}
	}
	return false
}

// groupFor returns the group a chat goes to when it is given to agent a
// directly: the first group asked for that a belongs to, else the first.
func (e *Engine) groupFor(c *chatState, a *agentState) *groupState {
	for _, id := range c.groups {
		if _, ok := a.Groups[id]; ok {
			return e.group(id)
		}
	}
	return e.group(c.groups[0])
}

// offer gives c to a: an offer, or an assignment when the group accepts
// automatically.
func (e *Engine) offer(c *chatState, a *agentState, g *groupState, out []Decision) []Decision {
	c.group, c.agent, c.queued = g.ID, a.ID, false
	c.preferredUntil = time.Time{}
	delete(e.reserved, c.id)
	a.load++
	a.chats[c.id] = c
	a.lastOffer = e.now
	e.track(a)
	if a.rampLeft > 0 {
		a.rampLeft--
		a.rampNext = e.now.Add(e.opt.RampUp)
	}
	g.rrLast = a.ID
	if g.AutoAccept {
		c.handled, c.accepted = true, e.now
		return append(out, Assign{ChatID: c.id, AgentID: a.ID, GroupID: g.ID})
	}
	c.offered, c.offeredAt = true, e.now
	e.offered[c.id] = c
	return append(out, Offer{ChatID: c.id, AgentID: a.ID, GroupID: g.ID})
}

// withdraw revokes c's offer, frees the agent's slot and places c again;
// exclude keeps c away from that agent for the cool-down.
func (e *Engine) withdraw(c *chatState, exclude bool, out []Decision) []Decision {
	out = append(out, Revoke{ChatID: c.id, AgentID: c.agent})
	if exclude {
		e.exclude(c, c.agent)
	}
	if a := e.agents[c.agent]; a != nil {
		e.release(a, c)
	}
	c.onlyAgent, c.sticky = 0, 0
	return e.place(c, out)
}

func (e *Engine) release(a *agentState, c *chatState) {
	if _, ok := a.chats[c.id]; ok {
		delete(a.chats, c.id)
		a.load--
		if a.load == 0 {
			a.idleSince = e.now
		}
		e.track(a)
	}
	if c.offered {
		delete(e.offered, c.id)
	}
	c.agent, c.offered, c.handled = 0, false, false
}

// detach takes c out of its queue or off its agent before it is placed
// again or forgotten, filling the freed slot.
func (e *Engine) detach(c *chatState, out []Decision) []Decision {
	if c.queued {
		return e.dequeue(c, out)
	}
	if a := e.agents[c.agent]; a != nil && c.agent != 0 {
		e.release(a, c)
		return e.fill(a, out)
	}
	return out
}

func (e *Engine) offerAccepted(in OfferAccepted, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c == nil || !c.offered || c.agent != in.AgentID {
		return out
	}
	delete(e.offered, c.id)
	c.offered, c.handled, c.accepted = false, true, e.now
	c.onlyAgent, c.declined = 0, nil
	return append(out, Assign{ChatID: c.id, AgentID: c.agent, GroupID: c.group})
}

func (e *Engine) offerDeclined(in OfferDeclined, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c == nil || !c.offered || c.agent != in.AgentID {
		return out
	}
	out = e.withdraw(c, true, out)
	if a := e.agents[in.AgentID]; a != nil {
		out = e.fill(a, out)
	}
	return out
}

func (e *Engine) pick(in Pick, out []Decision) []Decision {
	c, a := e.chats[in.ChatID], e.agents[in.AgentID]
	if c == nil || a == nil || !c.queued || !a.ready() || a.load >= a.capacityIn(c.group) {
		return out
	}
	if _, member := a.Groups[c.group]; !member {
		return out
	}
	g := e.groups[c.group]
	out = e.dequeue(c, out)
	c.agent, c.handled, c.accepted = a.ID, true, e.now
	c.preferredUntil, c.declined = time.Time{}, nil
	delete(e.reserved, c.id)
	a.load++
	a.chats[c.id] = c
	a.lastOffer = e.now
	e.track(a)
	g.rrLast = a.ID
	return append(out, Assign{ChatID: c.id, AgentID: a.ID, GroupID: g.ID})
}

func (e *Engine) chatEnded(in ChatEnded, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c == nil {
		return out
	}
	e.forgetChat(c)
	if c.queued {
		return e.dequeue(c, out)
	}
	a := e.agents[c.agent]
	if a == nil || c.agent == 0 {
		return out
	}
	handled := c.handled
	e.release(a, c)
	g := e.group(c.group)
	if handled && !c.accepted.IsZero() {
		e.sampleHandleTime(g, e.now.Sub(c.accepted))
	}
	if handled && g.WrapUp > 0 && a.Status == parley.StatusReady {
		a.wrapUntil = e.now.Add(g.WrapUp)
		return e.setStatus(a, parley.StatusWrapUp, "", out) // tracks a as wrapping
	}
	return e.fill(a, out)
}

// enqueue puts c in g's queue and reports its place.
func (e *Engine) enqueue(c *chatState, g *groupState, out []Decision) []Decision {
	c.group, c.queued, c.agent, c.offered = g.ID, true, 0, false
	pos := g.queue.insert(c)
	if pos < g.queue.len() {
		e.markDirty(g.ID) // the chats behind moved back
	}
	return append(out, Queued{ChatID: c.id, GroupID: g.ID, Position: pos, EstimatedWait: e.estimate(g, pos)})
}

// forgetChat drops a chat that routing no longer places.
func (e *Engine) forgetChat(c *chatState) {
	delete(e.chats, c.id)
	delete(e.reserved, c.id)
}

func (e *Engine) dequeue(c *chatState, out []Decision) []Decision {
	if g := e.groups[c.group]; g != nil && g.queue.remove(c) {
		e.markDirty(g.ID)
	}
	c.queued = false
	return out
}
