package routing

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ready(id int64, capacity int, groups ...int64) Agent {
	g := make(map[int64]int, len(groups))
	for _, id := range groups {
		g[id] = 0
	}
	return Agent{ID: id, Presence: parley.PresenceAvailable, Status: parley.StatusReady, Capacity: capacity, Groups: g}
}

func TestEngine(t *testing.T) {
	away := ready(2, 1, 1)
	away.Presence = parley.PresenceAway
	offline := ready(3, 1, 1)
	offline.Presence = parley.PresenceOffline

	tests := []struct {
		name  string
		setup []Input
		in    Input
		want  []Decision
	}{
		{
			name:  "offer to the only ready member",
			setup: []Input{AgentChanged{ready(1, 1, 1), at(0)}},
			in:    ChatQueued{ChatID: "c1", GroupID: 1, At: at(1)},
			want:  []Decision{Offer{"c1", 1}},
		},
		{
			name:  "agents of other groups are not asked",
			setup: []Input{AgentChanged{ready(1, 1, 2), at(0)}},
			in:    ChatQueued{ChatID: "c1", GroupID: 1, At: at(1)},
			want:  []Decision{Queued{"c1", 1, 1, -1}},
		},
		{
			name: "longest idle wins",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(5)},
				AgentChanged{ready(2, 1, 1), at(3)},
				AgentChanged{ready(3, 1, 1), at(4)},
			},
			in:   ChatQueued{ChatID: "c1", GroupID: 1, At: at(10)},
			want: []Decision{Offer{"c1", 2}},
		},
		{
			name: "equal idle time goes to the lower id",
			setup: []Input{
				AgentChanged{ready(7, 1, 1), at(0)},
				AgentChanged{ready(4, 1, 1), at(0)},
			},
			in:   ChatQueued{ChatID: "c1", GroupID: 1, At: at(1)},
			want: []Decision{Offer{"c1", 4}},
		},
		{
			name: "idle counts from the end of the last chat",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 1), at(1)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)}, // to 1
				ChatEnded{ChatID: "a", At: at(3)},              // 1 idle since 3
			},
			in:   ChatQueued{ChatID: "c1", GroupID: 1, At: at(4)},
			want: []Decision{Offer{"c1", 2}},
		},
		{
			name:  "away, offline and not ready agents get nothing",
			setup: []Input{AgentChanged{away, at(0)}, AgentChanged{offline, at(0)}, AgentChanged{func() Agent { a := ready(4, 1, 1); a.Status = parley.StatusNotReady; return a }(), at(0)}},
			in:    ChatQueued{ChatID: "c1", GroupID: 1, At: at(1)},
			want:  []Decision{Queued{"c1", 1, 1, -1}},
		},
		{
			name: "at capacity the chat queues behind the others",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
			},
			in:   ChatQueued{ChatID: "c", GroupID: 1, At: at(3)},
			want: []Decision{Queued{"c", 1, 2, -1}},
		},
		{
			name: "a higher priority chat goes ahead and moves the others back",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
				ChatQueued{ChatID: "c", GroupID: 1, At: at(3)},
			},
			in:   ChatQueued{ChatID: "vip", GroupID: 1, Priority: 5, At: at(4)},
			want: []Decision{Queued{"vip", 1, 1, -1}, Queued{"b", 1, 2, -1}, Queued{"c", 1, 3, -1}},
		},
		{
			name: "a freed slot takes the head of the queue and the rest move up",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				OfferAccepted{"a", 1},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
				ChatQueued{ChatID: "c", GroupID: 1, At: at(3)},
			},
			in:   ChatEnded{ChatID: "a", At: at(4)},
			want: []Decision{Queued{"c", 1, 1, -1}, Offer{"b", 1}},
		},
		{
			name: "leaving the queue moves the others up",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
				ChatQueued{ChatID: "c", GroupID: 1, At: at(3)},
				ChatQueued{ChatID: "d", GroupID: 1, At: at(4)},
			},
			in:   ChatEnded{ChatID: "c", At: at(5)},
			want: []Decision{Queued{"d", 1, 2, -1}},
		},
		{
			name: "a declined offer goes to the next agent, not back",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 1), at(1)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)},
			},
			in:   OfferDeclined{ChatID: "a", AgentID: 1, At: at(3)},
			want: []Decision{Revoke{"a", 1}, Offer{"a", 2}},
		},
		{
			name: "declined by everyone, the chat queues",
			setup: []Input{
				AgentChanged{ready(1, 2, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)},
			},
			in:   OfferDeclined{ChatID: "a", AgentID: 1, At: at(3)},
			want: []Decision{Revoke{"a", 1}, Queued{"a", 1, 1, -1}},
		},
		{
			name: "a stale decline changes nothing",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)},
				OfferAccepted{"a", 1},
			},
			in:   OfferDeclined{ChatID: "a", AgentID: 1, At: at(3)},
			want: nil,
		},
		{
			name: "an agent who becomes ready takes queued chats up to capacity",
			setup: []Input{
				AgentChanged{away, at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
				ChatQueued{ChatID: "c", GroupID: 1, At: at(3)},
			},
			in: AgentChanged{ready(2, 2, 1), at(4)},
			want: []Decision{
				Queued{"b", 1, 1, -1}, Queued{"c", 1, 2, -1}, Offer{"a", 2},
				Queued{"c", 1, 1, -1}, Offer{"b", 2},
			},
		},
		{
			name: "going away revokes pending offers and routes them again",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 1), at(1)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)},
			},
			in:   AgentChanged{func() Agent { a := ready(1, 1, 1); a.Presence = parley.PresenceAway; return a }(), at(3)},
			want: []Decision{Revoke{"a", 1}, Offer{"a", 2}},
		},
		{
			name: "a per-group capacity overrides the agent's",
			setup: []Input{
				AgentChanged{Agent{ID: 1, Presence: parley.PresenceAvailable, Status: parley.StatusReady, Capacity: 1, Groups: map[int64]int{1: 2}}, at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
			},
			in:   ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
			want: []Decision{Offer{"b", 1}},
		},
		{
			name: "a transfer to an agent offers to that agent only",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 2), at(5)},
			},
			in:   ChatQueued{ChatID: "a", GroupID: 1, At: at(6), OnlyAgent: 2},
			want: []Decision{Offer{"a", 2}},
		},
		{
			name: "when the chosen agent declines, the group takes over",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 2), at(5)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(6), OnlyAgent: 2},
			},
			in:   OfferDeclined{ChatID: "a", AgentID: 2, At: at(7)},
			want: []Decision{Revoke{"a", 2}, Offer{"a", 1}},
		},
		{
			name: "accepting a standing offer assigns the chat",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
			},
			in:   OfferAccepted{"a", 1},
			want: []Decision{Assign{"a", 1}},
		},
		{
			name: "accepting a withdrawn offer does nothing",
			setup: []Input{
				AgentChanged{ready(1, 1, 1), at(0)},
				AgentChanged{ready(2, 1, 1), at(1)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(2)},
				OfferDeclined{ChatID: "a", AgentID: 1, At: at(3)},
			},
			in:   OfferAccepted{"a", 1},
			want: nil,
		},
		{
			name: "a transfer keeps the chat away from the agent who sent it",
			setup: []Input{
				AgentChanged{ready(1, 2, 1), at(0)},
				AgentChanged{ready(2, 2, 1), at(5)},
			},
			in:   ChatQueued{ChatID: "a", GroupID: 1, At: at(6), Exclude: 1},
			want: []Decision{Offer{"a", 2}},
		},
		{
			name: "a transfer to a group frees the agent's slot",
			setup: []Input{
				AgentChanged{ready(1, 1, 1, 2), at(0)},
				ChatQueued{ChatID: "a", GroupID: 1, At: at(1)},
				OfferAccepted{"a", 1},
				ChatQueued{ChatID: "b", GroupID: 1, At: at(2)},
			},
			in:   ChatQueued{ChatID: "a", GroupID: 2, At: at(3)},
			want: []Decision{Offer{"b", 1}, Queued{"a", 2, 1, -1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(Options{})
			for _, in := range tt.setup {
				e.Handle(in)
			}
			got := e.Handle(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Handle(%#v)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEngineQueries(t *testing.T) {
	e := NewEngine(Options{})
	if e.GroupOpen(1) {
		t.Error("GroupOpen(1) with no agents = true")
	}
	off := ready(1, 1, 1)
	off.Presence = parley.PresenceOffline
	e.Handle(AgentChanged{off, at(0)})
	if e.GroupOpen(1) {
		t.Error("GroupOpen(1) with only an offline member = true")
	}
	busy := ready(1, 1, 1)
	busy.Presence = parley.PresenceBusy
	e.Handle(AgentChanged{busy, at(0)})
	if !e.GroupOpen(1) {
		t.Error("GroupOpen(1) with a busy member = false; logged-in members keep a group open")
	}
	if e.AgentCanTake(1, 1) {
		t.Error("AgentCanTake for a busy agent = true")
	}
	e.Handle(ChatQueued{ChatID: "a", GroupID: 1, At: at(1)})
	e.Handle(ChatQueued{ChatID: "b", GroupID: 1, At: at(2)})
	if q, ok := e.Position("b"); !ok || q.Position != 2 || q.EstimatedWait != -1 {
		t.Errorf("Position(b) = %+v, %v; want position 2, wait -1", q, ok)
	}
	e.Handle(AgentChanged{ready(1, 1, 1), at(3)})
	if q, _ := e.Position("a"); q.Position != 0 {
		t.Errorf("Position(a) after the offer = %d; want 0", q.Position)
	}
	if got := e.Load(1); got != 1 {
		t.Errorf("Load(1) = %d; want 1", got)
	}
	if _, ok := e.Position("zzz"); ok {
		t.Error("Position of an unknown chat reports ok")
	}
}

// TestEngineRandom drives the engine with random inputs and checks the
// invariants after every step: an agent never holds more chats than its
// capacity, a chat has at most one agent, queues stay in priority-then-
// arrival order, and no chat waits while a ready member of its group has a
// free slot and has not declined it.
func TestEngineRandom(t *testing.T) {
	for seed := range uint64(200) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			e := NewEngine(Options{OfferTimeout: 30 * time.Second, DeclineCooldown: 20 * time.Second})
			live := []string{}
			next := 0
			for step := range 400 {
				now := at(step)
				var in Input
				switch r := rng.IntN(10); {
				case r < 3:
					next++
					id := fmt.Sprintf("c%d", next)
					live = append(live, id)
					in = ChatQueued{ChatID: id, GroupID: int64(1 + rng.IntN(3)), Priority: rng.IntN(2), At: now}
				case r < 5:
					a := ready(int64(1+rng.IntN(6)), 1+rng.IntN(3), randomGroups(rng)...)
					a.Presence = []parley.Presence{parley.PresenceAvailable, parley.PresenceAvailable, parley.PresenceAway, parley.PresenceOffline}[rng.IntN(4)]
					in = AgentChanged{a, now}
				case r < 7 && len(live) > 0:
					i := rng.IntN(len(live))
					in = ChatEnded{ChatID: live[i], At: now}
					live = slices.Delete(live, i, i+1)
				case r < 8 && len(live) > 0:
					c := e.chats[live[rng.IntN(len(live))]]
					if c.offered {
						in = OfferDeclined{ChatID: c.id, AgentID: c.agent, At: now}
					}
				case r < 9 && len(live) > 0 && rng.IntN(2) == 0:
					c := e.chats[live[rng.IntN(len(live))]]
					if c.offered {
						in = OfferAccepted{ChatID: c.id, AgentID: c.agent}
					}
				case r < 9:
					in = Tick{At: now}
				default:
					in = AgentRemoved{AgentID: int64(1 + rng.IntN(6))}
				}
				if in == nil {
					continue
				}
				before := map[int64]int{}
				for id, a := range e.agents {
					before[id] = a.load
				}
				for _, d := range e.Handle(in) {
					if o, ok := d.(Offer); ok && e.chats[o.ChatID].agent != o.AgentID {
						t.Fatalf("step %d: offer %v does not match the engine's state", step, o)
					}
				}
				// A capacity cut may leave an agent above it until chats
				// end, but the engine must never add chats beyond it.
				for id, a := range e.agents {
					if a.load > before[id] && a.load > maxCapacity(a) {
						t.Fatalf("step %d: agent %d given %d chats; capacity %d", step, id, a.load, maxCapacity(a))
					}
				}
				_, tick := in.(Tick)
				checkInvariants(t, e, step, tick)
			}
		})
	}
}

func maxCapacity(a *agentState) int {
	m := a.Capacity
	for g := range a.Groups {
		m = max(m, a.capacityIn(g))
	}
	return m
}

func randomGroups(rng *rand.Rand) []int64 {
	var g []int64
	for id := int64(1); id <= 3; id++ {
		if rng.IntN(2) == 0 {
			g = append(g, id)
		}
	}
	return g
}

// checkInvariants checks the engine's state. After a Tick no chat may wait
// for an agent who could take it; after other inputs an expired decline
// may still keep it waiting until the next Tick.
func checkInvariants(t *testing.T, e *Engine, step int, afterTick bool) {
	t.Helper()
	owner := map[string]int64{}
	for _, a := range e.agents {
		if a.load != len(a.chats) {
			t.Fatalf("step %d: agent %d load %d but %d chats", step, a.ID, a.load, len(a.chats))
		}
		for id := range a.chats {
			c := e.chats[id]
			if c == nil || c.agent != a.ID || c.queued {
				t.Fatalf("step %d: agent %d holds chat %s in state %+v", step, a.ID, id, c)
			}
			if prev, dup := owner[id]; dup {
				t.Fatalf("step %d: chat %s held by agents %d and %d", step, id, prev, a.ID)
			}
			owner[id] = a.ID
		}
	}
	for g, q := range e.queues {
		for i, c := range q {
			if !c.queued || c.group != g || c.agent != 0 {
				t.Fatalf("step %d: queued chat %s in bad state %+v", step, c.id, c)
			}
			if i > 0 && byQueueOrder(q[i-1], c) >= 0 {
				t.Fatalf("step %d: queue %d out of order at %d", step, g, i)
			}
		}
		if len(q) == 0 {
			continue
		}
		for _, a := range e.agents {
			if _, member := a.Groups[g]; !member || !a.ready() || a.load >= a.capacityIn(g) {
				continue
			}
			for _, c := range q {
				_, declined := c.declined[a.ID]
				if afterTick && !e.excluded(c, a.ID) || !afterTick && !declined {
					t.Fatalf("step %d: chat %s waits in group %d while agent %d has %d/%d", step, c.id, g, a.ID, a.load, a.capacityIn(g))
				}
			}
		}
	}
	for id, c := range e.chats {
		if !c.queued && c.agent != 0 {
			if _, ok := e.agents[c.agent]; ok && owner[id] != c.agent {
				t.Fatalf("step %d: chat %s claims agent %d who does not hold it", step, id, c.agent)
			}
		}
	}
}

func TestEngineNeverOverCapacity(t *testing.T) {
	e := NewEngine(Options{})
	e.Handle(AgentChanged{ready(1, 2, 1, 2), at(0)})
	for i := range 10 {
		for _, d := range e.Handle(ChatQueued{ChatID: fmt.Sprint(i), GroupID: int64(1 + i%2), At: at(i)}) {
			_ = d
		}
		if e.Load(1) > 2 {
			t.Fatalf("after %d chats load = %d; capacity is 2", i+1, e.Load(1))
		}
	}
	if e.Load(1) != 2 {
		t.Fatalf("load = %d; want 2", e.Load(1))
	}
}

func TestEngineTime(t *testing.T) {
	opt := Options{OfferTimeout: 30 * time.Second, DeclineCooldown: 60 * time.Second}
	t.Run("an unanswered offer goes to the next agent", func(t *testing.T) {
		e := NewEngine(opt)
		e.Handle(AgentChanged{ready(1, 1, 1), at(0)})
		e.Handle(AgentChanged{ready(2, 1, 1), at(1)})
		e.Handle(ChatQueued{ChatID: "a", GroupID: 1, At: at(10)}) // to 1
		if got := e.Handle(Tick{At: at(39)}); got != nil {
			t.Fatalf("tick before the timeout = %v", got)
		}
		got := e.Handle(Tick{At: at(40)})
		want := []Decision{Revoke{"a", 1}, Offer{"a", 2}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tick at the timeout = %#v; want %#v", got, want)
		}
	})
	t.Run("a decline is forgotten after the cool-down", func(t *testing.T) {
		e := NewEngine(opt)
		e.Handle(AgentChanged{ready(1, 1, 1), at(0)})
		e.Handle(ChatQueued{ChatID: "a", GroupID: 1, At: at(1)})
		e.Handle(OfferDeclined{ChatID: "a", AgentID: 1, At: at(2)})
		if got := e.Handle(Tick{At: at(61)}); got != nil {
			t.Fatalf("tick within the cool-down = %v", got)
		}
		got := e.Handle(Tick{At: at(62)})
		if want := []Decision{Offer{"a", 1}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("tick after the cool-down = %#v; want %#v", got, want)
		}
	})
	t.Run("without options offers wait and declines last", func(t *testing.T) {
		e := NewEngine(Options{})
		e.Handle(AgentChanged{ready(1, 1, 1), at(0)})
		e.Handle(ChatQueued{ChatID: "a", GroupID: 1, At: at(1)})
		if got := e.Handle(Tick{At: at(100000)}); got != nil {
			t.Fatalf("tick = %v", got)
		}
	})
}
