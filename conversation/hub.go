package conversation

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
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
	topics      map[string][]*Subscription // copied on write: deliver reads without copying
	ready       chan struct{}              // closed once the node's interest is in effect; nil: none
	err         error                      // why it could not be confirmed (with ready closed)
	unsubscribe func() error

	// Set in a cluster, before the first subscription: control receives
	// the cluster's notices, chatNote every chat event whether or not a
	// listener waits for it, onLost a loss of notifications.
	control  func(subject string, data []byte)
	chatNote func(subject string, n *note)
	onLost   func()
}

func newHub(bus Bus, log *slog.Logger) *hub {
	return &hub{bus: bus, log: log, topics: make(map[string][]*Subscription)}
}

// Subscription receives the notifications of one subject. Wait on Ready,
// then Take what arrived.
type Subscription struct {
	hub     *hub
	subject string
	ready   chan struct{}
	mu      sync.Mutex
	queue   []*note
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
	h.topics[subject] = append(subs[:len(subs):len(subs)], s)
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

// note is one bus notification, shared by the node's listeners of its
// subject: a chat's event is decoded once, however many cursors read it.
type note struct {
	data []byte
	once sync.Once
	ev   parley.Event
	err  error
}

// event decodes the notification as a chat event, once.
func (n *note) event() (parley.Event, error) {
	n.once.Do(func() { n.err = json.Unmarshal(n.data, &n.ev) })
	return n.ev, n.err
}

func (h *hub) deliver(subject string, data []byte) {
	if h.control != nil && strings.HasPrefix(subject, subjectControl) {
		h.control(subject, data)
		return
	}
	n := &note{data: data}
	if h.chatNote != nil && strings.HasPrefix(subject, "parley.chat.") {
		h.chatNote(subject, n)
	}
	h.mu.Lock()
	subs := h.topics[subject]
	h.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	for _, s := range subs {
		s.push(n)
	}
}

// lost marks every listener lagged: the bus dropped notifications, so
// each reads the store.
func (h *hub) lost() {
	h.log.Warn("bus notifications lost; listeners read the store")
	if h.onLost != nil {
		h.onLost()
	}
	h.mu.Lock()
	var subs []*Subscription
	for _, t := range h.topics {
		subs = append(subs, t...)
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

func (s *Subscription) push(n *note) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= subscriptionBuffer {
		s.queue = nil
		s.lagged = true
	} else {
		s.queue = append(s.queue, n)
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
	notes, lagged := s.take()
	for _, n := range notes {
		msgs = append(msgs, n.data)
	}
	return msgs, lagged
}

func (s *Subscription) take() (notes []*note, lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes, lagged = s.queue, s.lagged
	s.queue, s.lagged = nil, false
	return notes, lagged
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
	if i := slices.Index(t, s); i >= 0 {
		t = slices.Delete(slices.Clone(t), i, i+1)
	}
	if len(t) == 0 {
		delete(h.topics, s.subject)
	} else {
		h.topics[s.subject] = t
	}
}
