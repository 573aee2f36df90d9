package routing

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// The property tests drive the engine with random input sequences and
// check after every input that its decisions and its state hold together.

// source is where a generator takes its choices: a seeded math/rand/v2
// generator, or the bytes of a fuzz input.
type source interface{ IntN(n int) int }

// byteSource reads one byte per choice; when the bytes run out, every
// choice is 0 and exhausted reports true.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) IntN(n int) int {
	if s.i >= len(s.b) {
		s.i++
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	return v % n
}

func (s *byteSource) exhausted() bool { return s.i > len(s.b) }

const (
	propAgents = 6 // agent ids 1..6
	propGroups = 4 // group ids 1..4
)

// propStart is Monday 09:50 UTC: groups with hoursSchedule close at 10:00
// during a run.
var propStart = time.Date(2026, 3, 2, 9, 50, 0, 0, time.UTC)

var (
	hoursSchedule   = mustSchedule(parley.GroupRouting{Hours: []parley.OpeningHours{{Day: "mon", Open: "09:00", Close: "10:00"}}})
	holidaySchedule = mustSchedule(parley.GroupRouting{TimeZone: "Europe/Berlin", Holidays: []string{"2026-03-02"}})
)

func mustSchedule(r parley.GroupRouting) *Schedule {
	s, err := NewSchedule(r)
	if err != nil {
		panic(err)
	}
	return s
}

var (
	strategies = []parley.Strategy{"", parley.StrategyLongestIdle, parley.StrategyLeastBusy, parley.StrategyRoundRobin, parley.StrategyManual}
	presences  = []parley.Presence{parley.PresenceAvailable, parley.PresenceAvailable, parley.PresenceAvailable,
		parley.PresenceAway, parley.PresenceBusy, parley.PresenceOffline}
	statuses = []parley.Status{parley.StatusReady, parley.StatusReady, parley.StatusReady, parley.StatusNotReady, parley.StatusWrapUp}
)

// propOptions picks engine options, each feature on or off.
func propOptions(r source) Options {
	pick := func(d time.Duration) time.Duration { return time.Duration(r.IntN(2)) * d }
	return Options{
		OfferTimeout:        pick(20 * time.Second),
		DeclineCooldown:     pick(30 * time.Second),
		MissedOfferNotReady: r.IntN(2) == 1,
		PreferredWait:       pick(40 * time.Second),
		RampUp:              pick(15 * time.Second),
		DefaultHandleTime:   pick(time.Minute),
		HandleTimeWindow:    r.IntN(2) * 5,
	}
}

// propGen makes inputs of every kind with monotone times. It looks at the
// engine only to aim accepts, declines and picks at chats where they
// matter; a fifth of them are aimed at random.
type propGen struct {
	r     source
	now   time.Time
	chats []string // every chat id used so far
	n     int
}

func (g *propGen) agent() int64 { return int64(1 + g.r.IntN(propAgents)) }
func (g *propGen) group() int64 { return int64(1 + g.r.IntN(propGroups)) }

func (g *propGen) chat() string {
	if len(g.chats) == 0 || g.r.IntN(8) == 0 {
		return "nochat"
	}
	return g.chats[g.r.IntN(len(g.chats))]
}

func (g *propGen) newChat() string {
	g.n++
	id := fmt.Sprintf("c%d", g.n)
	g.chats = append(g.chats, id)
	return id
}

// someone returns an agent id or, usually, 0.
func (g *propGen) someone(oneIn int) int64 {
	if g.r.IntN(oneIn) == 0 {
		return g.agent()
	}
	return 0
}

func (g *propGen) next(e *Engine) Input {
	g.now = g.now.Add(time.Duration(g.r.IntN(8)) * time.Second)
	switch k := g.r.IntN(100); {
	case k < 5:
		grp := Group{ID: g.group(), Strategy: strategies[g.r.IntN(len(strategies))], AutoAccept: g.r.IntN(5) == 0}
		grp.WrapUp = time.Duration(g.r.IntN(3)) * 10 * time.Second
		switch g.r.IntN(6) {
		case 0:
			grp.Schedule = hoursSchedule
		case 1:
			grp.Schedule = holidaySchedule
		}
		return GroupChanged{Group: grp}
	case k < 27:
		a := Agent{ID: g.agent(), Presence: presences[g.r.IntN(len(presences))],
			Status: statuses[g.r.IntN(len(statuses))], Capacity: g.r.IntN(4), Groups: map[int64]int{}}
		for id := int64(1); id <= propGroups; id++ {
			if g.r.IntN(2) == 0 {
				a.Groups[id] = max(0, g.r.IntN(6)-2) // mostly 0: the agent's capacity
			}
		}
		return AgentChanged{Agent: a, At: g.now}
	case k < 50:
		id := g.chat()
		if id == "nochat" || g.r.IntN(4) != 0 {
			id = g.newChat()
		}
		in := ChatQueued{ChatID: id, Priority: g.r.IntN(3), At: g.now,
			OnlyAgent: g.someone(8), Exclude: g.someone(8), Sticky: g.someone(8), Preferred: g.someone(5)}
		free := []int64{1, 2, 3, 4} // propGroups
		for n := 1 + g.r.IntN(3); len(in.Groups) < n; {
			i := g.r.IntN(len(free))
			in.Groups = append(in.Groups, free[i])
			free = slices.Delete(free, i, i+1)
		}
		return in
	case k < 67:
		chat, agent := g.chat(), g.agent()
		if offered := slices.Sorted(maps.Keys(e.offered)); len(offered) > 0 && g.r.IntN(5) != 0 {
			chat = offered[g.r.IntN(len(offered))]
			agent = e.chats[chat].agent
		}
		if k < 59 {
			return OfferAccepted{ChatID: chat, AgentID: agent, At: g.now}
		}
		return OfferDeclined{ChatID: chat, AgentID: agent, At: g.now}
	case k < 71:
		chat := g.chat()
		var queued []string
		for id, c := range e.chats {
			if c.queued {
				queued = append(queued, id)
			}
		}
		if slices.Sort(queued); len(queued) > 0 && g.r.IntN(5) != 0 {
			chat = queued[g.r.IntN(len(queued))]
		}
		return Pick{ChatID: chat, AgentID: g.agent(), At: g.now}
	case k < 83:
		return ChatEnded{ChatID: g.chat(), At: g.now}
	case k < 96:
		return Tick{At: g.now}
	case k < 98:
		return AgentRemoved{AgentID: g.agent(), At: g.now}
	default:
		return ChatAssigned{ChatID: g.newChat(), GroupID: g.group(), AgentID: g.agent(), At: g.now}
	}
}

// capacityOf is the capacity for chats of group g, computed here rather
// than by the engine's own capacityIn.
func capacityOf(a Agent, g int64) int {
	if c, ok := a.Groups[g]; ok && c > 0 {
		return c
	}
	return a.Capacity
}

// waitsBefore reports whether waiting chat x is to be served before y:
// higher priority first, then earlier request, then earlier input.
func waitsBefore(x, y *chatState) bool {
	if x.priority != y.priority {
		return x.priority > y.priority
	}
	if !x.at.Equal(y.at) {
		return x.at.Before(y.at)
	}
	return x.arrival < y.arrival
}

// holding is what the decisions so far say about a chat an agent has.
type holding struct {
	agent   int64
	handled bool
}

// propChecker follows the decisions (shadow) and checks them and the
// engine's state after every input.
type propChecker struct {
	e      *Engine
	shadow map[string]holding
	groups map[string][]int64 // groups each chat asked for
	ramped map[int64]bool     // agents ramping up since the last Tick
	errs   []string
}

func newPropChecker(e *Engine) *propChecker {
	return &propChecker{e: e, shadow: map[string]holding{}, groups: map[string][]int64{}, ramped: map[int64]bool{}}
}

func (p *propChecker) errorf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

func (p *propChecker) load(agent int64) int {
	n := 0
	for _, h := range p.shadow {
		if h.agent == agent {
			n++
		}
	}
	return n
}

// handle feeds in to the engine and returns the problems found.
func (p *propChecker) handle(in Input) []string {
	e := p.e
	p.errs = nil
	before := map[int64][]Queued{}
	for id := range e.groups {
		before[id] = e.Queue(id)
	}
	_, known := e.chats[chatOf(in)]
	for id, a := range e.agents {
		if a.rampLeft > 0 {
			p.ramped[id] = true
		}
	}
	switch in := in.(type) {
	case ChatQueued:
		if len(in.Groups) > 0 {
			delete(p.shadow, in.ChatID) // a transfer takes it off its agent
			p.groups[in.ChatID] = in.Groups
		}
	case ChatEnded:
		delete(p.shadow, in.ChatID)
	case ChatAssigned:
		if _, ok := e.agents[in.AgentID]; ok && !known {
			p.shadow[in.ChatID] = holding{in.AgentID, true}
		}
	}
	out := e.Handle(in)
	p.checkDecisions(in, out)
	if r, ok := in.(AgentRemoved); ok {
		for id, h := range p.shadow {
			if h.agent == r.AgentID {
				delete(p.shadow, id) // its handled chats have no agent now
			}
		}
	}
	p.checkQueueChanged(before, out)
	p.checkState()
	p.checkNobodyWaitsInVain(in)
	if _, tick := in.(Tick); tick {
		clear(p.ramped)
	}
	return p.errs
}

func chatOf(in Input) string {
	switch in := in.(type) {
	case ChatQueued:
		return in.ChatID
	case ChatAssigned:
		return in.ChatID
	}
	return ""
}

// checkDecisions replays the decisions on the shadow: one agent per chat,
// offers and assignments only below capacity (sticky chats aside),
// revokes only of standing offers.
func (p *propChecker) checkDecisions(in Input, out []Decision) {
	e := p.e
	give := func(chat string, agent, grp int64, handled bool) {
		if h, held := p.shadow[chat]; held {
			p.errorf("%s given to agent %d while agent %d has it", chat, agent, h.agent)
			return
		}
		a := e.agents[agent]
		if a == nil {
			p.errorf("%s given to unknown agent %d", chat, agent)
			return
		}
		q, placing := in.(ChatQueued)
		placing = placing && q.ChatID == chat
		switch {
		case placing && q.Sticky == agent: // the visitor's partner takes it whatever its load
		case p.load(agent) >= capacityOf(a.Agent, grp):
			p.errorf("%s given to agent %d at %d/%d chats of group %d", chat, agent, p.load(agent), capacityOf(a.Agent, grp), grp)
		}
		p.shadow[chat] = holding{agent, handled}
	}
	lastQC := int64(-1) // group of the last QueueChanged
	for _, d := range out {
		if _, ok := d.(QueueChanged); !ok && lastQC >= 0 {
			p.errorf("%T after a QueueChanged", d)
		}
		switch d := d.(type) {
		case Offer:
			give(d.ChatID, d.AgentID, d.GroupID, false)
		case Assign:
			if h, ok := p.shadow[d.ChatID]; ok && h.agent == d.AgentID && !h.handled {
				if acc, ok := in.(OfferAccepted); !ok || acc.ChatID != d.ChatID || acc.AgentID != d.AgentID {
					p.errorf("offer of %s to agent %d assigned on %#v", d.ChatID, d.AgentID, in)
				}
				p.shadow[d.ChatID] = holding{d.AgentID, true}
			} else {
				give(d.ChatID, d.AgentID, d.GroupID, true)
			}
		case Revoke:
			if h, ok := p.shadow[d.ChatID]; !ok || h.agent != d.AgentID || h.handled {
				p.errorf("revoke of %s from agent %d, but it is %+v", d.ChatID, d.AgentID, h)
			}
			delete(p.shadow, d.ChatID)
		case Queued:
			if h, ok := p.shadow[d.ChatID]; ok {
				p.errorf("%s queued while agent %d has it", d.ChatID, h.agent)
			}
			if d.Position < 1 || d.EstimatedWait < -1 {
				p.errorf("bad %+v", d)
			}
		case Closed:
			if h, ok := p.shadow[d.ChatID]; ok {
				p.errorf("%s closed while agent %d has it", d.ChatID, h.agent)
			}
			for _, g := range p.groups[d.ChatID] {
				if e.GroupOpen(g, e.now) {
					p.errorf("%s closed while its group %d is open", d.ChatID, g)
				}
			}
		case QueueChanged:
			if d.GroupID <= lastQC {
				p.errorf("QueueChanged{%d} after QueueChanged{%d}: not sorted or repeated", d.GroupID, lastQC)
			}
			lastQC = d.GroupID
		case StatusChanged:
			if a := e.agents[d.AgentID]; a == nil || !d.Status.Valid() {
				p.errorf("bad %+v", d)
			}
		}
	}
}

// checkQueueChanged: when a group's queue changed other than by chats
// joining it at its end, a QueueChanged for it was among the decisions.
func (p *propChecker) checkQueueChanged(before map[int64][]Queued, out []Decision) {
	told := map[int64]bool{}
	joined := map[string]bool{}
	for _, d := range out {
		switch d := d.(type) {
		case QueueChanged:
			told[d.GroupID] = true
		case Queued:
			joined[d.ChatID] = true
		}
	}
	for id := range p.e.groups {
		after := slices.DeleteFunc(p.e.Queue(id), func(q Queued) bool { return joined[q.ChatID] })
		if !told[id] && !slices.Equal(before[id], after) {
			p.errorf("queue of group %d changed from %v to %v without QueueChanged", id, before[id], after)
		}
	}
}

// checkState checks that the engine's structures agree with each other
// and with the shadow.
func (p *propChecker) checkState() {
	e := p.e
	for id, a := range e.agents {
		if a.load != len(a.chats) {
			p.errorf("agent %d: load %d but %d chats", id, a.load, len(a.chats))
		}
		for cid, c := range a.chats {
			if e.chats[cid] != c || c.agent != id || c.queued || c.offered == c.handled {
				p.errorf("agent %d holds %s in state %+v", id, cid, c)
			}
			if h := p.shadow[cid]; h.agent != id || h.handled != c.handled {
				p.errorf("agent %d holds %s (handled %v); the decisions say %+v", id, cid, c.handled, h)
			}
			if c.offered && !a.ready() && c.sticky != id {
				p.errorf("%s offered to agent %d who is not ready", cid, id)
			}
			if c.offered && e.excluded(c, id) && c.onlyAgent != id {
				p.errorf("%s offered to agent %d, who declined it within the cool-down", cid, id)
			}
		}
		for g := range a.Groups {
			if e.groups[g] == nil || e.groups[g].members[id] != a {
				p.errorf("agent %d missing from the members of group %d", id, g)
			}
		}
	}
	for cid, h := range p.shadow {
		if a := e.agents[h.agent]; a == nil || a.chats[cid] == nil {
			p.errorf("the decisions gave %s to agent %d, who does not hold it", cid, h.agent)
		}
	}
	for cid, c := range e.offered {
		if !c.offered || e.chats[cid] != c {
			p.errorf("e.offered holds %s in state %+v", cid, c)
		}
	}
	for cid, c := range e.chats {
		switch {
		case c.offered && e.offered[cid] != c:
			p.errorf("offered chat %s missing from e.offered", cid)
		case c.queued && (c.agent != 0 || c.offered || c.handled || c.onlyAgent != 0):
			p.errorf("queued chat %s in state %+v", cid, c)
		case c.queued && e.groups[c.group].queue.position(c) == 0:
			p.errorf("queued chat %s not in the queue of group %d", cid, c.group)
		case !c.queued && c.agent == 0 && !c.handled:
			p.errorf("chat %s neither waits nor has an agent: %+v", cid, c)
		case c.agent != 0 && (e.agents[c.agent] == nil || e.agents[c.agent].chats[cid] != c):
			p.errorf("chat %s claims agent %d, who does not hold it", cid, c.agent)
		}
	}
	// The free and wrapping sets match a recount.
	for id, a := range e.agents {
		_, free := e.free[id]
		if want := a.ready() && a.load < a.maxCapacity(); free != want {
			p.errorf("agent %d in the free set: %v; ready %v, load %d of %d", id, free, a.ready(), a.load, a.maxCapacity())
		}
		_, wrapping := e.wrapping[id]
		if want := a.Status == parley.StatusWrapUp && !a.wrapUntil.IsZero(); wrapping != want {
			p.errorf("agent %d in the wrapping set: %v; status %s until %v", id, wrapping, a.Status, a.wrapUntil)
		}
	}
	for id := range e.free {
		if e.agents[id] == nil {
			p.errorf("free set holds unknown agent %d", id)
		}
	}
	for id := range e.wrapping {
		if e.agents[id] == nil {
			p.errorf("wrapping set holds unknown agent %d", id)
		}
	}
	for gid, g := range e.groups {
		loggedIn, slots := 0, int64(0)
		for id, a := range g.members {
			if e.agents[id] != a {
				p.errorf("group %d has member %d who is not an agent", gid, id)
			}
			if _, ok := a.Groups[gid]; !ok {
				p.errorf("group %d has member %d who is not in it", gid, id)
			}
			if a.loggedIn() {
				loggedIn++
				slots += int64(capacityOf(a.Agent, gid)) * slotUnit / int64(len(a.Groups))
			}
		}
		if loggedIn != g.loggedIn || slots != g.slots {
			p.errorf("group %d counts %d logged in, %d µslots; recount %d, %d", gid, g.loggedIn, g.slots, loggedIn, slots)
		}
		for i, c := range g.queue.items {
			if e.chats[c.id] != c || !c.queued || c.group != gid {
				p.errorf("group %d queue holds %s in state %+v", gid, c.id, c)
			}
			if i > 0 && !waitsBefore(g.queue.items[i-1], c) {
				p.errorf("group %d queue out of order at %d", gid, i)
			}
			if q, ok := e.Position(c.id); !ok || q.Position != i+1 || q.GroupID != gid {
				p.errorf("Position(%s) = %+v; want %d in group %d", c.id, q, i+1, gid)
			}
		}
	}
}

// checkNobodyWaitsInVain: no chat waits in a group while a member could
// take it. After a Tick this is strict; after other inputs, declines,
// preferred agents and ramp-ups (of agents ramping since the last Tick)
// may hold a chat back until the next Tick.
func (p *propChecker) checkNobodyWaitsInVain(in Input) {
	e := p.e
	_, tick := in.(Tick)
	for gid, g := range e.groups {
		if g.Strategy == parley.StrategyManual {
			continue
		}
		for _, a := range g.members {
			room := a.load < capacityOf(a.Agent, gid) && (a.rampLeft == 0 || !e.now.Before(a.rampNext))
			if !a.ready() || !room || (!tick && p.ramped[a.ID]) {
				continue
			}
			for _, c := range g.queue.items {
				if _, declined := c.declined[a.ID]; e.excluded(c, a.ID) || (!tick && declined) {
					continue
				}
				if c.preferred != 0 && c.preferred != a.ID && (!tick || e.now.Before(c.preferredUntil)) {
					continue
				}
				p.errorf("%s waits in group %d while agent %d could take it (%d/%d chats)",
					c.id, gid, a.ID, a.load, capacityOf(a.Agent, gid))
			}
		}
	}
}

// runProp runs n inputs (or until the source is exhausted) and fails at
// the first problem, with the inputs that led to it.
func runProp(t *testing.T, r source, n int) {
	t.Helper()
	opt := propOptions(r)
	e := NewEngine(opt)
	p := newPropChecker(e)
	g := &propGen{r: r, now: propStart}
	var log []string
	for step := 0; step < n; step++ {
		in := g.next(e)
		if bs, ok := r.(*byteSource); ok && bs.exhausted() {
			return
		}
		log = append(log, fmt.Sprintf("%#v", in))
		if errs := p.handle(in); len(errs) > 0 {
			t.Fatalf("options %+v\ninputs:\n%s\nproblems after the last input:\n%s",
				opt, strings.Join(log, "\n"), strings.Join(errs, "\n"))
		}
	}
}

func TestEngineProperties(t *testing.T) {
	seeds := uint64(300)
	if testing.Short() {
		seeds = 30
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runProp(t, rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), 500)
		})
	}
}

func FuzzEngine(f *testing.F) {
	for seed := range uint64(8) {
		b := make([]byte, 600)
		r := rand.New(rand.NewPCG(seed, 1))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		runProp(t, &byteSource{b: b}, 1000)
	})
}

// TestEngineDeterministic runs the same random inputs through two engines
// and compares every decision and every answer about the queues.
func TestEngineDeterministic(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 7))
		opt := propOptions(r)
		e1, e2 := NewEngine(opt), NewEngine(opt)
		g := &propGen{r: r, now: propStart}
		for step := range 500 {
			in := g.next(e1)
			d1, d2 := e1.Handle(in), e2.Handle(in)
			if !reflect.DeepEqual(d1, d2) {
				t.Fatalf("seed %d step %d: %#v\nfirst engine:  %#v\nsecond engine: %#v", seed, step, in, d1, d2)
			}
			for id := int64(1); id <= propGroups; id++ {
				if q1, q2 := e1.Queue(id), e2.Queue(id); !reflect.DeepEqual(q1, q2) {
					t.Fatalf("seed %d step %d: Queue(%d) = %v and %v", seed, step, id, q1, q2)
				}
			}
		}
	}
}

func TestSlotsAreExact(t *testing.T) {
	busy := func(a Agent) Agent { return withPresence(a, parley.PresenceBusy) }
	off := func(a Agent) Agent { return withPresence(a, parley.PresenceOffline) }
	third := withGroups(member(3, 1), map[int64]int{1: 0, 2: 0, 3: 0}) // 1/3 slot in group 1
	estimate := func(opt Options, ins ...Input) int {
		e := NewEngine(opt)
		for _, in := range ins {
			e.Handle(in)
		}
		q, ok := e.Position("c")
		if !ok || q.Position != 1 {
			t.Fatalf("chat c is not waiting: %v, %v", q, ok)
		}
		return q.EstimatedWait
	}
	t.Run("the estimate depends on who logged out before", func(t *testing.T) {
		// 1 + 1/3 - 1 is not 1/3: 20 s / (1/3 slot) becomes 61 s.
		opt := Options{DefaultHandleTime: 20 * time.Second}
		fresh := estimate(opt, join(busy(third), 0), ask("c", 1, 1))
		left := estimate(opt, join(busy(member(1, 1, 1)), 0), join(busy(third), 0), join(off(member(1, 1, 1)), 0), ask("c", 1, 1))
		if fresh != 60 || left != 60 {
			t.Errorf("estimates %d (fresh) and %d (after a logout); want 60", fresh, left)
		}
	})
	t.Run("a residue of slots gives an absurd estimate", func(t *testing.T) {
		// Agent 9 is logged in with capacity 0; the others come and go.
		// 1/3 + 2 - 2 - 1/3 leaves 1.7e-16 slots instead of none.
		got := estimate(Options{DefaultHandleTime: time.Hour}, join(busy(member(9, 0, 1)), 0),
			join(busy(third), 0), join(busy(member(2, 2, 1)), 0), join(off(member(2, 2, 1)), 0), join(off(third), 0),
			ask("c", 1, 1))
		if got != -1 {
			t.Errorf("estimate with no slots = %d; want -1", got)
		}
	})
	t.Run("a removal recounts in map order", func(t *testing.T) {
		// 1 + 1 + 1/3 slots: 7 s / (7/3 slots) is 3 s, or 4 s when the
		// third is added first.
		seen := map[int]bool{}
		for range 50 {
			seen[estimate(Options{DefaultHandleTime: 7 * time.Second}, join(busy(member(1, 1, 1)), 0),
				join(busy(member(2, 1, 1)), 0), join(busy(third), 0), join(busy(member(4, 1, 1)), 0),
				AgentRemoved{4, tsec(1)}, ask("c", 2, 1))] = true
		}
		if len(seen) != 1 || !seen[3] {
			t.Errorf("estimates seen over 50 runs: %v; want only 3", seen)
		}
	})
}
