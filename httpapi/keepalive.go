package httpapi

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// wheelSlots is how many slots the keep-alive wheel has: each tick checks
// one slot, so the pings of a full wheel spread over the interval.
const wheelSlots = 16

// keepAlive is one timer wheel for the keep-alive of every WebSocket of a
// server: a goroutine ticks through the slots, and pings only the
// connections of the slot that have been silent for half an interval. A
// ping's goroutine lives only until the pong (or until pongWait, when the
// peer is dead and its session ends).
type keepAlive struct {
	interval time.Duration
	now      func() time.Time
	log      func(msg string, args ...any)

	mu       sync.Mutex
	pongWait time.Duration // how long a ping waits for its pong
	slots    [wheelSlots]map[*wsConn]struct{}
	next     int // the slot the next tick checks
	closed   bool
	stop     chan struct{}
	done     chan struct{}
}

func newKeepAlive(interval time.Duration, now func() time.Time, log func(string, ...any)) *keepAlive {
	k := &keepAlive{interval: interval, now: now, pongWait: interval, log: log}
	for i := range k.slots {
		k.slots[i] = map[*wsConn]struct{}{}
	}
	return k
}

// add puts a connection on the wheel, in the slot checked last, so its
// first check comes about an interval after it opened.
func (k *keepAlive) add(c *wsConn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c.slot = (k.next + wheelSlots - 1) % wheelSlots
	k.slots[c.slot][c] = struct{}{}
	if k.stop == nil && !k.closed {
		k.stop, k.done = make(chan struct{}), make(chan struct{})
		go k.run(time.NewTicker(k.interval/wheelSlots), k.stop, k.done)
	}
}

func (k *keepAlive) remove(c *wsConn) {
	k.mu.Lock()
	delete(k.slots[c.slot], c)
	k.mu.Unlock()
}

func (k *keepAlive) run(t *time.Ticker, stop, done chan struct{}) {
	defer close(done)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			k.tick(k.now())
		}
	}
}

// tick checks the next slot at time now.
func (k *keepAlive) tick(now time.Time) {
	k.mu.Lock()
	slot := k.slots[k.next]
	k.next = (k.next + 1) % wheelSlots
	var silent []*wsConn
	quiet := now.Add(-k.interval / 2).UnixNano()
	for c := range slot {
		if c.heard.Load() <= quiet && c.pinging.CompareAndSwap(false, true) {
			silent = append(silent, c)
		}
	}
	wait := k.pongWait
	k.mu.Unlock()
	for _, c := range silent {
		c.pings.Add(1)
		go k.ping(c, wait)
	}
}

// ping pings a silent peer; one that does not answer within pongWait is
// dead and its session ends.
func (k *keepAlive) ping(c *wsConn, wait time.Duration) {
	ctx, cancel := context.WithTimeout(c.ctx, wait)
	err := c.conn.Ping(ctx)
	cancel()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			k.log("websocket peer did not answer a ping", "err", err)
		}
		c.cancel()
		return
	}
	c.hear(k.now())
	c.pinging.Store(false)
}

// close stops the wheel's goroutine; no wheel starts after it.
func (k *keepAlive) close() {
	k.mu.Lock()
	stop, done, closed := k.stop, k.done, k.closed
	k.closed = true
	k.mu.Unlock()
	if stop != nil && !closed {
		close(stop)
		<-done
	}
}

// peerState is the keep-alive state of one connection.
type peerState struct {
	slot    int          // its wheel slot; guarded by keepAlive.mu
	heard   atomic.Int64 // when the peer last sent a frame or pong (UnixNano)
	pinging atomic.Bool  // a ping is waiting for its pong
	pings   atomic.Int64 // pings sent, for tests and metrics
}

func (p *peerState) hear(now time.Time) { p.heard.Store(now.UnixNano()) }
