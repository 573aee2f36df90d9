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

// hub shares one bus subscription per subject among the local listeners
// of this node.
type hub struct {
	bus    Bus
	log    *slog.Logger
	mu     sync.Mutex
	topics map[string]*topic
}

type topic struct {
	unsubscribe func() error
	subs        map[*Subscription]struct{}
	ready       chan struct{} // closed once the bus has the interest
	err         error         // why the interest could not be confirmed
}

func newHub(bus Bus, log *slog.Logger) *hub {
	return &hub{bus: bus, log: log, topics: make(map[string]*topic)}
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
}

// subscribe returns a subscription that sees everything published on
// subject after it returns.
func (h *hub) subscribe(ctx context.Context, subject string) (*Subscription, error) {
	s := &Subscription{hub: h, subject: subject, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	t := h.topics[subject]
	if t != nil {
		t.subs[s] = struct{}{}
		h.mu.Unlock()
		// Wait until the first listener's interest is in effect.
		select {
		case <-t.ready:
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		}
		if t.err != nil {
			s.Close()
			return nil, t.err
		}
		return s, nil
	}
	t = &topic{subs: map[*Subscription]struct{}{s: {}}, ready: make(chan struct{})}
	h.topics[subject] = t
	unsubscribe, err := h.bus.Subscribe(subject, func(data []byte) { h.deliver(subject, data) })
	if err != nil {
		delete(h.topics, subject)
		t.err = err
		close(t.ready)
		h.mu.Unlock()
		return nil, err
	}
	t.unsubscribe = unsubscribe
	h.mu.Unlock()
	// Make sure the bus has the interest registered before the caller
	// reads the store, so nothing published after that read is missed.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t.err = h.bus.Flush(fctx)
	close(t.ready)
	if t.err != nil {
		s.Close()
		return nil, t.err
	}
	return s, nil
}

func (h *hub) deliver(subject string, data []byte) {
	h.mu.Lock()
	t := h.topics[subject]
	if t == nil {
		h.mu.Unlock()
		return
	}
	subs := make([]*Subscription, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.push(data)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for subject, t := range h.topics {
		if t.unsubscribe != nil {
			_ = t.unsubscribe()
		}
		delete(h.topics, subject)
	}
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
	select {
	case s.ready <- struct{}{}:
	default:
	}
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

// Close ends the subscription; the bus subscription goes when its last
// listener does.
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
	if t == nil {
		return
	}
	delete(t.subs, s)
	if len(t.subs) == 0 {
		delete(h.topics, s.subject)
		if t.unsubscribe != nil {
			if err := t.unsubscribe(); err != nil {
				h.log.Warn("unsubscribe", "subject", s.subject, "err", err)
			}
		}
	}
}
