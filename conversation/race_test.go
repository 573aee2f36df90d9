package conversation

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/routing"
	"github.com/parleychat/parley/sqlite"
)

// These tests run one operation in the middle of another (through hookBus
// or a store wrapper) to check that the store and routing stay in step.

// hookBus lets a test run code in the middle of a service call: onPublish
// runs synchronously in the publishing goroutine.
type hookBus struct {
	*natsbus.Bus
	mu        sync.Mutex
	onPublish func(subject string, e parley.Event)
}

func (b *hookBus) Publish(ctx context.Context, subject string, data []byte) error {
	b.mu.Lock()
	fn := b.onPublish
	b.mu.Unlock()
	if fn != nil {
		var e parley.Event
		_ = json.Unmarshal(data, &e)
		fn(subject, e)
	}
	return b.Bus.Publish(ctx, subject, data)
}

func (b *hookBus) hook(fn func(string, parley.Event)) {
	b.mu.Lock()
	b.onPublish = fn
	b.mu.Unlock()
}

type rfix struct {
	svc        *Service
	bus        *hookBus
	store      *sqlite.Store
	alice, bob Actor
}

func newRfix(t *testing.T, cfg Config) *rfix {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hb := &hookBus{Bus: nb}
	cfg.FilesDir = filepath.Join(dir, "files")
	svc := New(st, hb, cfg, nil)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); nb.Close(); st.Close() })
	ag := func(login string, groups ...int64) *parley.Agent {
		a := &parley.Agent{TenantID: parley.DefaultTenantID, Login: login, DisplayName: login, Role: parley.RoleAgent,
			Capacity: 1, Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{}}
		for _, g := range groups {
			a.Groups = append(a.Groups, parley.Membership{GroupID: g})
		}
		return a
	}
	if err := svc.Seed(ctx, []*parley.Group{{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support"}},
		[]*parley.Agent{ag("alice", 1), ag("bob", 1)}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	f := &rfix{svc: svc, bus: hb, store: st}
	for _, l := range []string{"alice", "bob"} {
		a, err := st.AgentByLogin(ctx, parley.DefaultTenantID, l)
		if err != nil {
			t.Fatal(err)
		}
		act := Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}
		if _, err := svc.SetPresence(ctx, act, PresenceChange{Presence: parley.PresenceAvailable}); err != nil {
			t.Fatal(err)
		}
		if l == "alice" {
			f.alice = act
		} else {
			f.bob = act
		}
	}
	return f
}

func (f *rfix) request(t *testing.T) string {
	res, err := f.svc.RequestChat(context.Background(), ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Chat.ID
}

// An agent accepts an offer while routing revokes it (the agent's status
// changed). The store says the agent handles the chat; the engine has
// given the chat to another agent as a phantom offer, and freed the slot
// of the agent who really handles it.
func TestAcceptRacingRevoke(t *testing.T) {
	f := newRfix(t, Config{})
	ctx := context.Background()
	chatID := f.request(t)
	c, _ := f.store.Chat(ctx, chatID)
	taker, other := f.alice, f.bob
	if c.OfferedTo == f.bob.Agent.ID {
		taker, other = f.bob, f.alice
	}
	var (
		once       sync.Once
		concurrent sync.WaitGroup
	)
	f.bus.hook(func(subject string, e parley.Event) {
		if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateHandling {
			// While the accept is being recorded the taker goes busy for
			// a moment (another tab, an auto-away...).
			once.Do(func() {
				concurrent.Go(func() {
					if _, err := f.svc.SetPresence(ctx, taker, PresenceChange{Presence: parley.PresenceBusy}); err != nil {
						t.Error(err)
					}
				})
			})
		}
	})
	if _, err := f.svc.Accept(ctx, taker, chatID); err != nil {
		t.Fatal(err)
	}
	concurrent.Wait()
	f.bus.hook(nil)
	if _, err := f.svc.SetPresence(ctx, taker, PresenceChange{Presence: parley.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	c, _ = f.store.Chat(ctx, chatID)
	var takerLoad, otherLoad int
	var pos routing.Queued
	f.svc.router.Query(func(e routing.View) {
		takerLoad, otherLoad = e.Load(taker.Agent.ID), e.Load(other.Agent.ID)
		pos, _ = e.Position(chatID)
	})
	t.Logf("store: state=%v agent=%d offered=%d; engine: load(taker)=%d load(other)=%d pos=%+v",
		c.State, c.AgentID, c.OfferedTo, takerLoad, otherLoad, pos)
	if c.State == parley.StateHandling && (takerLoad != 1 || otherLoad != 0) {
		t.Errorf("engine diverged from store: taker (handles the chat) load %d, other load %d", takerLoad, otherLoad)
	}
	// Consequence: the taker (capacity 1, already handling a chat) is
	// offered the next chat; the other agent (idle) is not.
	next := f.request(t)
	n, _ := f.store.Chat(ctx, next)
	t.Logf("next chat offered to %d (taker %d, other %d)", n.OfferedTo, taker.Agent.ID, other.Agent.ID)
	if n.OfferedTo == taker.Agent.ID {
		t.Errorf("agent at capacity was offered another chat")
	}
}

// Accept re-arms the idle timer after a concurrent Leave already dropped
// the chat's timers: the entry for an ended chat is never removed.
func TestNoTimersForEndedChats(t *testing.T) {
	f := newRfix(t, Config{})
	ctx := context.Background()
	res, err := f.svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID := res.Chat.ID
	visitor, err := f.svc.Authenticate(ctx, res.VisitorToken)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.Chat(ctx, chatID)
	taker := f.alice
	if c.OfferedTo == f.bob.Agent.ID {
		taker = f.bob
	}
	var (
		once  sync.Once
		other sync.WaitGroup
	)
	f.bus.hook(func(subject string, e parley.Event) {
		if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateHandling {
			once.Do(func() {
				other.Go(func() {
					if err := f.svc.Leave(ctx, visitor, chatID); err != nil {
						t.Error(err)
					}
				})
			})
		}
	})
	if _, err := f.svc.Accept(ctx, taker, chatID); err != nil && parley.ErrorCode(err) != parley.ECLOSED {
		t.Fatal(err)
	}
	other.Wait()
	f.bus.hook(nil)
	if c, _ := f.store.Chat(ctx, chatID); c.Active() {
		t.Fatal("chat still active")
	}
	f.svc.tmu.Lock()
	_, leaked := f.svc.timers[chatID]
	f.svc.tmu.Unlock()
	if leaked {
		t.Errorf("s.timers keeps an entry (with a running idle timer) for the ended chat %s", chatID)
	}
}

// The visitor leaves between Transfer's commit and its ChatQueued: the
// engine sees ChatEnded first, then re-creates the chat and queues it. The
// ended chat stays in the queue (wrong positions and queue lengths) until
// some agent is offered it.
func TestTransferRacingLeave(t *testing.T) {
	f := newRfix(t, Config{})
	ctx := context.Background()
	// Only alice takes chats.
	if _, err := f.svc.SetPresence(ctx, f.bob, PresenceChange{Presence: parley.PresenceOffline}); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID := res.Chat.ID
	visitor, _ := f.svc.Authenticate(ctx, res.VisitorToken)
	if _, err := f.svc.Accept(ctx, f.alice, chatID); err != nil {
		t.Fatal(err)
	}
	// Alice stays logged in (group open) but is not ready.
	if _, err := f.svc.SetPresence(ctx, f.alice, PresenceChange{Status: parley.StatusNotReady}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	f.bus.hook(func(subject string, e parley.Event) {
		if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateQueued {
			once.Do(func() {
				if err := f.svc.Leave(ctx, visitor, chatID); err != nil {
					t.Error(err)
				}
			})
		}
	})
	if err := f.svc.Transfer(ctx, f.alice, chatID, Transfer{GroupID: 1}); err != nil {
		t.Fatal(err)
	}
	f.bus.hook(nil)
	c, _ := f.store.Chat(ctx, chatID)
	if q := f.svc.QueueLengths()[1]; q != 0 {
		t.Errorf("chat is %v in the store but the engine queues %d chat(s) in group 1", c.State, q)
	}
}

// A visitor cursor behind a full page of agent-only events does not read
// the next page until a notification arrives: Next waits the
// whole wait and returns nothing although a visible event is stored.
func TestCursorSkipsInvisiblePages(t *testing.T) {
	f := newRfix(t, Config{})
	ctx := context.Background()
	res, err := f.svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID := res.Chat.ID
	visitor, _ := f.svc.Authenticate(ctx, res.VisitorToken)
	c, _ := f.store.Chat(ctx, chatID)
	var evs []parley.Event
	for i := 0; i < cursorPage; i++ {
		evs = append(evs, parley.Event{ChatID: chatID, Type: parley.EventNotice, From: system, Audience: parley.AudienceAgents, Text: "x", At: time.Now()})
	}
	evs = append(evs, parley.Event{ChatID: chatID, Type: parley.EventMessage, From: system, Text: "visible", At: time.Now()})
	// Through the service's store, as every write goes (the chats it
	// holds in memory learn their new LastSeq).
	if _, err := f.svc.store.AppendEvents(ctx, chatID, evs); err != nil {
		t.Fatal(err)
	}
	cur, err := f.svc.OpenCursor(ctx, visitor, chatID, c.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	got, err := cur.Next(ctx, 0)
	if err != nil || len(got) != 1 || got[0].Text != "visible" {
		t.Fatalf("Next after a page of hidden events = %+v, %v; want the visible message", got, err)
	}
}

// lazyBus models a bus whose interest takes effect only once Flush has
// round-tripped (an external NATS server, publishes from another node).
type lazyBus struct {
	mu      sync.Mutex
	pending []func(string, []byte)
	active  []func(string, []byte)
	flushed chan struct{} // Flush was called
	gate    chan struct{} // Flush may return
}

func (b *lazyBus) Publish(_ context.Context, subject string, data []byte) error {
	b.mu.Lock()
	subs := append([]func(string, []byte){}, b.active...)
	b.mu.Unlock()
	for _, fn := range subs {
		fn(subject, data)
	}
	return nil
}

func (b *lazyBus) Subscribe(_ string, fn func(string, []byte), _ func()) (func() error, error) {
	b.mu.Lock()
	b.pending = append(b.pending, fn)
	b.mu.Unlock()
	return func() error { return nil }, nil
}

func (b *lazyBus) Flush(context.Context) error {
	b.flushed <- struct{}{}
	<-b.gate
	b.mu.Lock()
	b.active, b.pending = append(b.active, b.pending...), nil
	b.mu.Unlock()
	return nil
}

// A second listener of a subject must not be handed its subscription
// before the first listener's interest is in effect: it would read the
// store and then miss what is published next.
func TestHubSecondListenerWaitsForInterest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &lazyBus{flushed: make(chan struct{}, 1), gate: make(chan struct{})}
		h := newHub(b, slog.New(slog.DiscardHandler))
		go h.subscribe(context.Background(), "s")
		<-b.flushed // the first listener waits in Flush
		second := make(chan *Subscription, 1)
		go func() {
			s, err := h.subscribe(context.Background(), "s")
			if err != nil {
				t.Error(err)
			}
			second <- s
		}()
		synctest.Wait()
		select {
		case <-second:
			t.Fatal("the second listener got its subscription before the bus had the interest")
		default:
		}
		close(b.gate)
		s := <-second
		_ = b.Publish(context.Background(), "s", []byte(`{"seq":7}`))
		if msgs, _ := s.Take(); len(msgs) != 1 {
			t.Fatalf("the second listener got %d messages; want 1", len(msgs))
		}
	})
}

type groupHookStore struct {
	*sqlite.Store
	mu   sync.Mutex
	hook func()
}

func (s *groupHookStore) Group(ctx context.Context, id int64) (*parley.Group, error) {
	s.mu.Lock()
	h := s.hook
	s.hook = nil
	s.mu.Unlock()
	if h != nil {
		h()
	}
	return s.Store.Group(ctx, id)
}

// Two presence changes of one agent at once (a logout in one tab,
// "available" in another) reach the store and routing in the same order.
func TestPresenceChangesInOneOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := &groupHookStore{Store: st}
	svc := New(hs, nb, Config{FilesDir: dir}, nil)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { svc.Close(); nb.Close(); st.Close() }()
	a := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "alice", DisplayName: "A", Role: parley.RoleAgent, Capacity: 1,
		Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{{GroupID: 1}}}
	if err := svc.Seed(ctx, []*parley.Group{{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support"}}, []*parley.Agent{a}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	actor := Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}
	var other sync.WaitGroup
	hs.mu.Lock()
	hs.hook = func() {
		// Starts inside the "available" call, after its store write and
		// before routing hears of it.
		other.Go(func() {
			if _, err := svc.SetPresence(ctx, actor, PresenceChange{Presence: parley.PresenceOffline}); err != nil {
				t.Error(err)
			}
		})
	}
	hs.mu.Unlock()
	if _, err := svc.SetPresence(ctx, actor, PresenceChange{Presence: parley.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	other.Wait()
	stored, err := st.Agent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var can bool
	svc.router.Query(func(e routing.View) { can = e.AgentCanTake(a.ID, 1) })
	if (stored.Presence == parley.PresenceAvailable) != can {
		t.Fatalf("store: agent %s; routing: can take chats %v", stored.Presence, can)
	}
}
