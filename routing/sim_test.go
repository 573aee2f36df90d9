package routing

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// The EWT simulation: a discrete-event simulation that drives a real Engine
// and compares the estimated wait it reports when a chat enters the queue
// (Queued.EstimatedWait) with the wait the chat then really has (from its
// ChatQueued to its Offer). See BENCHMARKS.md, "EWT accuracy".

// ewtScenario is the simulated contact center.
type ewtScenario struct {
	agents     int           // all in one group, available and ready
	capacity   int           // concurrent chats per agent
	meanHandle time.Duration // mean of the exponential handle time
	// phases of the arrival process: Poisson at load × service capacity
	// (agents × capacity / meanHandle) for the phase's duration; arrivals
	// stop after the last phase and the simulation runs until every chat
	// has ended.
	phases []ewtPhase
	// warmup is how many chats must have ended before a queued chat is
	// counted (the moving average of handle time needs a history).
	warmup int
	tick   time.Duration // a Tick input this often
}

type ewtPhase struct {
	load float64 // arrival rate over service capacity
	dur  time.Duration
}

// ewtAcceptance is the scenario of the acceptance criterion: 10 agents of
// capacity 3 (30 slots), exponential handle time of mean 300 s, so the
// service capacity is 0.1 chat/s (360/h). One hour at 0.8× (warm-up, short
// queues now and then), a two-hour rush at 1.3× (the queue grows to about
// 200), three hours at 0.8× (it drains), then arrivals stop.
var ewtAcceptance = ewtScenario{
	agents:     10,
	capacity:   3,
	meanHandle: 300 * time.Second,
	phases: []ewtPhase{
		{load: 0.8, dur: time.Hour},
		{load: 1.3, dur: 2 * time.Hour},
		{load: 0.8, dur: 3 * time.Hour},
	},
	warmup: 50,
	tick:   5 * time.Second,
}

// ewtSeeds are the seeds TestEWTAccuracy runs; BENCHMARKS.md reports each.
var ewtSeeds = []uint64{1, 2, 3, 4, 5}

// ewtSample is one counted chat: it waited, it entered the queue after the
// warm-up, and it was offered.
type ewtSample struct {
	position int
	ewt      float64 // seconds, as the engine reported it at enqueue
	realized float64 // seconds from ChatQueued to Offer
}

// ewtResult is one simulation run.
type ewtResult struct {
	chats    int // arrived
	waited   int // entered the queue (any time)
	direct   int // offered at once
	maxQueue int
	samples  []ewtSample
}

// simChat is the simulation's record of one chat.
type simChat struct {
	id        string
	arrived   float64
	queued    bool
	position  int
	ewt       int
	counted   bool // queued after the warm-up
	offeredAt float64
	offered   bool
	handle    float64
}

// simEvent is a chat ending at a time.
type simEvent struct {
	at   float64
	chat *simChat
}

type simEvents []simEvent

func (h simEvents) Len() int           { return len(h) }
func (h simEvents) Less(i, j int) bool { return h[i].at < h[j].at }
func (h simEvents) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *simEvents) Push(x any)        { *h = append(*h, x.(simEvent)) }
func (h *simEvents) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// runEWTSim runs the scenario with one seed. Time is kept in float seconds
// since t0 and handed to the engine as the At of every input.
func runEWTSim(t testing.TB, sc ewtScenario, seed uint64) ewtResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(math.Round(s * 1e9))) }

	e := NewEngine(Options{}) // DefaultHandleTime 0: no estimate before the first chat ended
	const group = 1
	e.Handle(GroupChanged{Group: Group{ID: group, Strategy: parley.StrategyLongestIdle}})
	for i := 1; i <= sc.agents; i++ {
		e.Handle(AgentChanged{At: t0, Agent: Agent{
			ID: int64(i), Presence: parley.PresenceAvailable, Status: parley.StatusReady,
			Capacity: sc.capacity, Groups: map[int64]int{group: 0},
		}})
	}

	var (
		res       ewtResult
		now       float64
		completed int
		queueLen  int
		ends      simEvents
		chats     = make(map[string]*simChat)
		mean      = sc.meanHandle.Seconds()
		service   = float64(sc.agents*sc.capacity) / mean // chats per second
	)
	// feed hands one input to the engine and carries out its decisions the
	// way a simulated agent would: every offer is accepted at once, every
	// accepted chat ends after its handle time.
	feed := func(in Input) {
		pending := []Input{in}
		for len(pending) > 0 {
			in := pending[0]
			pending = pending[1:]
			for _, d := range e.Handle(in) {
				switch d := d.(type) {
				case Offer:
					c := chats[d.ChatID]
					if c.offered {
						t.Fatalf("seed %d: chat %s offered twice", seed, c.id)
					}
					c.offered, c.offeredAt = true, now
					if c.queued {
						queueLen--
					}
					pending = append(pending, OfferAccepted{ChatID: d.ChatID, AgentID: d.AgentID, At: at(now)})
				case Assign:
					c := chats[d.ChatID]
					c.handle = rng.ExpFloat64() * mean
					heap.Push(&ends, simEvent{at: now + c.handle, chat: c})
				case Queued:
					c := chats[d.ChatID]
					if c.queued {
						t.Fatalf("seed %d: chat %s queued twice", seed, c.id)
					}
					c.queued, c.position, c.ewt = true, d.Position, d.EstimatedWait
					c.counted = completed >= sc.warmup
					queueLen++
					res.maxQueue = max(res.maxQueue, queueLen)
				case QueueChanged:
				default:
					t.Fatalf("seed %d: unexpected decision %#v", seed, d)
				}
			}
		}
	}

	// Arrivals: a Poisson process whose rate is constant within a phase;
	// an inter-arrival that crosses a phase boundary restarts at the
	// boundary with the new rate (exact, the process being memoryless).
	phase, phaseEnd := 0, sc.phases[0].dur.Seconds()
	nextArrival := func(from float64) float64 {
		for phase < len(sc.phases) {
			a := from + rng.ExpFloat64()/(sc.phases[phase].load*service)
			if a < phaseEnd {
				return a
			}
			from = phaseEnd
			phase++
			if phase < len(sc.phases) {
				phaseEnd += sc.phases[phase].dur.Seconds()
			}
		}
		return math.Inf(1)
	}
	arrival := nextArrival(0)
	tick := sc.tick.Seconds()
	for !math.IsInf(arrival, 1) || len(ends) > 0 {
		next := arrival
		if len(ends) > 0 && ends[0].at < next {
			next = ends[0].at
		}
		if tick < next {
			now = tick
			feed(Tick{At: at(now)})
			tick += sc.tick.Seconds()
			continue
		}
		now = next
		if len(ends) > 0 && ends[0].at == next {
			ev := heap.Pop(&ends).(simEvent)
			feed(ChatEnded{ChatID: ev.chat.id, At: at(now)})
			completed++
			continue
		}
		res.chats++
		c := &simChat{id: fmt.Sprintf("chat-%06d", res.chats), arrived: now}
		chats[c.id] = c
		feed(ChatQueued{ChatID: c.id, Groups: []int64{group}, At: at(now)})
		arrival = nextArrival(now)
	}

	for _, c := range chats {
		if !c.offered {
			t.Fatalf("seed %d: chat %s never offered", seed, c.id)
		}
		if !c.queued {
			res.direct++
			continue
		}
		res.waited++
		wait := c.offeredAt - c.arrived
		if !c.counted || wait <= 0 {
			continue
		}
		if c.ewt < 0 {
			t.Fatalf("seed %d: chat %s queued after the warm-up without an estimate", seed, c.id)
		}
		res.samples = append(res.samples, ewtSample{position: c.position, ewt: float64(c.ewt), realized: wait})
	}
	// Map order must not leak into the figures.
	slices.SortFunc(res.samples, func(a, b ewtSample) int {
		if a.realized != b.realized {
			return cmpFloat(a.realized, b.realized)
		}
		return cmpFloat(a.ewt, b.ewt)
	})
	return res
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ewtStats summarizes samples.
type ewtStats struct {
	n int
	// medRel is the median of |EWT − realized| / realized over the chats:
	// the acceptance figure.
	medRel float64
	// medAbs is the median of |EWT − realized| in seconds and medWait the
	// median realized wait; medAbs/medWait is the error scaled by the
	// typical wait instead of each chat's own.
	medAbs, medWait float64
	// bias is the median of (EWT − realized) / realized: negative when the
	// estimate is too short.
	bias float64
	// within20 is the share of chats whose estimate is within 20 % of
	// their own realized wait.
	within20 float64
}

func summarize(ss []ewtSample) ewtStats {
	if len(ss) == 0 {
		return ewtStats{}
	}
	rel := make([]float64, len(ss))
	signed := make([]float64, len(ss))
	abs := make([]float64, len(ss))
	wait := make([]float64, len(ss))
	in := 0
	for i, s := range ss {
		signed[i] = (s.ewt - s.realized) / s.realized
		rel[i] = math.Abs(signed[i])
		abs[i] = math.Abs(s.ewt - s.realized)
		wait[i] = s.realized
		if rel[i] <= 0.2 {
			in++
		}
	}
	return ewtStats{
		n: len(ss), medRel: median(rel), medAbs: median(abs), medWait: median(wait),
		bias: median(signed), within20: float64(in) / float64(len(ss)),
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// positionBuckets split the samples by the position the chat entered the
// queue at: the wait of the p-th in line is Erlang(p) with a coefficient of
// variation of 1/√p, so short positions are inherently noisy.
var positionBuckets = []struct {
	name     string
	min, max int
}{
	{"1-5", 1, 5},
	{"6-20", 6, 20},
	{"21-100", 21, 100},
	{">100", 101, math.MaxInt},
}

// TestEWTAccuracy checks the estimated wait against the realized wait in a
// seeded simulation (acceptance: the median absolute error is at most 20 %
// of the realized wait once at least 50 chats have ended). The figure
// asserted is, per seed, the median over the waiting chats of
// |EWT − realized| / realized. Run with -v for the tables in BENCHMARKS.md.
func TestEWTAccuracy(t *testing.T) {
	const bound = 0.20
	var all []ewtSample
	var b strings.Builder
	fmt.Fprintf(&b, "\n| seed | chats | waited | counted | max queue | median |err|/realized | median |err| / median realized | median signed err | within 20 %% |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|\n")
	for _, seed := range ewtSeeds {
		res := runEWTSim(t, ewtAcceptance, seed)
		st := summarize(res.samples)
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %.1f %% | %.1f s / %.1f s = %.1f %% | %+.1f %% | %.0f %% |\n",
			seed, res.chats, res.waited, st.n, res.maxQueue, 100*st.medRel,
			st.medAbs, st.medWait, 100*st.medAbs/st.medWait, 100*st.bias, 100*st.within20)
		if st.n < 500 {
			t.Errorf("seed %d: only %d chats counted; the scenario does not form queues", seed, st.n)
		}
		if st.medRel > bound {
			t.Errorf("seed %d: median |EWT − realized| / realized = %.1f %%, want ≤ %.0f %%", seed, 100*st.medRel, 100*bound)
		}
		all = append(all, res.samples...)
	}
	fmt.Fprintf(&b, "\n| position at enqueue | chats (5 seeds) | median realized | median |err| | median |err|/realized | median signed err | within 20 %% |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|\n")
	for _, bk := range append(positionBuckets, struct {
		name     string
		min, max int
	}{"all", 1, math.MaxInt}) {
		var in []ewtSample
		for _, s := range all {
			if s.position >= bk.min && s.position <= bk.max {
				in = append(in, s)
			}
		}
		st := summarize(in)
		fmt.Fprintf(&b, "| %s | %d | %.1f s | %.1f s | %.1f %% | %+.1f %% | %.0f %% |\n",
			bk.name, st.n, st.medWait, st.medAbs, 100*st.medRel, 100*st.bias, 100*st.within20)
	}
	t.Log(b.String())
}

// TestEWTAccuracyNoRush logs, without asserting, the same figures for
// steady loads without a rush: there most waiting chats are near the head
// of the queue, where the realized wait is dominated by chance (see
// BENCHMARKS.md). Run with -v.
func TestEWTAccuracyNoRush(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| load | seeds | chats | waited | counted | median |err|/realized | median |err| / median realized | 1-5 | 6-20 | 21-100 | >100 |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, load := range []float64{0.9, 1.0} {
		sc := ewtAcceptance
		sc.phases = []ewtPhase{{load: load, dur: 6 * time.Hour}}
		var all []ewtSample
		chats, waited := 0, 0
		for _, seed := range ewtSeeds {
			res := runEWTSim(t, sc, seed)
			all = append(all, res.samples...)
			chats += res.chats
			waited += res.waited
		}
		st := summarize(all)
		fmt.Fprintf(&b, "| %.1f× | %d | %d | %d | %d | %.1f %% | %.1f s / %.1f s = %.1f %% |",
			load, len(ewtSeeds), chats, waited, st.n, 100*st.medRel, st.medAbs, st.medWait, 100*st.medAbs/st.medWait)
		for _, bk := range positionBuckets {
			var in []ewtSample
			for _, s := range all {
				if s.position >= bk.min && s.position <= bk.max {
					in = append(in, s)
				}
			}
			if st := summarize(in); st.n > 0 {
				fmt.Fprintf(&b, " %.1f %% (n=%d) |", 100*st.medRel, st.n)
			} else {
				fmt.Fprintf(&b, " – (n=0) |")
			}
		}
		fmt.Fprintln(&b)
	}
	t.Log(b.String())
}

// TestEWTSimDeterministic guards the figures in BENCHMARKS.md: the same
// seed gives the same samples.
func TestEWTSimDeterministic(t *testing.T) {
	sc := ewtAcceptance
	sc.phases = []ewtPhase{{load: 0.8, dur: 20 * time.Minute}, {load: 1.3, dur: 20 * time.Minute}}
	a, b := runEWTSim(t, sc, 7), runEWTSim(t, sc, 7)
	if !slices.Equal(a.samples, b.samples) || a.chats != b.chats || a.waited != b.waited {
		t.Fatalf("two runs of seed 7 differ: %d/%d chats, %d/%d samples", a.chats, b.chats, len(a.samples), len(b.samples))
	}
	if len(a.samples) == 0 {
		t.Fatal("no samples")
	}
}
