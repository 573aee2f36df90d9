package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleychat/parley"
)

type agentState struct {
	Agent
	load      int                   // offered plus handled chats
	chats     map[string]*chatState // offered or handled
	idleSince time.Time             // when the load last fell to 0 or the agent became ready
	lastOffer time.Time             // when the agent was last offered or given a chat
	wrapUntil time.Time             // end of the wrap-up in progress
	rampLeft  int                   // offers still to pace after becoming ready
	rampNext  time.Time             // earliest next offer while ramping
}

func (a *agentState) loggedIn() bool {
	return a.Presence != parley.PresenceOffline && a.Presence != ""
}

func (a *agentState) ready() bool {
	return a.Presence == parley.PresenceAvailable && a.Status == parley.StatusReady
}

// capacityIn returns the agent's capacity for chats of group g.
func (a *agentState) capacityIn(g int64) int {
	if c := a.Groups[g]; c > 0 {
		return c
	}
	return a.Capacity
}

// maxCapacity is the agent's largest capacity over its groups.
func (a *agentState) maxCapacity() int {
	m := a.Capacity
	for _, c := range a.Groups {
		m = max(m, c)
	}
	return m
}

// track keeps the engine's sets of free and wrapping agents in step with
// a's state; call it after every change of a's status, load or capacity.
func (e *Engine) track(a *agentState) {
	if a.ready() && a.load < a.maxCapacity() {
		e.free[a.ID] = a
	} else {
		delete(e.free, a.ID)
	}
	if a.Status == parley.StatusWrapUp && !a.wrapUntil.IsZero() {
		e.wrapping[a.ID] = a
	} else {
		delete(e.wrapping, a.ID)
	}
}

// hasRoom reports whether the agent may be given one more chat of group g
// at now: below capacity and not held back by the ramp-up.
func (a *agentState) hasRoom(g int64, now time.Time) bool {
	return a.load < a.capacityIn(g) && (a.rampLeft == 0 || !now.Before(a.rampNext))
}

// slotsIn is the agent's contribution to group g's slots in wait
// estimates, in units of 1/slotUnit: its capacity there shared evenly
// across its groups (an agent of three groups serves each a third).
func (a *agentState) slotsIn(g int64) int64 {
	if len(a.Groups) == 0 {
		return 0
	}
	return int64(a.capacityIn(g)) * slotUnit / int64(len(a.Groups))
}

// idleKey orders agents for longest idle: idle agents first, the longest
// idle first; then busy agents, the one offered a chat longest ago first;
// then by ID.
func idleKey(a, b *agentState) int {
	if c := cmp.Compare(boolInt(a.load > 0), boolInt(b.load > 0)); c != 0 {
		return c
	}
	ta, tb := a.idleSince, b.idleSince
	if a.load > 0 {
		ta, tb = a.lastOffer, b.lastOffer
	}
	if c := ta.Compare(tb); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type groupState struct {
	Group
	members  map[int64]*agentState
	queue    queue
	rrLast   int64   // round robin: the member offered a chat last
	aht      float64 // moving average handle time in seconds
	ahtN     int     // handle-time samples seen
	slots    int64   // chat slots of logged-in members in units of 1/slotUnit, shared across their groups
	loggedIn int     // logged-in members
}

// slotUnit is the fixed-point scale of groupState.slots: integer sums stay
// exact whatever the order agents join and leave in, and an agent's share
// is exact for agents in up to 16 groups (720720 is divisible by 1 to 16).
const slotUnit = 720720

// join and leave keep a group's member list and counts in step with one
// agent's state.
func (g *groupState) join(a *agentState) {
	g.members[a.ID] = a
	if a.loggedIn() {
		g.loggedIn++
		g.slots += a.slotsIn(g.ID)
	}
}

func (g *groupState) leave(a *agentState) {
	delete(g.members, a.ID)
	if a.loggedIn() {
		g.loggedIn--
		g.slots -= a.slotsIn(g.ID)
	}
}

func (e *Engine) agentChanged(in Agent, out []Decision) []Decision {
	a := e.agents[in.ID]
	if a == nil {
		a = &agentState{chats: make(map[string]*chatState), idleSince: e.now}
		e.agents[in.ID] = a
	}
	wasReady := a.ready()
	for id := range a.Groups {
		e.group(id).leave(a)
		e.markEstimates(id)
	}
	a.Agent = in
	for id := range a.Groups {
		e.group(id).join(a)
		e.markEstimates(id)
	}
	switch {
	case a.Status != parley.StatusWrapUp:
		a.wrapUntil = time.Time{}
	case a.wrapUntil.IsZero():
		// Reported in wrap-up (after a restart, say) without an end: it
		// ends after the longest wrap-up of the agent's groups.
		var longest time.Duration
		for id := range a.Groups {
			longest = max(longest, e.group(id).WrapUp)
		}
		a.wrapUntil = e.now.Add(longest)
	}
	if !wasReady && a.ready() {
		if a.load == 0 {
			a.idleSince = e.now
		}
		if e.opt.RampUp > 0 {
			a.rampLeft, a.rampNext = a.Capacity, e.now
		}
	}
	e.track(a)
	if !a.ready() {
		out = e.revokeOffers(a, out)
	}
	return e.fill(a, out)
}

func (e *Engine) agentRemoved(id int64, out []Decision) []Decision {
	a := e.agents[id]
	if a == nil {
		return out
	}
	// Out of its groups' counts and unable to take chats before its offers
	// move on, so they are placed as if it were gone.
	for gid := range a.Groups {
		e.groups[gid].leave(a)
		e.markEstimates(gid)
	}
	a.Presence = parley.PresenceOffline
	e.track(a)
	out = e.revokeOffers(a, out)
	for _, c := range a.chats {
		c.agent = 0 // handled chats stay handled; their agent is gone
	}
	delete(e.agents, id)
	delete(e.free, id)
	delete(e.wrapping, id)
	return out
}

// revokeOffers withdraws the agent's standing offers and places those
// chats again.
func (e *Engine) revokeOffers(a *agentState, out []Decision) []Decision {
	var revoked []*chatState
	for _, c := range a.chats {
		if c.offered {
			revoked = append(revoked, c)
		}
	}
	slices.SortFunc(revoked, byQueueOrder)
	for _, c := range revoked {
		out = e.withdraw(c, false, out)
	}
	return out
}

// setStatus changes an agent's status on the engine's own account and
// reports it.
func (e *Engine) setStatus(a *agentState, s parley.Status, reason string, out []Decision) []Decision {
	wasReady := a.ready()
	a.Status = s
	e.track(a)
	out = append(out, StatusChanged{AgentID: a.ID, Status: s, Reason: reason})
	if !wasReady && a.ready() && a.load == 0 {
		a.idleSince = e.now
	}
	if !a.ready() {
		out = e.revokeOffers(a, out)
	}
	return out
}

// pickAgent returns the agent of group g that gets chat c by the group's
// strategy, or nil when no member can take it now.
func (e *Engine) pickAgent(c *chatState, g *groupState) *agentState {
	var best *agentState
	eligible := func(a *agentState) bool {
		return a.ready() && a.hasRoom(g.ID, e.now) && !e.excluded(c, a.ID)
	}
	switch g.Strategy {
	case parley.StrategyManual:
		return nil
	case parley.StrategyRoundRobin:
		// The next member after the last one served, in ID order.
		var first *agentState
		for _, a := range g.members {
			if !eligible(a) {
				continue
			}
			if first == nil || a.ID < first.ID {
				first = a
			}
			if a.ID > g.rrLast && (best == nil || a.ID < best.ID) {
				best = a
			}
		}
		if best == nil {
			best = first
		}
	case parley.StrategyLeastBusy:
		for _, a := range g.members {
			if eligible(a) && (best == nil || leastBusy(a, best, g.ID) < 0) {
				best = a
			}
		}
	default: // longest idle
		for _, a := range g.members {
			if eligible(a) && (best == nil || idleKey(a, best) < 0) {
				best = a
			}
		}
	}
	return best
}

// leastBusy orders agents by the share of their capacity in use, then as
// longest idle.
func leastBusy(a, b *agentState, g int64) int {
	// load_a/cap_a < load_b/cap_b without division.
	if c := cmp.Compare(a.load*b.capacityIn(g), b.load*a.capacityIn(g)); c != 0 {
		return c
	}
	return idleKey(a, b)
}

// fill gives agent a waiting chats of its groups while it has room: first
// the chats waiting for a as their preferred agent, then the best chat
// (priority, then arrival) across its groups.
func (e *Engine) fill(a *agentState, out []Decision) []Decision {
	for a.ready() {
		var (
			best  *chatState
			bestG *groupState
		)
		for _, c := range e.reserved {
			if c.queued && e.waitsFor(c, a) && a.hasRoom(c.group, e.now) && !e.excluded(c, a.ID) &&
				(best == nil || byQueueOrder(c, best) < 0) {
				best, bestG = c, e.groups[c.group]
			}
		}
		if best == nil {
			for gid := range a.Groups {
				g := e.groups[gid]
				if g.Strategy == parley.StrategyManual || !a.hasRoom(gid, e.now) {
					continue
				}
				for _, c := range g.queue.items {
					if !e.mayTake(a, c) {
						continue
					}
					if best == nil || byQueueOrder(c, best) < 0 {
						best, bestG = c, g
					}
					break
				}
			}
		}
		if best == nil {
			return out
		}
		out = e.dequeue(best, out)
		out = e.offer(best, a, bestG, out)
	}
	return out
}

// mayTake reports whether agent a may be given waiting chat c.
func (e *Engine) mayTake(a *agentState, c *chatState) bool {
	if e.excluded(c, a.ID) || c.onlyAgent != 0 {
		return false
	}
	// A chat waiting for its preferred agent is kept for that agent.
	return c.preferred == 0 || c.preferred == a.ID || !e.now.Before(c.preferredUntil)
}

// waitsFor reports whether waiting chat c is kept for agent a as its
// preferred agent.
func (e *Engine) waitsFor(c *chatState, a *agentState) bool {
	return c.preferred == a.ID && e.now.Before(c.preferredUntil)
}

// fillAll gives waiting chats to agents who can take them, chat by chat in
// queue order across groups, each group's strategy picking the agent. It
// counts, per group, the members with room, and merges the queues of the
// groups that have some (each queue is in order already), until their
// slots are taken: the cost follows the chats placed, not the chats
// waiting.
func (e *Engine) fillAll(out []Decision) []Decision {
	roomy := map[int64]int{}
	for _, a := range e.free {
		for gid := range a.Groups {
			if a.hasRoom(gid, e.now) {
				roomy[gid]++
			}
		}
	}
	type cursor struct {
		g *groupState
		i int // next chat of g.queue to look at
	}
	var heads []cursor
	for gid, n := range roomy {
		if g := e.groups[gid]; n > 0 && g.Strategy != parley.StrategyManual && g.queue.len() > 0 {
			heads = append(heads, cursor{g: g})
		}
	}
	for {
		best := -1
		for k, cu := range heads {
			if roomy[cu.g.ID] == 0 || cu.i >= cu.g.queue.len() {
				continue
			}
			if best < 0 || byQueueOrder(cu.g.queue.items[cu.i], heads[best].g.queue.items[heads[best].i]) < 0 {
				best = k
			}
		}
		if best < 0 {
			return out
		}
		cu := &heads[best]
		g, c := cu.g, cu.g.queue.items[cu.i]
		var a *agentState
		if c.preferred != 0 && e.now.Before(c.preferredUntil) {
			if p := e.agents[c.preferred]; p != nil && p.ready() && p.hasRoom(g.ID, e.now) {
				a = p
			}
		} else {
			a = e.pickAgent(c, g)
		}
		if a == nil {
			cu.i++ // nobody with room may take this one; look at the next
			continue
		}
		before := make(map[int64]bool, len(a.Groups))
		for gid := range a.Groups {
			before[gid] = a.hasRoom(gid, e.now)
		}
		out = e.dequeue(c, out) // the chats behind move up to cu.i
		out = e.offer(c, a, g, out)
		for gid, had := range before {
			if had && !a.hasRoom(gid, e.now) {
				roomy[gid]--
			}
		}
	}
}

// offerLate reports whether c's offer has waited its group's offer
// timeout (or the engine's, when the group sets none).
func (e *Engine) offerLate(c *chatState) bool {
	timeout := e.opt.OfferTimeout
	if g := e.groups[c.group]; g != nil && g.OfferTimeout > 0 {
		timeout = g.OfferTimeout
	}
	return timeout > 0 && e.now.Sub(c.offeredAt) >= timeout
}

// tick runs what time makes happen.
func (e *Engine) tick(out []Decision) []Decision {
	{
		var late []*chatState
		for _, c := range e.offered {
			if e.offerLate(c) {
				late = append(late, c)
			}
		}
		slices.SortFunc(late, byQueueOrder)
		for _, c := range late {
			if !c.offered || !e.offerLate(c) {
				// Withdrawn meanwhile with its agent's other offers, and
				// maybe offered afresh to someone else.
				continue
			}
			a := e.agents[c.agent]
			if a != nil && e.opt.MissedOfferNotReady && a.Status == parley.StatusReady {
				// The agent goes to not ready first; that withdraws all its
				// offers, this one kept away from it for the cool-down.
				e.exclude(c, a.ID)
				out = e.setStatus(a, parley.StatusNotReady, ReasonMissedOffer, out)
				continue
			}
			out = e.withdraw(c, true, out)
		}
	}
	var expired []*chatState
	for _, c := range e.reserved {
		if !e.now.Before(c.preferredUntil) {
			expired = append(expired, c)
		}
	}
	slices.SortFunc(expired, byQueueOrder)
	for _, c := range expired {
		// The wait for the preferred agent is over: the chat is placed
		// over its groups again, keeping its arrival.
		delete(e.reserved, c.id)
		out = e.dequeue(c, out)
		c.preferred, c.preferredUntil = 0, time.Time{}
		out = e.place(c, out)
	}
	var wrapped []*agentState
	for _, a := range e.wrapping {
		if !e.now.Before(a.wrapUntil) {
			wrapped = append(wrapped, a)
		}
	}
	slices.SortFunc(wrapped, func(a, b *agentState) int { return cmp.Compare(a.ID, b.ID) })
	for _, a := range wrapped {
		a.wrapUntil = time.Time{}
		out = e.setStatus(a, parley.StatusReady, "", out)
	}
	return e.fillAll(out)
}
