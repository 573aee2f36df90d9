package routing

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// Benchmarks of the routing goal G7 (BENCHMARKS.md): 2,000 agents of
// capacity 1–5 in 50 groups, all busy, and 10,000 queued chats.
//
//	go test -run '^$' -bench . -benchmem -count 5 ./routing/
//	PARLEY_BENCH=1 go test -run 'TestDecisionLatency|TestPlace10k|TestStateMemory' -v -count 3 ./routing/
//
// The tests that time or weigh something skip unless PARLEY_BENCH=1 is set
// (timing assertions do not belong in an ordinary test run); with it they
// log their figures and assert the goals.

// benchSize is the shape of a routing state.
type benchSize struct {
	name   string
	agents int
	groups int
	queued int
	// p99 is the decision-latency goal for this size.
	p99 time.Duration
}

var (
	sizeGoal    = benchSize{name: "agents=2000/queued=10000", agents: 2000, groups: 50, queued: 10000, p99: time.Millisecond}
	sizeStretch = benchSize{name: "agents=7500/queued=50000", agents: 7500, groups: 50, queued: 50000, p99: 2 * time.Millisecond}
	benchSizes  = []benchSize{sizeGoal, sizeStretch}
)

// benchOptions are the server's defaults (cmd/parley: offer timeout 60 s,
// decline cool-down 30 s) with a default handle time so that estimates
// have a basis from the start.
var benchOptions = Options{
	OfferTimeout:      60 * time.Second,
	DeclineCooldown:   30 * time.Second,
	DefaultHandleTime: 5 * time.Minute,
}

var benchT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// idSet is a set of chat IDs with O(1) add, remove and random pick.
type idSet struct {
	ids []string
	at  map[string]int
}

func newIDSet() idSet { return idSet{at: make(map[string]int)} }

func (s *idSet) add(id string) {
	if _, ok := s.at[id]; ok {
		return
	}
	s.at[id] = len(s.ids)
	s.ids = append(s.ids, id)
}

func (s *idSet) remove(id string) {
	i, ok := s.at[id]
	if !ok {
		return
	}
	last := s.ids[len(s.ids)-1]
	s.ids[i], s.at[last] = last, i
	s.ids = s.ids[:len(s.ids)-1]
	delete(s.at, id)
}

func (s *idSet) len() int { return len(s.ids) }

func (s *idSet) pick(rng *rand.Rand) string { return s.ids[rng.IntN(len(s.ids))] }

type pendingOffer struct {
	chat  string
	agent int64
	at    time.Time
}

// benchDriver builds a routing state and plays the world around the engine:
// visitors who arrive and leave, agents who answer offers and go away and
// come back. It follows the engine's decisions to know who holds what.
type benchDriver struct {
	e        *Engine
	rng      *rand.Rand
	now      time.Time
	nextTick time.Time
	agents   []Agent // by ID-1
	groups   int
	nextChat uint64
	// slotGroups, when set, are the groups of the next chats.
	slotGroups []int64

	handled  idSet
	queued   idSet
	offerOf  map[string]int64 // standing offers
	offers   []pendingOffer   // to answer, oldest first (may hold withdrawn ones)
	away     []int64          // agents the driver made not ready, oldest first
	isAway   map[int64]bool
	nOffers  int
	nAssigns int
}

// newBenchDriver builds the state: the groups, the agents in 1–3 groups,
// ready, then chats, each offer accepted at once, until sz.queued chats
// wait; with every group's queue non-empty every agent is at capacity.
// capMin and capMax bound the agents' capacities. With notReady the agents
// are logged in but not ready, each in one group only, and there is one
// queued chat per agent slot, in that agent's group (set sz.queued to the
// slots).
func newBenchDriver(sz benchSize, seed uint64, capMin, capMax int, notReady bool) *benchDriver {
	d := &benchDriver{
		e:       NewEngine(benchOptions),
		rng:     rand.New(rand.NewPCG(seed, 42)),
		now:     benchT0,
		groups:  sz.groups,
		handled: newIDSet(),
		queued:  newIDSet(),
		offerOf: make(map[string]int64),
		isAway:  make(map[int64]bool),
	}
	strategies := []parley.Strategy{parley.StrategyLongestIdle, parley.StrategyLeastBusy, parley.StrategyRoundRobin}
	for g := 1; g <= sz.groups; g++ {
		grp := Group{ID: int64(g), Strategy: strategies[g%len(strategies)]}
		if g%5 == 0 {
			grp.WrapUp = 10 * time.Second
		}
		d.apply(d.e.Handle(GroupChanged{Group: grp}))
	}
	status := parley.StatusReady
	if notReady {
		status = parley.StatusNotReady
	}
	for i := range sz.agents {
		groups := map[int64]int{int64(i%sz.groups) + 1: 0}
		extra := min(d.rng.IntN(3), sz.groups-1)
		if notReady {
			extra = 0 // see placeBursts "ready"
		}
		for len(groups) < 1+extra {
			groups[int64(d.rng.IntN(sz.groups))+1] = 0
		}
		a := Agent{
			ID: int64(i + 1), Presence: parley.PresenceAvailable, Status: status,
			Capacity: capMin + d.rng.IntN(capMax-capMin+1), Groups: groups,
		}
		d.agents = append(d.agents, a)
		d.apply(d.e.Handle(AgentChanged{Agent: a, At: d.now}))
	}
	if notReady {
		// One chat per agent slot, in that agent's group, in random order.
		var slots []int64
		for _, a := range d.agents {
			for g := range a.Groups {
				for range a.Capacity {
					slots = append(slots, g)
				}
			}
		}
		d.rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
		d.slotGroups = slots
	}
	for d.queued.len() < sz.queued {
		d.now = d.now.Add(10 * time.Millisecond)
		d.apply(d.e.Handle(d.newChat()))
		for _, o := range d.offers {
			d.apply(d.e.Handle(OfferAccepted{ChatID: o.chat, AgentID: o.agent, At: d.now}))
		}
		d.offers = d.offers[:0]
	}
	d.nextTick = d.now.Add(5 * time.Second)
	return d
}

// newChat returns a new visitor's request: one group (70 %) or two
// different ones, of
// priority 0 (80 %), 1 (15 %) or 2.
func (d *benchDriver) newChat() ChatQueued {
	d.nextChat++
	// The shape of the server's UUIDv7 chat IDs (36 characters).
	id := fmt.Sprintf("019a4c2e-%04x-7%03x-8%03x-%012x", d.nextChat>>32&0xffff, d.nextChat>>20&0xfff, d.nextChat>>8&0xfff, d.nextChat)
	if len(d.slotGroups) > 0 {
		g := d.slotGroups[0]
		d.slotGroups = d.slotGroups[1:]
		return ChatQueued{ChatID: id, Groups: []int64{g}, At: d.now}
	}
	groups := []int64{int64(d.rng.IntN(d.groups)) + 1}
	if d.groups > 1 && d.rng.Float64() < 0.3 {
		second := int64(d.rng.IntN(d.groups-1)) + 1
		if second >= groups[0] {
			second++
		}
		groups = append(groups, second)
	}
	prio := 0
	switch r := d.rng.Float64(); {
	case r < 0.05:
		prio = 2
	case r < 0.20:
		prio = 1
	}
	return ChatQueued{ChatID: id, Groups: groups, Priority: prio, At: d.now}
}

// apply follows the engine's decisions.
func (d *benchDriver) apply(ds []Decision) {
	for _, dec := range ds {
		switch dec := dec.(type) {
		case Offer:
			d.nOffers++
			d.queued.remove(dec.ChatID)
			d.offerOf[dec.ChatID] = dec.AgentID
			d.offers = append(d.offers, pendingOffer{chat: dec.ChatID, agent: dec.AgentID, at: d.now})
		case Revoke:
			delete(d.offerOf, dec.ChatID)
		case Assign:
			d.nAssigns++
			delete(d.offerOf, dec.ChatID)
			d.queued.remove(dec.ChatID)
			d.handled.add(dec.ChatID)
		case Queued:
			d.queued.add(dec.ChatID)
		case StatusChanged:
			d.agents[dec.AgentID-1].Status = dec.Status
		case Closed:
			panic(fmt.Sprintf("chat %s closed: every group has logged-in members", dec.ChatID))
		}
	}
}

// Input kinds of the mix, for per-kind figures.
const (
	kindQueued = iota
	kindEndedHandled
	kindEndedQueued
	kindAgentAway
	kindAgentBack
	kindAccepted
	kindDeclined
	kindTick
	numKinds
)

var kindNames = [numKinds]string{"ChatQueued (new)", "ChatEnded (handled)", "ChatEnded (queued)", "AgentChanged (not ready)", "AgentChanged (ready)", "OfferAccepted", "OfferDeclined", "Tick"}

// next returns the mix's next input and its kind. Per simulated second the
// mix has the load of G7: 100 new chats, 200 agent state changes (agents
// go not ready and come back, at least 100 away at any time), and to keep the
// state stationary 80 handled chats end and 20 visitors leave the queue.
// Offers are answered 2 s after they are made, 90 % accepted and 10 %
// declined; a Tick every 5 s (the server's default).
func (d *benchDriver) next() (Input, int) {
	if !d.now.Before(d.nextTick) {
		d.nextTick = d.nextTick.Add(5 * time.Second)
		return Tick{At: d.now}, kindTick
	}
	for len(d.offers) > 0 && d.now.Sub(d.offers[0].at) >= 2*time.Second {
		o := d.offers[0]
		d.offers = d.offers[1:]
		if d.offerOf[o.chat] != o.agent {
			continue // withdrawn meanwhile
		}
		if d.rng.IntN(10) == 0 {
			return OfferDeclined{ChatID: o.chat, AgentID: o.agent, At: d.now}, kindDeclined
		}
		return OfferAccepted{ChatID: o.chat, AgentID: o.agent, At: d.now}, kindAccepted
	}
	d.now = d.now.Add(time.Second / 400)
	switch r := d.rng.IntN(400); {
	case r < 100:
		return d.newChat(), kindQueued
	case r < 300:
		if len(d.away) < 100 || d.rng.IntN(2) == 0 {
			for {
				id := int64(d.rng.IntN(len(d.agents))) + 1
				if d.isAway[id] {
					continue
				}
				d.isAway[id] = true
				d.away = append(d.away, id)
				a := &d.agents[id-1]
				if d.rng.IntN(2) == 0 {
					a.Status = parley.StatusNotReady
				} else {
					a.Presence = parley.PresenceAway
				}
				return AgentChanged{Agent: *a, At: d.now}, kindAgentAway
			}
		}
		id := d.away[0]
		d.away = d.away[1:]
		delete(d.isAway, id)
		a := &d.agents[id-1]
		a.Presence, a.Status = parley.PresenceAvailable, parley.StatusReady
		return AgentChanged{Agent: *a, At: d.now}, kindAgentBack
	case r < 380 && d.handled.len() > 0:
		id := d.handled.pick(d.rng)
		d.handled.remove(id)
		return ChatEnded{ChatID: id, At: d.now}, kindEndedHandled
	default:
		if d.queued.len() == 0 {
			return d.newChat(), kindQueued
		}
		id := d.queued.pick(d.rng)
		d.queued.remove(id)
		return ChatEnded{ChatID: id, At: d.now}, kindEndedQueued
	}
}

// benchRecording is a mixed input sequence recorded on a state, to be
// replayed on an identical fresh state: the replay runs nothing but the
// engine.
type benchRecording struct {
	inputs    []Input
	kinds     []int
	decisions int // total decisions the inputs led to
	queuedEnd int // queued chats after the sequence
}

const benchSeed = 1

var (
	recordingsMu sync.Mutex
	recordings   = map[string]*benchRecording{}
)

// recordMix records n mixed inputs on the state of size sz (cached).
func recordMix(sz benchSize, n int) *benchRecording {
	recordingsMu.Lock()
	defer recordingsMu.Unlock()
	key := fmt.Sprintf("%s/%d", sz.name, n)
	if r := recordings[key]; r != nil {
		return r
	}
	d := newBenchDriver(sz, benchSeed, 1, 5, false)
	r := &benchRecording{}
	for range n {
		in, kind := d.next()
		ds := d.e.Handle(in)
		d.apply(ds)
		r.inputs = append(r.inputs, in)
		r.kinds = append(r.kinds, kind)
		r.decisions += len(ds)
	}
	r.queuedEnd = d.queued.len()
	recordings[key] = r
	return r
}

// freshState builds the state a recording starts from.
func freshState(sz benchSize) *Engine { return newBenchDriver(sz, benchSeed, 1, 5, false).e }

// BenchmarkDecision is the cost of one input of the mix on the full state:
// ns/op, B/op and allocs/op of Engine.Handle alone (the inputs are
// recorded beforehand and replayed; the state is rebuilt, untimed, every
// 20,000 inputs).
func BenchmarkDecision(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			rec := recordMix(sz, 20000)
			var e *Engine
			pos := len(rec.inputs)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if pos == len(rec.inputs) {
					b.StopTimer()
					e, pos = freshState(sz), 0
					runtime.GC()
					b.StartTimer()
				}
				e.Handle(rec.inputs[pos])
				pos++
			}
		})
	}
}

// BenchmarkDecisionTick is the cost of a Tick on the full state:
//
//   - idle: nothing is due; every agent is at capacity or not ready.
//   - wrapup=1: one agent's wrap-up ends in this Tick, so it has one free
//     slot to fill (untimed before each Tick: a handled chat of a group
//     with a wrap-up ends and 11 s pass; untimed after it: the offers are
//     accepted and a new chat is queued).
func BenchmarkDecisionTick(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name+"/idle", func(b *testing.B) {
			d := newBenchDriver(sz, benchSeed, 1, 5, false)
			at := d.now
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				at = at.Add(time.Millisecond)
				d.e.Handle(Tick{At: at})
			}
		})
		b.Run(sz.name+"/wrapup=1", func(b *testing.B) {
			benchWrapUpTick(b, func() *benchDriver { return newBenchDriver(sz, benchSeed, 1, 5, false) })
		})
	}
}

// benchWrapUpTick times Ticks that each end one agent's wrap-up. New
// chats go to any group while the ended ones come from the groups with a
// wrap-up, so those queues drain over many iterations: the state is
// rebuilt, untimed, whenever its handled chats of such groups run out.
func benchWrapUpTick(b *testing.B, build func() *benchDriver) {
	b.Helper()
	var (
		d        *benchDriver
		wrapping []string // handled chats of groups with a wrap-up
	)
	refill := func() {
		for _, id := range d.handled.ids {
			if q, ok := d.e.Position(id); ok && d.e.groups[q.GroupID].WrapUp > 0 {
				wrapping = append(wrapping, id)
			}
		}
	}
	restart := func() {
		d, wrapping = build(), nil
		refill()
		if len(wrapping) == 0 {
			b.Fatal("no handled chat in a group with a wrap-up")
		}
	}
	restart()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if len(wrapping) == 0 || i%1000 == 999 {
			// Keep the state the size the file describes.
			restart()
		}
		id := wrapping[len(wrapping)-1]
		wrapping = wrapping[:len(wrapping)-1]
		d.handled.remove(id)
		d.apply(d.e.Handle(ChatEnded{ChatID: id, At: d.now}))
		d.now = d.now.Add(11 * time.Second)
		b.StartTimer()
		ds := d.e.Handle(Tick{At: d.now})
		b.StopTimer()
		d.apply(ds)
		for _, o := range d.offers {
			d.apply(d.e.Handle(OfferAccepted{ChatID: o.chat, AgentID: o.agent, At: d.now}))
		}
		d.offers = d.offers[:0]
		d.apply(d.e.Handle(d.newChat())) // the queue stays as long
		b.StartTimer()
	}
}

// BenchmarkScaling shows how the cost of an input grows with the state,
// in one group of agents of capacity 3, all busy (the driver's bookkeeping,
// a few map operations, is inside the timing):
//
//   - fill/queue=L: a handled chat ends, its agent is offered the head of
//     a queue of L chats and accepts, a new chat is queued (L stays).
//   - tick/queue=L/members=M: a Tick in which one agent's wrap-up ends
//     (see benchWrapUpTick), in a group with a 10 s wrap-up.
//   - place/members=M: a new chat is queued while all M members are busy,
//     then its visitor leaves.
func BenchmarkScaling(b *testing.B) {
	for _, l := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("fill/queue=%d", l), func(b *testing.B) {
			d := newBenchDriver(benchSize{agents: 100, groups: 1, queued: l}, benchSeed, 3, 3, false)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				d.now = d.now.Add(time.Millisecond)
				id := d.handled.pick(d.rng)
				d.handled.remove(id)
				d.apply(d.e.Handle(ChatEnded{ChatID: id, At: d.now}))
				for _, o := range d.offers {
					d.apply(d.e.Handle(OfferAccepted{ChatID: o.chat, AgentID: o.agent, At: d.now}))
				}
				d.offers = d.offers[:0]
				d.apply(d.e.Handle(d.newChat()))
			}
		})
	}
	for _, lm := range [][2]int{{100, 100}, {1000, 100}, {1000, 1000}} {
		b.Run(fmt.Sprintf("tick/queue=%d/members=%d", lm[0], lm[1]), func(b *testing.B) {
			benchWrapUpTick(b, func() *benchDriver {
				d := newBenchDriver(benchSize{agents: lm[1], groups: 1, queued: lm[0]}, benchSeed, 3, 3, false)
				d.e.Handle(GroupChanged{Group: Group{ID: 1, Strategy: parley.StrategyLongestIdle, WrapUp: 10 * time.Second}})
				return d
			})
		})
	}
	for _, m := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("place/members=%d", m), func(b *testing.B) {
			d := newBenchDriver(benchSize{agents: m, groups: 1, queued: 1000}, benchSeed, 3, 3, false)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				d.now = d.now.Add(time.Millisecond)
				in := d.newChat()
				d.e.Handle(in)
				d.e.Handle(ChatEnded{ChatID: in.ChatID, At: d.now})
			}
		})
	}
}

// latencyStats are per-input durations.
type latencyStats struct{ p50, p90, p99, p999, max, mean time.Duration }

func latencies(ds []time.Duration) latencyStats {
	if len(ds) == 0 {
		return latencyStats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latencyStats{p50: q(0.50), p90: q(0.90), p99: q(0.99), p999: q(0.999), max: s[len(s)-1], mean: sum / time.Duration(len(s))}
}

func benchEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("PARLEY_BENCH") != "1" || testing.Short() {
		t.Skip("a measurement: set PARLEY_BENCH=1 to run it")
	}
}

// TestDecisionLatency replays 20,000 mixed inputs on the full state, timing
// each Engine.Handle, and logs p50/p90/p99/p99.9/max overall and per input
// kind, and the same with the wait behind slower inputs included (see
// withWaiting); it asserts the goal p99 of Engine.Handle alone (1 ms for
// 2,000 agents and 10,000 queued chats, 2 ms for the stretch size).
// PARLEY_BENCH=1 only.
func TestDecisionLatency(t *testing.T) {
	benchEnabled(t)
	for _, sz := range benchSizes {
		t.Run(sz.name, func(t *testing.T) {
			rec := recordMix(sz, 20000)
			e := freshState(sz)
			runtime.GC()
			all := make([]time.Duration, len(rec.inputs))
			decisions := 0
			for i, in := range rec.inputs {
				start := time.Now()
				ds := e.Handle(in)
				all[i] = time.Since(start)
				decisions += len(ds)
			}
			if decisions != rec.decisions {
				t.Fatalf("replay led to %d decisions, the recording to %d: the engine is not deterministic", decisions, rec.decisions)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "\n%d inputs, %d decisions, queued at the end: %d\n", len(all), decisions, rec.queuedEnd)
			fmt.Fprintf(&b, "| input | count | mean | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n")
			row := func(name string, ds []time.Duration) {
				l := latencies(ds)
				fmt.Fprintf(&b, "| %s | %d | %v | %v | %v | %v | %v | %v |\n", name, len(ds), l.mean, l.p50, l.p90, l.p99, l.p999, l.max)
			}
			row("all", all)
			for k := range numKinds {
				var ds []time.Duration
				for i, kind := range rec.kinds {
					if kind == k {
						ds = append(ds, all[i])
					}
				}
				row(kindNames[k], ds)
			}
			row("all, waiting included", withWaiting(rec.inputs, all))
			t.Log(b.String())
			if l := latencies(all); l.p99 > sz.p99 {
				t.Errorf("p99 = %v, goal ≤ %v", l.p99, sz.p99)
			}
		})
	}
}

// withWaiting returns each input's time from its arrival to the end of its
// handling when the inputs arrive at their At (500 per second in the mix)
// and are handled one at a time, as the Dispatcher does, each taking the
// measured time: an input that arrives while a slow one is being handled
// waits for it (Lindley's recursion, W' = max(0, W + S − A)).
func withWaiting(inputs []Input, service []time.Duration) []time.Duration {
	out := make([]time.Duration, len(inputs))
	var free time.Time // when the engine is done with the previous input
	for i, in := range inputs {
		at := inputAt(in)
		start := at
		if free.After(start) {
			start = free
		}
		free = start.Add(service[i])
		out[i] = free.Sub(at)
	}
	return out
}

func inputAt(in Input) time.Time {
	switch in := in.(type) {
	case AgentChanged:
		return in.At
	case AgentRemoved:
		return in.At
	case ChatQueued:
		return in.At
	case ChatAssigned:
		return in.At
	case OfferAccepted:
		return in.At
	case OfferDeclined:
		return in.At
	case Pick:
		return in.At
	case ChatEnded:
		return in.At
	case Tick:
		return in.At
	}
	panic(fmt.Sprintf("no time on %T", in))
}

// placeBurst is a burst that places queued chats into freed slots; it
// returns the chats offered and the inputs it took.
type placeBurst struct {
	name  string
	setup func() *benchDriver
	run   func(d *benchDriver) (offered, inputs int)
}

var placeBursts = []placeBurst{
	{
		// 10,000 slots free one at a time: handled chats end, oldest
		// first, 100 per simulated second with a Tick every 5 s (agents of
		// the groups with a wrap-up come back on a Tick), and each offer is
		// accepted at once, until 10,000 queued chats have been offered.
		// The first ~6,000 ends free the slots of the chats handled at the
		// start, the rest those of chats placed during the burst.
		name:  "ends",
		setup: func() *benchDriver { return newBenchDriver(sizeGoal, benchSeed, 1, 5, false) },
		run: func(d *benchDriver) (int, int) {
			fifo := slices.Clone(d.handled.ids)
			offered, inputs := 0, 0
			handle := func(in Input) {
				inputs++
				for _, dec := range d.e.Handle(in) {
					if o, ok := dec.(Offer); ok {
						offered++
						d.e.Handle(OfferAccepted{ChatID: o.ChatID, AgentID: o.AgentID, At: d.now})
						inputs++
						fifo = append(fifo, o.ChatID)
					}
				}
			}
			for i := 0; offered < 10000 && i < len(fifo); {
				if !d.now.Before(d.nextTick) {
					d.nextTick = d.nextTick.Add(5 * time.Second)
					handle(Tick{At: d.now})
					continue
				}
				d.now = d.now.Add(10 * time.Millisecond)
				handle(ChatEnded{ChatID: fifo[i], At: d.now})
				i++
			}
			return offered, inputs
		},
	},
	{
		// 10,000 slots free at once: 2,000 agents of capacity 5, logged
		// in but not ready over 10,000 queued chats, all become ready
		// (the start of a shift).
		name:  "ready",
		setup: func() *benchDriver { return newBenchDriver(sizeGoal, benchSeed, 5, 5, true) },
		run: func(d *benchDriver) (int, int) {
			offered := 0
			for i := range d.agents {
				a := d.agents[i]
				a.Status = parley.StatusReady
				for _, dec := range d.e.Handle(AgentChanged{Agent: a, At: d.now}) {
					if _, ok := dec.(Offer); ok {
						offered++
					}
				}
			}
			return offered, len(d.agents)
		},
	},
}

// BenchmarkPlace10k is the time to place 10,000 queued chats into 10,000
// freed slots (ns/op is one burst); the state is rebuilt, untimed, before
// each burst.
func BenchmarkPlace10k(b *testing.B) {
	for _, pb := range placeBursts {
		b.Run(pb.name, func(b *testing.B) {
			var offered, inputs int
			for range b.N {
				b.StopTimer()
				d := pb.setup()
				runtime.GC()
				b.StartTimer()
				offered, inputs = pb.run(d)
			}
			b.ReportMetric(float64(offered), "offers/op")
			b.ReportMetric(float64(inputs), "inputs/op")
		})
	}
}

// TestPlace10k times each burst of BenchmarkPlace10k once, logs it and
// asserts the goal (≤ 1 s, every chat offered). PARLEY_BENCH=1 only.
func TestPlace10k(t *testing.T) {
	benchEnabled(t)
	for _, pb := range placeBursts {
		t.Run(pb.name, func(t *testing.T) {
			d := pb.setup()
			queued := d.queued.len()
			runtime.GC()
			start := time.Now()
			offered, inputs := pb.run(d)
			took := time.Since(start)
			t.Logf("queued before %d; offered %d with %d inputs in %v (%v per offer); still queued %d",
				queued, offered, inputs, took, took/time.Duration(max(offered, 1)), sumQueued(d.e))
			if offered < 10000 {
				t.Errorf("offered %d chats, want 10,000", offered)
			}
			if took > time.Second {
				t.Errorf("took %v, goal ≤ 1 s", took)
			}
		})
	}
}

func sumQueued(e *Engine) int {
	n := 0
	for _, l := range e.QueueLengths() {
		n += l
	}
	return n
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// stateMemory builds the state of size sz and returns the heap the engine
// alone keeps: after the groups and agents, and in total. The driver's own
// bookkeeping is dropped before measuring (the chat IDs and group lists
// stay: the engine keeps them).
func stateMemory(sz benchSize) (agentsOnly, total uint64, agents, queued, handled int) {
	base := heapInUse()
	// The same agents as newBenchDriver builds, without chats.
	e := func() *Engine {
		d := newBenchDriver(benchSize{name: sz.name, agents: sz.agents, groups: sz.groups}, benchSeed, 1, 5, false)
		return d.e
	}()
	agentsOnly = heapInUse() - base
	runtime.KeepAlive(e)
	e = nil
	base = heapInUse()
	e = func() *Engine {
		d := newBenchDriver(sz, benchSeed, 1, 5, false)
		handled = d.handled.len()
		return d.e
	}()
	total = heapInUse() - base
	runtime.KeepAlive(e)
	return agentsOnly, total, len(e.agents), sumQueued(e), handled
}

// BenchmarkStateMemory reports the heap the engine keeps for the state:
// MB in total, bytes per agent (agents and groups alone) and bytes per
// chat (the rest over queued plus handled chats). ns/op is the time to
// build the state twice and is not a figure of interest.
func BenchmarkStateMemory(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			var agentsOnly, total uint64
			var agents, queued, handled int
			for range b.N {
				agentsOnly, total, agents, queued, handled = stateMemory(sz)
			}
			b.ReportMetric(float64(total)/1e6, "MB-state")
			b.ReportMetric(float64(agentsOnly)/float64(agents), "B/agent")
			b.ReportMetric(float64(total-agentsOnly)/float64(queued+handled), "B/chat")
		})
	}
}

// TestStateMemory logs the heap the engine keeps for the state.
// PARLEY_BENCH=1 only.
func TestStateMemory(t *testing.T) {
	benchEnabled(t)
	for _, sz := range benchSizes {
		agentsOnly, total, agents, queued, handled := stateMemory(sz)
		t.Logf("%s: %d agents, %d queued + %d handled chats: %.1f MB in total; agents and groups %.1f MB (%.0f B/agent); chats %.0f B/chat",
			sz.name, agents, queued, handled, float64(total)/1e6, float64(agentsOnly)/1e6,
			float64(agentsOnly)/float64(agents), float64(total-agentsOnly)/float64(queued+handled))
	}
}

// TestBenchState checks that the benchmark state is what BENCHMARKS.md
// says: every agent busy, the queued chats waiting in every group, and a
// recording that replays to the same decisions. It runs in every test run
// (about a second) so the benchmarks cannot silently measure something
// else.
func TestBenchState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the full benchmark state")
	}
	d := newBenchDriver(sizeGoal, benchSeed, 1, 5, false)
	if n := sumQueued(d.e); n != sizeGoal.queued {
		t.Errorf("queued %d, want %d", n, sizeGoal.queued)
	}
	if n := len(d.e.QueueLengths()); n != sizeGoal.groups {
		t.Errorf("%d groups have a queue, want %d", n, sizeGoal.groups)
	}
	room, slots := 0, 0
	for _, a := range d.agents {
		slots += a.Capacity
		if d.e.Load(a.ID) < a.Capacity {
			room++
		}
	}
	if room != 0 {
		t.Errorf("%d agents have room", room)
	}
	if d.handled.len() != slots {
		t.Errorf("%d chats handled, want the %d slots", d.handled.len(), slots)
	}
	t.Logf("%d agents, %d slots, %d handled, %d queued", len(d.agents), slots, d.handled.len(), d.queued.len())

	// A short recording replays to the same decisions on a fresh state.
	const n = 2000
	rec := &benchRecording{}
	for range n {
		in, kind := d.next()
		ds := d.e.Handle(in)
		d.apply(ds)
		rec.inputs, rec.kinds = append(rec.inputs, in), append(rec.kinds, kind)
		rec.decisions += len(ds)
	}
	e, got := freshState(sizeGoal), 0
	for _, in := range rec.inputs {
		got += len(e.Handle(in))
	}
	if got != rec.decisions {
		t.Errorf("replay: %d decisions, recording: %d", got, rec.decisions)
	}
	var kinds [numKinds]int
	for _, k := range rec.kinds {
		kinds[k]++
	}
	for k, c := range kinds {
		if c == 0 && k != kindTick {
			t.Errorf("the mix has no %s", kindNames[k])
		}
	}
}
