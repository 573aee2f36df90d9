package conversation

import (
	"context"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// queuePusher tells waiting visitors their position and estimated wait
// when they change. Routing only marks groups whose queue changed; the
// pusher compares each waiting chat with what it last told it, at most
// every Config.QueuePush, so a burst of changes to a long queue costs one
// pass rather than one message per chat per change.
type queuePusher struct {
	mu    sync.Mutex
	dirty map[int64]bool
	told  map[string]told // chat → what its visitor was last told
}

type told struct {
	group int64
	info  parley.QueueInfo
}

func newQueuePusher() *queuePusher {
	return &queuePusher{dirty: map[int64]bool{}, told: map[string]told{}}
}

func (q *queuePusher) markDirty(g int64) {
	q.mu.Lock()
	q.dirty[g] = true
	q.mu.Unlock()
}

// record notes what a chat's visitor was just told (when it entered a
// queue or was offered); forget drops a chat that left the queues.
func (q *queuePusher) record(chatID string, group int64, info parley.QueueInfo) {
	q.mu.Lock()
	q.told[chatID] = told{group, info}
	q.mu.Unlock()
}

func (q *queuePusher) forget(chatID string) {
	q.mu.Lock()
	delete(q.told, chatID)
	q.mu.Unlock()
}

func (q *queuePusher) takeDirty() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]int64, 0, len(q.dirty))
	for g := range q.dirty {
		out = append(out, g)
	}
	clear(q.dirty)
	return out
}

// pushQueue publishes a queue event to every waiting chat of group g whose
// position or estimate changed.
func (s *Service) pushQueue(ctx context.Context, g int64) {
	var snapshot []routing.Queued
	s.router.Query(func(e routing.View) { snapshot = e.Queue(g) })
	now := s.now().UTC()
	var changed []parley.Event
	q := s.queues
	q.mu.Lock()
	waiting := make(map[string]bool, len(snapshot))
	for _, w := range snapshot {
		waiting[w.ChatID] = true
		info := parley.QueueInfo{Position: w.Position, EstimatedWait: w.EstimatedWait}
		if prev, ok := q.told[w.ChatID]; ok && prev.group == g && prev.info == info {
			continue
		}
		q.told[w.ChatID] = told{g, info}
		changed = append(changed, parley.Event{ChatID: w.ChatID, Type: parley.EventQueue, At: now, From: system, Queue: &info})
	}
	for id, t := range q.told {
		if t.group == g && !waiting[id] {
			delete(q.told, id) // offered, picked or ended
		}
	}
	q.mu.Unlock()
	s.publish(ctx, changed...)
}

// groupChanged tells routing about a group's settings.
func (s *Service) groupChanged(ctx context.Context, g *parley.Group) error {
	sched, err := routing.NewSchedule(g.Routing)
	if err != nil {
		return internal("group schedule", err)
	}
	s.router.Do(ctx, routing.GroupChanged{Group: routing.Group{
		ID:           g.ID,
		Strategy:     g.Routing.Strategy,
		WrapUp:       time.Duration(g.Routing.WrapUpSeconds) * time.Second,
		OfferTimeout: time.Duration(g.Routing.OfferTimeoutSeconds) * time.Second,
		AutoAccept:   g.Routing.AutoAccept,
		Schedule:     sched,
	}})
	return nil
}
