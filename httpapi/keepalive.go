package httpapi

import (
	"sync"
	"sync/atomic"
	"time"
)

// wheelSlots is how many slots the keep-alive wheel has: each tick checks
// one slot, so the pings of a full wheel spread over the interval.
const wheelSlots = 16

// keepAlive is one timer wheel for the keep-alive of every WebSocket of a
// server: one goroutine ticks through the slots, and pings only the
// connections of the slot that have been silent for half an interval.
// A peer that has not answered by its next check is dead.
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

// tick checks the next slot at time now: a peer that has not answered
// its ping within pongWait is dropped; a peer silent for half an
// interval is pinged. Writes are queued, so a tick never blocks.
func (k *keepAlive) tick(now time.Time) {
	k.mu.Lock()
	slot := k.slots[k.next]
	k.next = (k.next + 1) % wheelSlots
	var ping, dead []*wsConn
	quiet := now.Add(-k.interval / 2).UnixNano()
	late := now.Add(-k.pongWait).UnixNano()
	for c := range slot {
		heard, sent := c.heard.Load(), c.pingSent.Load()
		switch {
		case sent != 0 && heard < sent:
			if sent <= late {
				dead = append(dead, c)
			}
		case heard <= quiet:
			c.pingSent.Store(now.UnixNano())
			ping = append(ping, c)
		}
	}
	k.mu.Unlock()
	for _, c := range ping {
		c.pings.Add(1)
		if err := c.conn.ping(); err != nil {
			c.conn.abort()
		}
	}
	for _, c := range dead {
		k.log("websocket peer did not answer a ping")
		c.conn.abort()
	}
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
	slot     int          // its wheel slot; guarded by keepAlive.mu
	heard    atomic.Int64 // when the peer last sent a frame or pong (UnixNano)
	pingSent atomic.Int64 // when the last ping went out (UnixNano), 0: never
	pings    atomic.Int64 // pings sent, for tests and metrics
}

func (p *peerState) hear(now time.Time) { p.heard.Store(now.UnixNano()) }
