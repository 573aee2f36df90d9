package conversation

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// subscriptionBuffer bounds the notifications a slow listener may hold;
// beyond it the listener is marked lagged and reads the store instead.
const subscriptionBuffer = 256

// busPattern matches every subject Parley publishes (chats, agents).
const busPattern = "parley.>"

// hub fans the notifications of one node-wide bus subscription out to the
// local listeners of each subject. Listeners cost a map entry, not a bus
// subscription or a goroutine, and a new listener needs no bus round trip
// once the node's subscription is in effect.
type hub struct {
	bus Bus
	log *slog.Logger

	mu          sync.Mutex
	topics      map[string]map[*Subscription]struct{}
	ready       chan struct{} // closed once the node's interest is in effect; nil: none
	err         error         // why it could not be confirmed (with ready closed)
	unsubscribe func() error
}

func newHub(bus Bus, log *slog.Logger) *hub {
	return &hub{bus: bus, log: log, topics: make(map[string]map[*Subscription]struct{})}
}

// Subscription receives the notifications of one subject. Wait on Ready,
// then Take what arrived.
type Subscription struct {
	hub     *hub
	subject string
	ready   chan struct{}
	mu      sync.Mutex
	queue   [][]byte
	lagged  bool
	closed  bool
	notify  func() // called when notifications arrive, if set
}

// subscribe returns a subscription that sees everything published on
// subject after it returns.
func (h *hub) subscribe(ctx context.Context, subject string) (*Subscription, error) {
	s := &Subscription{hub: h, subject: subject, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	subs := h.topics[subject]
	if subs == nil {
		subs = make(map[*Subscription]struct{}, 1)
		h.topics[subject] = subs
	}
	subs[s] = struct{}{}
	ready, first := h.ready, h.ready == nil
	if first {
		ready = make(chan struct{})
		h.ready = ready
	}
	h.mu.Unlock()
	if first {
		h.listen(ctx, ready)
	}
	// The caller reads the store next: the bus must have the interest
	// first, so nothing published after that read is missed.
	select {
	case <-ready:
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
	h.mu.Lock()
	err := h.err
	if h.ready == ready && err != nil {
		h.ready, h.err = nil, nil // the next listener tries again
	}
	h.mu.Unlock()
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// listen makes the node's bus subscription and closes ready once the bus
// has it in effect (or failed to).
func (h *hub) listen(ctx context.Context, ready chan struct{}) {
	unsubscribe, err := h.bus.Subscribe(busPattern, h.deliver, h.lost)
	if err == nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = h.bus.Flush(fctx)
		cancel()
		if err != nil {
			_ = unsubscribe()
		}
	}
	h.mu.Lock()
	if err != nil {
		h.err = err
	} else {
		h.unsubscribe = unsubscribe
	}
	h.mu.Unlock()
	close(ready)
}

func (h *hub) deliver(subject string, data []byte) {
	h.mu.Lock()
	t := h.topics[subject]
	if len(t) == 0 {
		h.mu.Unlock()
		return
	}
	subs := make([]*Subscription, 0, len(t))
	for s := range t {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.push(data)
	}
}

// lost marks every listener lagged: the bus dropped notifications, so
// each reads the store.
func (h *hub) lost() {
	h.log.Warn("bus notifications lost; listeners read the store")
	h.mu.Lock()
	var subs []*Subscription
	for _, t := range h.topics {
		for s := range t {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.markLagged()
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unsubscribe != nil {
		_ = h.unsubscribe()
		h.unsubscribe = nil
	}
	clear(h.topics)
}

func (s *Subscription) push(data []byte) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= subscriptionBuffer {
		s.queue = nil
		s.lagged = true
	} else {
		s.queue = append(s.queue, data)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) markLagged() {
	s.mu.Lock()
	s.queue, s.lagged = nil, true
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
	s.mu.Lock()
	fn := s.notify
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// Notify sets fn to be called (on the bus's goroutine; it must not block)
// whenever notifications arrive, for listeners that do not wait on Ready
// in a goroutine of their own. fn is called once at once, for what may
// have arrived before.
func (s *Subscription) Notify(fn func()) {
	s.mu.Lock()
	s.notify = fn
	s.mu.Unlock()
	fn()
}

// Ready is signalled when notifications are waiting.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns the waiting notifications in order. lagged reports that
// some were dropped because the listener fell behind.
func (s *Subscription) Take() (msgs [][]byte, lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, lagged = s.queue, s.lagged
	s.queue, s.lagged = nil, false
	return msgs, lagged
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[s.subject]
	delete(t, s)
	if len(t) == 0 {
		delete(h.topics, s.subject)
	}
}
