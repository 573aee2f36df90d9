// Package routing decides which agent gets which chat.
//
// Engine is pure and deterministic: it is fed inputs (a chat was queued,
// an agent or a group changed, an offer was accepted or declined, a chat
// ended, time passed) and returns decisions (offer chat X to agent Y, chat
// X waits at position P, agent Y is in wrap-up). It does no I/O and reads
// no clock: every input carries its time. Dispatcher serializes inputs and
// hands each decision to whoever applies it.
//
// Routing follows the criteria of a contact center: presence and status
// (only available and ready agents are offered chats; wrap-up excludes),
// group membership, workload against capacity (per agent, overridable per
// group), the visitor's current chat partner (sticky) and preferred agent
// (waited for a while when busy), and prioritized group lists: the first
// listed group with an agent who can take the chat now wins; otherwise the
// chat waits in the first listed group that is open. Each group has a
// strategy (longest idle, least busy, round robin, manual pick), a
// wrap-up time, optional auto-accept and opening hours. Queues are ordered
// by priority, then arrival; every waiting chat has a position and an
// estimated wait time.
package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleychat/parley"
)

// Options tune an Engine. Zero values turn the feature off.
type Options struct {
	// OfferTimeout withdraws an offer that was not answered in time; the
	// chat goes to the next agent.
	OfferTimeout time.Duration
	// DeclineCooldown is how long a chat is not offered again to an agent
	// who declined it or let its offer time out; 0 means for as long as
	// the chat waits.
	DeclineCooldown time.Duration
	// MissedOfferNotReady puts an agent who let an offer time out into
	// not ready (reason "missed offer").
	MissedOfferNotReady bool
	// PreferredWait is how long a chat waits for the visitor's preferred
	// agent when that agent is logged in but busy.
	PreferredWait time.Duration
	// RampUp paces an agent who just became ready: one new offer per
	// RampUp until the agent has been offered as many chats as its
	// capacity, so the whole queue does not land on one agent at once.
	RampUp time.Duration
	// DefaultHandleTime is assumed for wait estimates before any chat of a
	// group has ended; 0 leaves the estimate at -1 until then.
	DefaultHandleTime time.Duration
	// HandleTimeWindow is the number of recent chats the moving average of
	// handle time mostly reflects (50 when 0).
	HandleTimeWindow int
}

// Reason given when an agent is set to not ready for a missed offer.
const ReasonMissedOffer = "missed offer"

// Group is a group's routing configuration.
type Group struct {
	ID         int64
	Strategy   parley.Strategy
	WrapUp     time.Duration
	AutoAccept bool
	// OfferTimeout overrides Options.OfferTimeout for offers of the
	// group's chats; 0 keeps it.
	OfferTimeout time.Duration
	// Schedule is when the group is open; nil is always.
	Schedule *Schedule
}

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

// Input is something that happened that may change routing.
type Input interface{ input() }

// Decision is something the engine decided; the dispatcher's caller applies
// it.
type Decision interface{ decision() }

// GroupChanged reports a group's routing configuration (new or changed).
type GroupChanged struct{ Group Group }

// AgentChanged reports an agent's current routing state (new, changed or
// logged out).
type AgentChanged struct {
	Agent Agent
	At    time.Time
}

// AgentRemoved reports that an agent no longer exists.
type AgentRemoved struct {
	AgentID int64
	At      time.Time
}

// ChatQueued asks for a chat to be placed: a new request, a transfer, or a
// restored chat after a restart. A chat already known is moved: it leaves
// its agent or queue and is placed again.
type ChatQueued struct {
	ChatID string
	// Groups lists the groups to search, in order of preference.
	Groups   []int64
	Priority int
	At       time.Time
	// OnlyAgent offers the chat to this agent only (a transfer to an
	// agent); if that agent cannot take it or declines, the groups decide.
	OnlyAgent int64
	// Exclude keeps the chat away from this agent for the decline
	// cool-down (the agent who transferred it).
	Exclude int64
	// Sticky is the agent of the visitor's chat that is still going on:
	// the visitor stays with that agent while it is logged in and not away.
	Sticky int64
	// Preferred is the agent of the visitor's earlier chat: the chat goes
	// there when that agent can take it, and waits up to PreferredWait
	// when it is logged in but busy.
	Preferred int64
}

// ChatAssigned restores a chat that an agent is already handling (used to
// rebuild the engine after a restart).
type ChatAssigned struct {
	ChatID  string
	GroupID int64
	AgentID int64
	// At is when the agent accepted the chat.
	At time.Time
}

// OfferAccepted asks to make the agent the handler of the chat offered to
// it. It leads to an Assign when the offer still stands, else to nothing.
type OfferAccepted struct {
	ChatID  string
	AgentID int64
	At      time.Time
}

// OfferDeclined reports that the agent declined the offered chat, or that
// the offer could not be delivered. When the offer still stands it leads
// to a Revoke, then to the chat's next placement.
type OfferDeclined struct {
	ChatID  string
	AgentID int64
	At      time.Time
}

// Pick asks to give a waiting chat to the agent who picked it from the
// queue (manual pick). It leads to an Assign when the agent may take it.
type Pick struct {
	ChatID  string
	AgentID int64
	At      time.Time
}

// ChatEnded reports that a chat terminated, waiting or handled.
type ChatEnded struct {
	ChatID string
	At     time.Time
}

// Tick lets time pass: offers time out, wrap-ups end, cool-downs and
// waits for preferred agents expire, ramping agents take their next chat.
type Tick struct{ At time.Time }

func (GroupChanged) input()  {}
func (AgentChanged) input()  {}
func (AgentRemoved) input()  {}
func (ChatQueued) input()    {}
func (ChatAssigned) input()  {}
func (OfferAccepted) input() {}
func (OfferDeclined) input() {}
func (Pick) input()          {}
func (ChatEnded) input()     {}
func (Tick) input()          {}

// Offer offers a chat to an agent; the agent's slot is reserved until the
// offer is accepted, declined, withdrawn or the chat ends.
type Offer struct {
	ChatID  string
	AgentID int64
	GroupID int64
}

// Revoke withdraws an offer (declined, timed out, or the agent became
// unavailable). The chat is placed again by the decisions that follow.
type Revoke struct {
	ChatID  string
	AgentID int64
}

// Assign makes the agent the handler of a chat: an accepted offer, a
// group's auto-accept, or a manual pick.
type Assign struct {
	ChatID  string
	AgentID int64
	GroupID int64
}

// Queued reports that a chat entered a group's queue, with its place.
type Queued struct {
	ChatID   string
	GroupID  int64
	Position int
	// EstimatedWait is in seconds, -1 without a basis.
	EstimatedWait int
}

// QueueChanged reports that positions or estimated waits of a group's
// waiting chats changed; Engine.Queue tells the new ones.
type QueueChanged struct{ GroupID int64 }

// Closed reports that no group the chat asked for is open: it cannot be
// placed and the engine has forgotten it.
type Closed struct {
	ChatID  string
	GroupID int64 // the first group asked for
}

// StatusChanged reports a status the engine gave an agent: wrap-up after a
// chat, ready after it, not ready after a missed offer.
type StatusChanged struct {
	AgentID int64
	Status  parley.Status
	Reason  string
}

func (Offer) decision()         {}
func (Revoke) decision()        {}
func (Assign) decision()        {}
func (Queued) decision()        {}
func (QueueChanged) decision()  {}
func (Closed) decision()        {}
func (StatusChanged) decision() {}

// Engine is the routing state machine. It is not safe for concurrent use;
// Dispatcher serializes access.
type Engine struct {
	opt      Options
	agents   map[int64]*agentState
	groups   map[int64]*groupState
	chats    map[string]*chatState
	offered  map[string]*chatState // chats with a standing offer
	reserved map[string]*chatState // waiting chats kept for their preferred agent
	free     map[int64]*agentState // ready agents below their largest capacity
	wrapping map[int64]*agentState // agents in a wrap-up with an end
	arrival  uint64
	now      time.Time // the latest time an input carried
	dirty    []int64   // groups whose queue changed during this input
	alpha    float64   // weight of a new handle-time sample
}

// NewEngine returns an empty engine.
func NewEngine(opt Options) *Engine {
	n := opt.HandleTimeWindow
	if n <= 0 {
		n = 50
	}
	return &Engine{
		opt:      opt,
		agents:   make(map[int64]*agentState),
		groups:   make(map[int64]*groupState),
		chats:    make(map[string]*chatState),
		offered:  make(map[string]*chatState),
		reserved: make(map[string]*chatState),
		free:     make(map[int64]*agentState),
		wrapping: make(map[int64]*agentState),
		alpha:    2 / float64(n+1),
	}
}

// Handle applies one input and returns the decisions it leads to, in the
// order they must be applied.
func (e *Engine) Handle(in Input) []Decision {
	var out []Decision
	switch in := in.(type) {
	case GroupChanged:
		out = e.groupChanged(in, out)
	case AgentChanged:
		e.advance(in.At)
		out = e.agentChanged(in.Agent, out)
	case AgentRemoved:
		e.advance(in.At)
		out = e.agentRemoved(in.AgentID, out)
	case ChatQueued:
		e.advance(in.At)
		out = e.chatQueued(in, out)
	case ChatAssigned:
		e.advance(in.At)
		e.chatAssigned(in)
	case OfferAccepted:
		e.advance(in.At)
		out = e.offerAccepted(in, out)
	case OfferDeclined:
		e.advance(in.At)
		out = e.offerDeclined(in, out)
	case Pick:
		e.advance(in.At)
		out = e.pick(in, out)
	case ChatEnded:
		e.advance(in.At)
		out = e.chatEnded(in, out)
	case Tick:
		e.advance(in.At)
		out = e.tick(out)
	}
	return e.flushDirty(out)
}

// advance moves the engine's clock; inputs out of order never move it back.
func (e *Engine) advance(at time.Time) {
	if at.After(e.now) {
		e.now = at
	}
}

// markDirty notes that group g's waiting chats changed (one came or went).
func (e *Engine) markDirty(g int64) {
	if !slices.Contains(e.dirty, g) {
		e.dirty = append(e.dirty, g)
	}
}

// markEstimates notes that the estimates of group g's waiting chats may
// have changed; a group without waiting chats has nobody to tell.
func (e *Engine) markEstimates(g int64) {
	if gs := e.groups[g]; gs != nil && gs.queue.len() > 0 {
		e.markDirty(g)
	}
}

func (e *Engine) flushDirty(out []Decision) []Decision {
	if len(e.dirty) == 0 {
		return out
	}
	slices.Sort(e.dirty)
	for _, g := range e.dirty {
		out = append(out, QueueChanged{GroupID: g})
	}
	e.dirty = e.dirty[:0]
	return out
}

func (e *Engine) group(id int64) *groupState {
	g := e.groups[id]
	if g == nil {
		g = &groupState{Group: Group{ID: id}, members: make(map[int64]*agentState)}
		e.groups[id] = g
	}
	return g
}

func (e *Engine) groupChanged(in GroupChanged, out []Decision) []Decision {
	g := e.group(in.Group.ID)
	wasManual := g.Strategy == parley.StrategyManual
	g.Group = in.Group
	e.markEstimates(g.ID)
	if wasManual && g.Strategy != parley.StrategyManual {
		// Waiting chats can now be offered.
		out = e.fillAll(out)
	}
	return out
}

// Queries. They read the engine without changing it.

// GroupOpen reports whether a chat may be requested for the group at now:
// it is within its opening hours and a member is logged in.
func (e *Engine) GroupOpen(groupID int64, now time.Time) bool {
	g := e.groups[groupID]
	return g != nil && g.loggedIn > 0 && g.Schedule.Open(now)
}

// FirstOpen returns the first of the groups that is open at now.
func (e *Engine) FirstOpen(groups []int64, now time.Time) (int64, bool) {
	for _, id := range groups {
		if e.GroupOpen(id, now) {
			return id, true
		}
	}
	return 0, false
}

// AgentCanTake reports whether the agent is ready and has a free slot for a
// chat of group g.
func (e *Engine) AgentCanTake(agentID, g int64) bool {
	a := e.agents[agentID]
	return a != nil && a.ready() && a.load < a.capacityIn(g)
}

// Position returns a chat's place: its group, its position (0 while it is
// offered or handled) and estimated wait; ok is false for an unknown chat.
func (e *Engine) Position(chatID string) (q Queued, ok bool) {
	c := e.chats[chatID]
	if c == nil {
		return Queued{}, false
	}
	q = Queued{ChatID: c.id, GroupID: c.group, EstimatedWait: -1}
	if c.queued {
		g := e.groups[c.group]
		q.Position = g.queue.position(c)
		q.EstimatedWait = e.estimate(g, q.Position)
	}
	return q, true
}

// Queue returns the waiting chats of a group in order, with positions and
// estimated waits.
func (e *Engine) Queue(groupID int64) []Queued {
	g := e.groups[groupID]
	if g == nil {
		return nil
	}
	out := make([]Queued, 0, g.queue.len())
	for i, c := range g.queue.items {
		out = append(out, Queued{ChatID: c.id, GroupID: g.ID, Position: i + 1, EstimatedWait: e.estimate(g, i+1)})
	}
	return out
}

// EstimatedWait returns the estimated wait of a chat requested now for the
// group, in seconds, or -1 without a basis.
func (e *Engine) EstimatedWait(groupID int64) int {
	g := e.groups[groupID]
	if g == nil || !g.Schedule.Open(e.now) {
		return -1
	}
	if e.canTakeNow(g) {
		return 0
	}
	return e.estimate(g, g.queue.len()+1)
}

// canTakeNow reports whether some member of g could take a new chat now.
func (e *Engine) canTakeNow(g *groupState) bool {
	if g.Strategy == parley.StrategyManual {
		return false
	}
	for _, a := range g.members {
		if a.ready() && a.hasRoom(g.ID, e.now) {
			return true
		}
	}
	return false
}

// QueueLengths returns the number of waiting chats of every group that has
// any.
func (e *Engine) QueueLengths() map[int64]int {
	out := make(map[int64]int, len(e.groups))
	for id, g := range e.groups {
		if n := g.queue.len(); n > 0 {
			out[id] = n
		}
	}
	return out
}

// Load returns the number of chats offered to or handled by the agent.
func (e *Engine) Load(agentID int64) int {
	if a := e.agents[agentID]; a != nil {
		return a.load
	}
	return 0
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
