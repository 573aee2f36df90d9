package routing

import (
	"math"
	"slices"
	"time"
)

// queue holds a group's waiting chats by priority, then arrival. Finding a
// chat is a binary search; inserting and removing move the slice, which
// for ten thousand chats is a copy of 80 KB at most.
type queue struct{ items []*chatState }

func (q *queue) len() int { return len(q.items) }

// insert adds c and returns its position (1 is next).
func (q *queue) insert(c *chatState) int {
	i, _ := slices.BinarySearchFunc(q.items, c, byQueueOrder)
	q.items = slices.Insert(q.items, i, c)
	return i + 1
}

// remove takes c out and reports whether it was there.
func (q *queue) remove(c *chatState) bool {
	i, found := slices.BinarySearchFunc(q.items, c, byQueueOrder)
	if !found || q.items[i] != c {
		return false
	}
	q.items = slices.Delete(q.items, i, i+1)
	return true
}

// position returns c's position (1 is next), 0 when it is not queued here.
func (q *queue) position(c *chatState) int {
	i, found := slices.BinarySearchFunc(q.items, c, byQueueOrder)
	if !found || q.items[i] != c {
		return 0
	}
	return i + 1
}

// sampleHandleTime adds one handled chat's duration to the group's moving
// average, in O(1).
func (e *Engine) sampleHandleTime(g *groupState, d time.Duration) {
	s := d.Seconds()
	if s < 0 {
		return
	}
	if g.ahtN == 0 {
		g.aht = s
	} else {
		g.aht += e.alpha * (s - g.aht)
	}
	g.ahtN++
	e.markEstimates(g.ID)
}

// estimate returns the estimated wait in seconds of the chat at position
// pos of group g, or -1 without a basis. The chat is served when pos slots
// have freed up; with the group's slots all busy, one frees on average
// every handle time / slots. Slots are counted in chats: an agent with
// capacity 3 in two groups adds 1.5 to each.
func (e *Engine) estimate(g *groupState, pos int) int {
	if pos <= 0 {
		return -1
	}
	aht := g.aht
	if g.ahtN == 0 {
		aht = e.opt.DefaultHandleTime.Seconds()
	}
	if aht <= 0 || g.slots <= 0 {
		return -1
	}
	// The epsilon keeps an exact 60.000000001 from rounding up to 61.
	return int(math.Ceil(float64(pos)*aht*slotUnit/float64(g.slots) - 1e-6))
}
