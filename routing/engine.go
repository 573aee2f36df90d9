// Package routing decides which agent gets which chat.
//
// Engine is pure and deterministic: it is fed inputs (a chat was queued, an
// agent changed, an offer was accepted or declined, a chat ended) and
// returns decisions (offer chat X to agent Y, chat X is queued at position
// P). It does no I/O and reads no clock: every input carries its time.
// Dispatcher serializes inputs and hands decisions to whoever applies them.
//
// This engine routes to the longest-idle available agent of the chat's
// group that has free capacity, and otherwise queues the chat first in,
// first out (higher priority first). An offer stands until it is accepted
// (Assign), declined or times out (Revoke); the agent who declined is
// skipped for that chat for a cool-down. Ticks let time pass.
package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleychat/parley"
)

// Input is something that happened that may change routing.
type Input interface{ input() }

// Decision is something the engine decided; the dispatcher's caller applies
// it.
type Decision interface{ decision() }

// Agent is the routing view of an agent.
type Agent struct {
	ID       int64
	Presence parley.Presence
	Status   parley.Status
	// Capacity is the agent's maximum of concurrent chats.
	Capacity int
	// Groups maps each group the agent belongs to to the capacity that
	// applies to chats of that group (0: Capacity).
	Groups map[int64]int
}

// AgentChanged reports an agent's current routing state (new, changed or
// logged out).
type AgentChanged struct {
	Agent Agent
	At    time.Time
}

// AgentRemoved reports that an agent no longer exists.
type AgentRemoved struct{ AgentID int64 }

// ChatQueued asks for a chat to be placed: a new request, a transfer, or a
// restored chat after a restart. A chat already known is moved: it leaves
// its agent and is routed again.
type ChatQueued struct {
	ChatID   string
	GroupID  int64
	Priority int
	At       time.Time
	// OnlyAgent, when set, offers the chat to this agent only (a transfer
	// to an agent). If that agent declines, the chat is routed in its group.
	OnlyAgent int64
	// Exclude keeps the chat away from this agent for the decline
	// cool-down (the agent who transferred it).
	Exclude int64
}

// ChatAssigned restores a chat that an agent is already handling (used to
// rebuild the engine after a restart).
type ChatAssigned struct {
	ChatID  string
	GroupID int64
	AgentID int64
}

// OfferAccepted asks to make the agent the handler of the chat offered to
// it. It leads to an Assign decision when the offer still stands, and to
// nothing otherwise.
type OfferAccepted struct {
	ChatID  string
	AgentID int64
}

// OfferDeclined reports that the agent declined the offered chat, or that
// the offer could not be delivered. When the offer still stands it leads
// to a Revoke, then to the chat's next placement.
type OfferDeclined struct {
	ChatID  string
	AgentID int64
	At      time.Time
}

// Tick lets time pass: offers older than the offer timeout are withdrawn,
// declines older than the cool-down are forgotten, and free agents take
// the chats that became theirs to take.
type Tick struct{ At time.Time }

// ChatEnded reports that a chat terminated, queued or handled.
type ChatEnded struct {
	ChatID string
	At     time.Time
}

func (AgentChanged) input()  {}
func (AgentRemoved) input()  {}
func (ChatQueued) input()    {}
func (ChatAssigned) input()  {}
func (OfferAccepted) input() {}
func (OfferDeclined) input() {}
func (ChatEnded) input()     {}
func (Tick) input()          {}

// Offer offers a chat to an agent. The agent's slot is reserved until the
// offer is accepted, declined or the chat ends.
type Offer struct {
	ChatID  string
	AgentID int64
}

// Revoke withdraws an offer (declined, timed out, or the agent became
// unavailable). The chat is routed again by later decisions.
type Revoke struct {
	ChatID  string
	AgentID int64
}

// Assign makes the agent the handler of a chat it was offered.
type Assign struct {
	ChatID  string
	AgentID int64
}

// Queued reports a queued chat's position, when the chat enters the queue
// and whenever its position changes.
type Queued struct {
	ChatID   string
	GroupID  int64
	Position int
	// EstimatedWait is in seconds, -1 without a basis.
	EstimatedWait int
}

func (Offer) decision()  {}
func (Revoke) decision() {}
func (Assign) decision() {}
func (Queued) decision() {}

type agentState struct {
	Agent
	load      int                 // offered plus handled chats
	chats     map[string]struct{} // offered or handled
	idleSince time.Time
}

func (a *agentState) loggedIn() bool { return a.Presence != parley.PresenceOffline && a.Presence != "" }

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

type chatState struct {
	id        string
	group     int64
	priority  int
	at        time.Time
	arrival   uint64 // tie-break for equal times: order of ChatQueued inputs
	agent     int64  // offered to or handled by
	offered   bool
	queued    bool
	onlyAgent int64
	offeredAt time.Time
	declined  map[int64]time.Time // agent → when it declined (or was excluded)
}

// Options tune an Engine. Zero durations turn the feature off.
type Options struct {
	// OfferTimeout withdraws an offer that was not answered in time; the
	// chat goes to the next agent (on the next Tick).
	OfferTimeout time.Duration
	// DeclineCooldown is how long a chat is not offered again to an agent
	// who declined it or let the offer time out.
	DeclineCooldown time.Duration
}

// Engine is the routing state machine. It is not safe for concurrent use;
// Dispatcher serializes access.
type Engine struct {
	opt     Options
	agents  map[int64]*agentState
	chats   map[string]*chatState
	queues  map[int64][]*chatState // per group, priority then arrival
	arrival uint64
	now     time.Time // the latest time an input carried
}

// NewEngine returns an empty engine.
func NewEngine(opt Options) *Engine {
	return &Engine{
		opt:    opt,
		agents: make(map[int64]*agentState),
		chats:  make(map[string]*chatState),
		queues: make(map[int64][]*chatState),
	}
}

// Handle applies one input and returns the decisions it leads to, in the
// order they must be applied.
func (e *Engine) Handle(in Input) []Decision {
	var out []Decision
	switch in := in.(type) {
	case AgentChanged:
		e.advance(in.At)
		out = e.agentChanged(in, out)
	case AgentRemoved:
		out = e.agentRemoved(in, out)
	case ChatQueued:
		e.advance(in.At)
		out = e.chatQueued(in, out)
	case ChatAssigned:
		e.chatAssigned(in)
	case OfferAccepted:
		if c := e.chats[in.ChatID]; c != nil && c.offered && c.agent == in.AgentID {
			c.offered, c.onlyAgent, c.declined = false, 0, nil
			out = append(out, Assign{ChatID: c.id, AgentID: c.agent})
		}
	case OfferDeclined:
		e.advance(in.At)
		out = e.offerDeclined(in, out)
	case ChatEnded:
		e.advance(in.At)
		out = e.chatEnded(in, out)
	case Tick:
		e.advance(in.At)
		out = e.tick(out)
	}
	return out
}

// advance moves the engine's clock; inputs out of order never move it back.
func (e *Engine) advance(at time.Time) {
	if at.After(e.now) {
		e.now = at
	}
}

// excluded reports whether agent a may not be offered chat c now: it
// declined c (or let it time out, or transferred it) within the cool-down.
func (e *Engine) excluded(c *chatState, a int64) bool {
	at, ok := c.declined[a]
	return ok && (e.opt.DeclineCooldown <= 0 || e.now.Sub(at) < e.opt.DeclineCooldown)
}

func (e *Engine) exclude(c *chatState, a int64, at time.Time) {
	if c.declined == nil {
		c.declined = make(map[int64]time.Time)
	}
	c.declined[a] = at
}

// tick withdraws offers that timed out and lets free agents take chats
// whose cool-downs have passed.
func (e *Engine) tick(out []Decision) []Decision {
	if e.opt.OfferTimeout > 0 {
		var late []*chatState
		for _, c := range e.chats {
			if c.offered && e.now.Sub(c.offeredAt) >= e.opt.OfferTimeout {
				late = append(late, c)
			}
		}
		slices.SortFunc(late, byQueueOrder)
		for _, c := range late {
			out = e.withdraw(c, true, e.now, out)
		}
	}
	ids := make([]int64, 0, len(e.agents))
	for id, a := range e.agents {
		if a.ready() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = e.fill(e.agents[id], out)
	}
	return out
}

// GroupOpen reports whether any member of the group is logged in, which is
// what lets a new chat be requested.
func (e *Engine) GroupOpen(groupID int64) bool {
	for _, a := range e.agents {
		if _, ok := a.Groups[groupID]; ok && a.loggedIn() {
			return true
		}
	}
	return false
}

// AgentCanTake reports whether the agent is ready and has a free slot for
// a chat of group g.
func (e *Engine) AgentCanTake(agentID, g int64) bool {
	a := e.agents[agentID]
	return a != nil && a.ready() && a.load < a.capacityIn(g)
}

// Position returns a queued chat's place in line; ok is false when the
// engine does not know the chat. An offered chat has position 0.
func (e *Engine) Position(chatID string) (q Queued, ok bool) {
	c := e.chats[chatID]
	if c == nil {
		return Queued{}, false
	}
	q = Queued{ChatID: c.id, GroupID: c.group, EstimatedWait: -1}
	if c.queued {
		q.Position = slices.Index(e.queues[c.group], c) + 1
	}
	return q, true
}

// Load returns the number of chats offered to or handled by the agent.
func (e *Engine) Load(agentID int64) int {
	if a := e.agents[agentID]; a != nil {
		return a.load
	}
	return 0
}

func (e *Engine) agentChanged(in AgentChanged, out []Decision) []Decision {
	a := e.agents[in.Agent.ID]
	if a == nil {
		a = &agentState{chats: make(map[string]struct{}), idleSince: in.At}
		e.agents[in.Agent.ID] = a
	}
	wasReady := a.ready()
	a.Agent = in.Agent
	if !wasReady && a.ready() {
		// Longest idle counts from when the agent became able to take chats.
		if a.load == 0 {
			a.idleSince = in.At
		}
	}
	if !a.ready() {
		out = e.revokeOffers(a, in.At, out)
	}
	return e.fill(a, out)
}

func (e *Engine) agentRemoved(in AgentRemoved, out []Decision) []Decision {
	a := e.agents[in.AgentID]
	if a == nil {
		return out
	}
	// Make the agent unable to take chats before routing its offers again.
	a.Presence = parley.PresenceOffline
	out = e.revokeOffers(a, time.Time{}, out)
	for id := range a.chats {
		if c := e.chats[id]; c != nil {
			c.agent = 0
		}
	}
	delete(e.agents, in.AgentID)
	return out
}

// revokeOffers withdraws the agent's pending offers and routes those chats
// again.
func (e *Engine) revokeOffers(a *agentState, at time.Time, out []Decision) []Decision {
	var revoked []*chatState
	for id := range a.chats {
		if c := e.chats[id]; c != nil && c.offered {
			revoked = append(revoked, c)
		}
	}
	slices.SortFunc(revoked, byQueueOrder)
	for _, c := range revoked {
		out = e.withdraw(c, false, at, out)
	}
	return out
}

// withdraw revokes the offer of c, frees the agent's slot and places c
// again; exclude keeps c away from that agent for the cool-down.
func (e *Engine) withdraw(c *chatState, exclude bool, at time.Time, out []Decision) []Decision {
	out = append(out, Revoke{ChatID: c.id, AgentID: c.agent})
	if exclude {
		e.exclude(c, c.agent, at)
	}
	if a := e.agents[c.agent]; a != nil {
		e.release(a, c, at)
	}
	c.onlyAgent = 0
	return e.place(c, out)
}

func (e *Engine) chatQueued(in ChatQueued, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c != nil {
		out = e.detach(c, in.At, out)
	} else {
		c = &chatState{id: in.ChatID}
		e.chats[in.ChatID] = c
	}
	e.arrival++
	c.group, c.priority, c.at, c.arrival = in.GroupID, in.Priority, in.At, e.arrival
	c.onlyAgent, c.declined = in.OnlyAgent, nil
	if in.Exclude != 0 {
		e.exclude(c, in.Exclude, in.At)
	}
	out = e.place(c, out)
	return out
}

func (e *Engine) chatAssigned(in ChatAssigned) {
	if _, ok := e.chats[in.ChatID]; ok {
		return
	}
	a := e.agents[in.AgentID]
	c := &chatState{id: in.ChatID, group: in.GroupID}
	e.chats[in.ChatID] = c
	if a != nil {
		c.agent = a.ID
		a.load++
		a.chats[c.id] = struct{}{}
	}
}

func (e *Engine) offerDeclined(in OfferDeclined, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c == nil || !c.offered || c.agent != in.AgentID {
		return out
	}
	out = e.withdraw(c, true, in.At, out)
	if a := e.agents[in.AgentID]; a != nil {
		out = e.fill(a, out)
	}
	return out
}

func (e *Engine) chatEnded(in ChatEnded, out []Decision) []Decision {
	c := e.chats[in.ChatID]
	if c == nil {
		return out
	}
	delete(e.chats, in.ChatID)
	return e.detach(c, in.At, out)
}

// detach takes c out of its queue or off its agent, filling the freed slot
// and reporting the positions that moved.
func (e *Engine) detach(c *chatState, at time.Time, out []Decision) []Decision {
	if c.queued {
		return e.dequeue(c, out)
	}
	if a := e.agents[c.agent]; a != nil && c.agent != 0 {
		e.release(a, c, at)
		return e.fill(a, out)
	}
	return out
}

func (e *Engine) release(a *agentState, c *chatState, at time.Time) {
	if _, ok := a.chats[c.id]; ok {
		delete(a.chats, c.id)
		a.load--
		if a.load == 0 && !at.IsZero() {
			a.idleSince = at
		}
	}
	c.agent, c.offered = 0, false
}

// place offers c to the best agent, or queues it.
func (e *Engine) place(c *chatState, out []Decision) []Decision {
	if c.onlyAgent != 0 {
		if a := e.agents[c.onlyAgent]; a != nil && a.ready() && a.load < a.capacityIn(c.group) {
			return e.offer(c, a, out)
		}
		// The chosen agent cannot take it after all: route in the group.
		c.onlyAgent = 0
	}
	if a := e.pickAgent(c); a != nil {
		return e.offer(c, a, out)
	}
	return e.enqueue(c, out)
}

func (e *Engine) offer(c *chatState, a *agentState, out []Decision) []Decision {
	c.agent, c.offered, c.queued, c.offeredAt = a.ID, true, false, e.now
	a.load++
	a.chats[c.id] = struct{}{}
	return append(out, Offer{ChatID: c.id, AgentID: a.ID})
}

// pickAgent returns the longest-idle ready agent of c's group with a free
// slot that has not declined c; ties go to the lower agent ID.
func (e *Engine) pickAgent(c *chatState) *agentState {
	var best *agentState
	for _, a := range e.agents {
		if _, member := a.Groups[c.group]; !member || !a.ready() || a.load >= a.capacityIn(c.group) {
			continue
		}
		if e.excluded(c, a.ID) {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) ||
			(a.idleSince.Equal(best.idleSince) && a.ID < best.ID) {
			best = a
		}
	}
	return best
}

// fill offers queued chats to agent a while it has free slots, best chat
// first across its groups.
func (e *Engine) fill(a *agentState, out []Decision) []Decision {
	for a.ready() {
		var best *chatState
		for g := range a.Groups {
			if a.load >= a.capacityIn(g) {
				continue
			}
			for _, c := range e.queues[g] {
				if e.excluded(c, a.ID) || c.onlyAgent != 0 {
					continue
				}
				if best == nil || byQueueOrder(c, best) < 0 {
					best = c
				}
				break
			}
		}
		if best == nil {
			return out
		}
		out = e.dequeue(best, out)
		out = e.offer(best, a, out)
	}
	return out
}

func (e *Engine) enqueue(c *chatState, out []Decision) []Decision {
	q := e.queues[c.group]
	i, _ := slices.BinarySearchFunc(q, c, byQueueOrder)
	q = slices.Insert(q, i, c)
	e.queues[c.group] = q
	c.queued, c.agent, c.offered = true, 0, false
	for j := i; j < len(q); j++ {
		out = append(out, Queued{ChatID: q[j].id, GroupID: c.group, Position: j + 1, EstimatedWait: -1})
	}
	return out
}

func (e *Engine) dequeue(c *chatState, out []Decision) []Decision {
	q := e.queues[c.group]
	i := slices.Index(q, c)
	if i < 0 {
		return out
	}
	q = slices.Delete(q, i, i+1)
	e.queues[c.group] = q
	c.queued = false
	for j := i; j < len(q); j++ {
		out = append(out, Queued{ChatID: q[j].id, GroupID: c.group, Position: j + 1, EstimatedWait: -1})
	}
	return out
}

// byQueueOrder orders chats by priority (higher first), then arrival time,
// then input order.
func byQueueOrder(a, b *chatState) int {
	if c := cmp.Compare(b.priority, a.priority); c != 0 {
		return c
	}
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.arrival, b.arrival)
}

// QueueLengths returns the number of queued chats of every group that has
// any.
func (e *Engine) QueueLengths() map[int64]int {
	out := make(map[int64]int, len(e.queues))
	for g, q := range e.queues {
		if len(q) > 0 {
			out[g] = len(q)
		}
	}
	return out
}
