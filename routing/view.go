package routing

import (
	"slices"
	"time"
)

// View is what callers may ask of the routing state: queues, positions,
// loads, open groups. The engine answers it on the node that decides; a
// Snapshot answers it on the others.
type View interface {
	GroupOpen(groupID int64, now time.Time) bool
	FirstOpen(groups []int64, now time.Time) (int64, bool)
	AgentCanTake(agentID, g int64) bool
	Position(chatID string) (q Queued, ok bool)
	Queue(groupID int64) []Queued
	EstimatedWait(groupID int64) int
	QueueLengths() map[int64]int
	Load(agentID int64) int
}

var (
	_ View = (*Engine)(nil)
	_ View = (*Snapshot)(nil)
)

// Snapshot is a copy of the engine's answers at one instant, for nodes of
// a cluster that do not run the engine. It encodes as JSON. Unknown is set
// when no engine answered (no leader during a take-over): groups then
// count as open, so that chats are requested and wait for the next
// leader, and nothing is known to wait.
type Snapshot struct {
	At      time.Time          `json:"at"`
	Unknown bool               `json:"unknown,omitempty"`
	Open    map[int64]bool     `json:"open,omitempty"`
	Waits   map[int64]int      `json:"waits,omitempty"`
	Queues  map[int64][]Queued `json:"queues,omitempty"`
	Loads   map[int64]int      `json:"loads,omitempty"`
	// CanTake lists, per ready agent, the groups it has a free slot in.
	CanTake map[int64][]int64 `json:"can_take,omitempty"`
	// Placed lists the chats offered or handled (position 0).
	Placed map[string]int64 `json:"placed,omitempty"`
}

// Snapshot copies the engine's answers at now.
func (e *Engine) Snapshot(now time.Time) *Snapshot {
	s := &Snapshot{At: now, Open: map[int64]bool{}, Waits: map[int64]int{}, Queues: map[int64][]Queued{},
		Loads: map[int64]int{}, CanTake: map[int64][]int64{}, Placed: map[string]int64{}}
	for id := range e.groups {
		s.Open[id] = e.GroupOpen(id, now)
		s.Waits[id] = e.EstimatedWait(id)
		if q := e.Queue(id); len(q) > 0 {
			s.Queues[id] = q
		}
	}
	for id, a := range e.agents {
		if a.load > 0 {
			s.Loads[id] = a.load
		}
		for g := range e.groups {
			if e.AgentCanTake(id, g) {
				s.CanTake[id] = append(s.CanTake[id], g)
			}
		}
	}
	for id, c := range e.chats {
		if !c.queued {
			s.Placed[id] = c.group
		}
	}
	return s
}

// GroupOpen reports whether the group was open when the snapshot was taken.
func (s *Snapshot) GroupOpen(groupID int64, _ time.Time) bool {
	return s.Unknown || s.Open[groupID]
}

// FirstOpen returns the first of the groups that was open.
func (s *Snapshot) FirstOpen(groups []int64, now time.Time) (int64, bool) {
	for _, id := range groups {
		if s.GroupOpen(id, now) {
			return id, true
		}
	}
	return 0, false
}

// AgentCanTake reports whether the agent had a free slot in group g.
func (s *Snapshot) AgentCanTake(agentID, g int64) bool {
	return slices.Contains(s.CanTake[agentID], g)
}

// Position returns a chat's place as the snapshot saw it.
func (s *Snapshot) Position(chatID string) (Queued, bool) {
	if g, ok := s.Placed[chatID]; ok {
		return Queued{ChatID: chatID, GroupID: g, EstimatedWait: -1}, true
	}
	for _, q := range s.Queues {
		for _, w := range q {
			if w.ChatID == chatID {
				return w, true
			}
		}
	}
	return Queued{}, false
}

// Queue returns the group's waiting chats in order.
func (s *Snapshot) Queue(groupID int64) []Queued { return slices.Clone(s.Queues[groupID]) }

// EstimatedWait returns the group's estimate for a new chat, -1 without
// one.
func (s *Snapshot) EstimatedWait(groupID int64) int {
	if w, ok := s.Waits[groupID]; ok {
		return w
	}
	return -1
}

// QueueLengths returns the number of waiting chats per group.
func (s *Snapshot) QueueLengths() map[int64]int {
	out := make(map[int64]int, len(s.Queues))
	for g, q := range s.Queues {
		out[g] = len(q)
	}
	return out
}

// Load returns the chats offered to or handled by the agent.
func (s *Snapshot) Load(agentID int64) int { return s.Loads[agentID] }
