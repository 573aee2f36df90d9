package conversation_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/sqlite"
)

// fixture is a service over a real SQLite store and an embedded NATS bus,
// with groups 1 (Support) and 2 (Sales) and agents alice (1, 2) and bob (1).
type fixture struct {
	t     *testing.T
	dir   string
	store *sqlite.Store
	bus   *natsbus.Bus
	svc   *conversation.Service
	alice conversation.Actor
	bob   conversation.Actor
	// wrap, when set, gives the service wrap(store) instead of the store.
	wrap func(parley.Store) parley.Store
}

const testPassword = "correct horse battery"

func newFixture(t *testing.T, cfg conversation.Config) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	f.open(cfg, true)
	return f
}

// open starts store, bus and service on f.dir; seed creates the groups
// and agents.
func (f *fixture) open(cfg conversation.Config, seed bool) {
	t := f.t
	t.Helper()
	ctx := context.Background()
	var err error
	f.store, err = sqlite.Open(ctx, filepath.Join(f.dir, "parley.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.bus, err = natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FilesDir == "" {
		cfg.FilesDir = filepath.Join(f.dir, "files")
	}
	var store parley.Store = f.store
	if f.wrap != nil {
		store = f.wrap(store)
	}
	f.svc = conversation.New(store, f.bus, cfg, nil)
	if err := f.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	if seed {
		groups := []*parley.Group{
			{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support", WelcomeMessage: "Welcome to Support", QueueMessage: "Please wait"},
			{ID: 2, TenantID: parley.DefaultTenantID, Name: "Sales", ClosedMessage: "Sales is closed"},
		}
		agents := []*parley.Agent{
			newAgent("alice", "Alice", 1, 1, 2),
			newAgent("bob", "Bob", 1, 1),
		}
		if err := f.svc.Seed(ctx, groups, agents, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	f.alice = f.agent("alice")
	f.bob = f.agent("bob")
}

func (f *fixture) close() {
	if f.svc == nil {
		return
	}
	f.svc.Close()
	f.bus.Close()
	f.store.Close()
	f.svc = nil
}

func newAgent(login, name string, capacity int, groups ...int64) *parley.Agent {
	a := &parley.Agent{
		TenantID: parley.DefaultTenantID, Login: login, DisplayName: name, Role: parley.RoleAgent,
		Capacity: capacity, Presence: parley.PresenceOffline, Status: parley.StatusReady,
		Groups: []parley.Membership{},
	}
	for _, g := range groups {
		a.Groups = append(a.Groups, parley.Membership{GroupID: g})
	}
	return a
}

func (f *fixture) agent(login string) conversation.Actor {
	f.t.Helper()
	a, err := f.store.AgentByLogin(context.Background(), parley.DefaultTenantID, login)
	if err != nil {
		f.t.Fatal(err)
	}
	return conversation.Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}
}

func (f *fixture) available(a conversation.Actor) {
	f.t.Helper()
	if _, err := f.svc.SetPresence(context.Background(), a, conversation.PresenceChange{Presence: parley.PresenceAvailable}); err != nil {
		f.t.Fatal(err)
	}
}

// request starts a chat in group as a new visitor and returns the chat id
// and the visitor.
func (f *fixture) request(group int64, name string) (string, conversation.Actor) {
	f.t.Helper()
	ctx := context.Background()
	res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: group, Visitor: parley.Visitor{Name: name}, Message: "Hi, I am " + name})
	if err != nil {
		f.t.Fatalf("RequestChat: %v", err)
	}
	v, err := f.svc.Authenticate(ctx, res.VisitorToken)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Chat.ID, v
}

func (f *fixture) chat(id string) *parley.Chat {
	f.t.Helper()
	c, err := f.store.Chat(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// events returns the chat's stored events as actor sees them. It reads
// through a cursor, which (unlike a visitor's poll) does not count as the
// visitor being present.
func (f *fixture) events(a conversation.Actor, chatID string) []parley.Event {
	f.t.Helper()
	cur, err := f.svc.OpenCursor(context.Background(), a, chatID, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer cur.Close()
	var all []parley.Event
	for {
		evs, err := cur.Next(context.Background(), 0)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
	}
}

func notices(evs []parley.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Type == parley.EventNotice {
			out = append(out, e.Notice)
		}
	}
	return out
}

func lastState(evs []parley.Event) *parley.StateChange {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == parley.EventState {
			return evs[i].State
		}
	}
	return nil
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q); want code %q", err, got, code)
	}
}

func TestChatLifecycle(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)

	chatID, visitor := f.request(1, "Vera")
	c := f.chat(chatID)
	if c.State != parley.StateQueued || c.OfferedTo != f.alice.AgentID() {
		t.Fatalf("after request: state %v offered to %d; want queued and offered to alice", c.State, c.OfferedTo)
	}
	if _, err := f.svc.Accept(ctx, f.bob, chatID); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Fatalf("bob accepting alice's offer: %v; want conflict", err)
	}
	view, err := f.svc.Accept(ctx, f.alice, chatID)
	if err != nil {
		t.Fatal(err)
	}
	if view.State != parley.StateHandling || view.Agent == nil || view.Agent.Name != "Alice" {
		t.Fatalf("accepted view = %+v", view)
	}
	if _, err := f.svc.Send(ctx, visitor, chatID, "my printer is on fire", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, f.alice, chatID, "<script>alert(1)</script> please stand back", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, f.bob, chatID, "not mine", conversation.SendOptions{}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("bob writing into alice's chat: %v; want forbidden", err)
	}
	if err := f.svc.Leave(ctx, visitor, chatID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(ctx, visitor, chatID); err != nil {
		t.Fatalf("leaving twice: %v; want no error", err)
	}
	if _, err := f.svc.Send(ctx, f.alice, chatID, "hello?", conversation.SendOptions{}); parley.ErrorCode(err) != parley.ECLOSED {
		t.Fatalf("writing into an ended chat: %v; want closed", err)
	}

	evs := f.events(f.alice, chatID)
	var kinds []string
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d; the agent sees every event in order", i, e.Seq)
		}
		kinds = append(kinds, string(e.Type))
	}
	want := []string{"joined", "state", "message", "message", "joined", "state", "message", "message", "message", "left", "state"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("event types = %v\nwant %v", kinds, want)
	}
	if st := lastState(evs); st.State != parley.StateTerminated || st.Cause != parley.CauseVisitorLeft {
		t.Fatalf("last state = %+v; want terminated by visitor_left", st)
	}
	if evs[8].Text != "<script>alert(1)</script> please stand back" {
		t.Fatalf("message text changed: %q", evs[7].Text)
	}
}

func TestRequestChecks(t *testing.T) {
	f := newFixture(t, conversation.Config{RejectGroups: []int64{2}})
	ctx := context.Background()
	_, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1})
	wantCode(t, err, parley.ECLOSED)
	if pe := err.(*parley.Error); pe.Message != "No agent is available at the moment." {
		t.Fatalf("closed message = %q", pe.Message)
	}
	f.available(f.alice)
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 2})
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 99})
	wantCode(t, err, parley.ENOTFOUND)
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{GroupName: "support"})
	if err != nil {
		t.Fatalf("request by name, other case: %v", err)
	}
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{})
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Email: "not an address"}})
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Message: strings.Repeat("a", 1025)})
	wantCode(t, err, parley.ETOOLARGE)
}

func TestMessageLimits(t *testing.T) {
	f := newFixture(t, conversation.Config{MaxMessageLength: 10})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "V") // "Hi, I am V" is ten characters
	before := f.chat(chatID).LastSeq
	tests := []struct {
		text string
		code string
	}{
		{"", parley.EINVALID},
		{"   \n ", parley.EINVALID},
		{"12345678901", parley.ETOOLARGE},
		{"bad\x00byte", parley.EINVALID},
		{"\xff\xfe", parley.EINVALID},
	}
	for _, tt := range tests {
		_, err := f.svc.Send(ctx, visitor, chatID, tt.text, conversation.SendOptions{})
		wantCode(t, err, tt.code)
	}
	if after := f.chat(chatID).LastSeq; after != before {
		t.Fatalf("refused messages changed the log: last seq %d → %d", before, after)
	}
	// Ten characters are fine even when they are multi-byte.
	if _, err := f.svc.Send(ctx, visitor, chatID, "ääääääääää", conversation.SendOptions{}); err != nil {
		t.Fatalf("ten umlauts: %v", err)
	}
}

func TestIdempotentSend(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "Vera")
	a, err := f.svc.Send(ctx, visitor, chatID, "once", conversation.SendOptions{ClientID: "c-1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Send(ctx, visitor, chatID, "once", conversation.SendOptions{ClientID: "c-1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Seq != b.Seq {
		t.Fatalf("retried send stored twice: seq %d and %d", a.Seq, b.Seq)
	}
	n := 0
	for _, e := range f.events(visitor, chatID) {
		if e.Text == "once" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("message stored %d times; want 1", n)
	}
}

func TestVisitorIsolation(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	chatA, va := f.request(1, "Ann")
	chatB, vb := f.request(1, "Ben")
	if _, err := f.svc.Send(ctx, va, chatB, "hi", conversation.SendOptions{}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("visitor A writing into B's chat: %v; want forbidden", err)
	}
	if _, err := f.svc.OpenCursor(ctx, vb, chatA, 0); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("visitor B reading A's chat: %v; want forbidden", err)
	}
	if err := f.svc.Leave(ctx, vb, chatA); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("visitor B leaving A's chat: %v; want forbidden", err)
	}
	if _, err := f.svc.Chat(ctx, va, "not-a-chat"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("unknown chat id: %v; want not found", err)
	}
	if f.chat(chatA).State != parley.StateQueued {
		t.Fatal("a refused leave changed the chat")
	}
	// A visitor cannot accept or end.
	if _, err := f.svc.Accept(ctx, va, chatA); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("visitor accepting: %v; want forbidden", err)
	}
}

func TestQueue(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice) // capacity 1
	first, _ := f.request(1, "First")
	if _, err := f.svc.Accept(ctx, f.alice, first); err != nil {
		t.Fatal(err)
	}
	second, v2 := f.request(1, "Second")
	third, v3 := f.request(1, "Third")
	for _, tc := range []struct {
		id  string
		v   conversation.Actor
		pos int
	}{{second, v2, 1}, {third, v3, 2}} {
		view, err := f.svc.Chat(ctx, tc.v, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if view.State != parley.StateQueued || view.Queue == nil || view.Queue.Position != tc.pos || view.Queue.EstimatedWait != -1 {
			t.Fatalf("chat at %d: %+v queue %+v", tc.pos, view, view.Queue)
		}
	}
	// The third visitor is told when it moves up.
	cur, err := f.svc.OpenCursor(ctx, v3, third, f.chat(third).LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if err := f.svc.End(ctx, f.alice, first); err != nil {
		t.Fatal(err)
	}
	if c := f.chat(second); c.OfferedTo != f.alice.AgentID() {
		t.Fatalf("after the first chat ended, the second is offered to %d; want alice", c.OfferedTo)
	}
	evs, err := cur.Next(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != parley.EventQueue || evs[0].Queue.Position != 1 {
		t.Fatalf("third visitor got %+v; want a queue event with position 1", evs)
	}
}

func TestDeclineAndTransfer(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	f.available(f.bob)
	chatID, visitor := f.request(1, "Vera")
	first := f.chat(chatID).OfferedTo
	other := f.bob
	if first == f.bob.AgentID() {
		other = f.alice
	}
	offered := f.agent(map[int64]string{f.alice.AgentID(): "alice", f.bob.AgentID(): "bob"}[first])
	if err := f.svc.Decline(ctx, offered, chatID); err != nil {
		t.Fatal(err)
	}
	if got := f.chat(chatID).OfferedTo; got != other.AgentID() {
		t.Fatalf("after a decline the chat is offered to %d; want %d", got, other.AgentID())
	}
	if _, err := f.svc.Accept(ctx, other, chatID); err != nil {
		t.Fatal(err)
	}
	// Hand it back to the agent who declined it.
	err := f.svc.Transfer(ctx, other, chatID, conversation.Transfer{AgentID: offered.AgentID()})
	if err != nil {
		t.Fatalf("transfer to agent: %v", err)
	}
	c := f.chat(chatID)
	if c.State != parley.StateQueued || c.AgentID != 0 || c.OfferedTo != offered.AgentID() {
		t.Fatalf("after transfer: %+v", c)
	}
	if _, err := f.svc.Send(ctx, other, chatID, "still here?", conversation.SendOptions{}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("the former agent writing after the transfer: %v; want forbidden", err)
	}
	if _, err := f.svc.Accept(ctx, offered, chatID); err != nil {
		t.Fatal(err)
	}
	evs := f.events(visitor, chatID)
	if n := notices(evs); !slices.Contains(n, parley.NoticeTransferred) {
		t.Fatalf("visitor notices = %v; want a transfer notice", n)
	}
	if err := f.svc.Transfer(ctx, offered, chatID, conversation.Transfer{GroupID: 99}); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("transfer to an unknown group: %v; want not found", err)
	}
	if err := f.svc.Transfer(ctx, other, chatID, conversation.Transfer{GroupID: 2}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("transfer by an agent who does not have the chat: %v; want forbidden", err)
	}
}

func TestRestartKeepsQueue(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	handled, _ := f.request(1, "Handled")
	if _, err := f.svc.Accept(ctx, f.alice, handled); err != nil {
		t.Fatal(err)
	}
	waiting, visitor := f.request(1, "Waiting")
	f.close()

	f.open(conversation.Config{}, false)
	view, err := f.svc.Chat(ctx, visitor, waiting)
	if err != nil {
		t.Fatal(err)
	}
	if view.Queue == nil || view.Queue.Position != 1 {
		t.Fatalf("after restart the waiting chat is %+v; want position 1", view.Queue)
	}
	if err := f.svc.End(ctx, f.alice, handled); err != nil {
		t.Fatal(err)
	}
	if got := f.chat(waiting).OfferedTo; got != f.alice.AgentID() {
		t.Fatalf("after restart the freed slot took nothing: offered to %d", got)
	}
}
