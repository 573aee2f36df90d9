package wsnb

import (
	"sync"
	"sync/atomic"
	"time"
)

// WheelSlots is how many slots a keep-alive wheel has: each tick checks
// one slot, so the pings of a full wheel spread over the interval.
const WheelSlots = 16

// Peer is a connection a KeepAlive watches.
type Peer interface {
	// Keep returns the peer's keep-alive state.
	Keep() *PeerState
	// Ping queues a ping (a WebSocket ping, or a protocol's own).
	Ping() error
	// Abort drops the connection at once.
	Abort()
}

// KeepAlive is one timer wheel for the keep-alive of many connections:
// one goroutine ticks through the slots, and pings only the connections
// of the slot that have been silent for half an interval. A peer that has
// not answered by its next check is dead.
type KeepAlive struct {
	interval time.Duration
	now      func() time.Time
	log      func(msg string, args ...any)

	mu       sync.Mutex
	pongWait time.Duration // how long a ping waits for its pong
	slots    [WheelSlots]map[Peer]struct{}
	next     int // the slot the next tick checks
	closed   bool
	stop     chan struct{}
	done     chan struct{}
}

// NewKeepAlive returns a wheel that pings peers silent for interval/2
// and drops those that did not answer within interval. log receives a
// line for each dropped peer.
func NewKeepAlive(interval time.Duration, now func() time.Time, log func(string, ...any)) *KeepAlive {
	k := &KeepAlive{interval: interval, now: now, pongWait: interval, log: log}
	for i := range k.slots {
		k.slots[i] = map[Peer]struct{}{}
	}
	return k
}

// SetPongWait sets how long a ping waits for its answer (tests).
func (k *KeepAlive) SetPongWait(d time.Duration) {
	k.mu.Lock()
	k.pongWait = d
	k.mu.Unlock()
}

// Add puts a peer on the wheel, in the slot checked last, so its first
// check comes about an interval after it was added. The wheel's goroutine
// starts with the first peer.
func (k *KeepAlive) Add(p Peer) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := p.Keep()
	st.slot = (k.next + WheelSlots - 1) % WheelSlots
	k.slots[st.slot][p] = struct{}{}
	if k.stop == nil && !k.closed {
		k.stop, k.done = make(chan struct{}), make(chan struct{})
		go k.run(time.NewTicker(k.interval/WheelSlots), k.stop, k.done)
	}
}

// Remove takes a peer off the wheel.
func (k *KeepAlive) Remove(p Peer) {
	k.mu.Lock()
	delete(k.slots[p.Keep().slot], p)
	k.mu.Unlock()
}

func (k *KeepAlive) run(t *time.Ticker, stop, done chan struct{}) {
	defer close(done)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			k.Tick(k.now())
		}
	}
}

// Tick checks the next slot at time now: a peer that has not answered
// its ping within the pong wait is dropped; a peer silent for half an
// interval is pinged. Writes are queued, so a tick never blocks.
func (k *KeepAlive) Tick(now time.Time) {
	k.mu.Lock()
	slot := k.slots[k.next]
	k.next = (k.next + 1) % WheelSlots
	var ping, dead []Peer
	quiet := now.Add(-k.interval / 2).UnixNano()
	late := now.Add(-k.pongWait).UnixNano()
	for p := range slot {
		st := p.Keep()
		heard, sent := st.heard.Load(), st.pingSent.Load()
		switch {
		case sent != 0 && heard < sent:
			if sent <= late {
				dead = append(dead, p)
			}
		case heard <= quiet:
			st.pingSent.Store(now.UnixNano())
			ping = append(ping, p)
		}
	}
	k.mu.Unlock()
	for _, p := range ping {
		p.Keep().pings.Add(1)
		if err := p.Ping(); err != nil {
			p.Abort()
		}
	}
	for _, p := range dead {
		k.log("websocket peer did not answer a ping")
		p.Abort()
	}
}

// Close stops the wheel's goroutine; no wheel starts after it.
func (k *KeepAlive) Close() {
	k.mu.Lock()
	stop, done, closed := k.stop, k.done, k.closed
	k.closed = true
	k.mu.Unlock()
	if stop != nil && !closed {
		close(stop)
		<-done
	}
}

// PeerState is the keep-alive state of one connection; embed it.
type PeerState struct {
	slot     int          // its wheel slot; guarded by KeepAlive.mu
	heard    atomic.Int64 // when the peer last sent a frame or pong (UnixNano)
	pingSent atomic.Int64 // when the last ping went out (UnixNano), 0: never
	pings    atomic.Int64 // pings sent, for tests and metrics
}

// Keep returns p, so a type embedding PeerState has the Peer method.
func (p *PeerState) Keep() *PeerState { return p }

// Hear records that the peer sent something at now.
func (p *PeerState) Hear(now time.Time) { p.heard.Store(now.UnixNano()) }

// AwaitingPong reports whether a ping waits for its answer.
func (p *PeerState) AwaitingPong() bool {
	sent := p.pingSent.Load()
	return sent != 0 && p.heard.Load() < sent
}

// Pings returns how many pings the wheel sent the peer.
func (p *PeerState) Pings() int64 { return p.pings.Load() }
