package conversation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// readCounter counts the reads of chats, groups, visitors and agents that
// reach the store.
type readCounter struct {
	parley.Store
	chats, groups, visitors, agents, tokens, events atomic.Int64
}

func (r *readCounter) Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error) {
	r.events.Add(1)
	return r.Store.Events(ctx, chatID, after, limit)
}

func (r *readCounter) VisitorByToken(ctx context.Context, hash []byte) (*parley.Visitor, error) {
	r.tokens.Add(1)
	return r.Store.VisitorByToken(ctx, hash)
}

func (r *readCounter) Chat(ctx context.Context, id string) (*parley.Chat, error) {
	r.chats.Add(1)
	return r.Store.Chat(ctx, id)
}

func (r *readCounter) Group(ctx context.Context, id int64) (*parley.Group, error) {
	r.groups.Add(1)
	return r.Store.Group(ctx, id)
}

func (r *readCounter) Visitor(ctx context.Context, id string) (*parley.Visitor, error) {
	r.visitors.Add(1)
	return r.Store.Visitor(ctx, id)
}

func (r *readCounter) Agent(ctx context.Context, id int64) (*parley.Agent, error) {
	r.agents.Add(1)
	return r.Store.Agent(ctx, id)
}

func (r *readCounter) reset() {
	r.chats.Store(0)
	r.groups.Store(0)
	r.visitors.Store(0)
	r.agents.Store(0)
	r.tokens.Store(0)
	r.events.Store(0)
}

func (r *readCounter) String() string {
	return fmt.Sprintf("%d chat, %d group, %d visitor, %d visitor token and %d agent reads",
		r.chats.Load(), r.groups.Load(), r.visitors.Load(), r.tokens.Load(), r.agents.Load())
}

func newCountedFixture(t *testing.T) (*fixture, *readCounter) {
	rc := &readCounter{}
	f := &fixture{t: t, dir: t.TempDir(), wrap: func(s parley.Store) parley.Store {
		rc.Store = s
		return rc
	}}
	f.open(conversation.Config{}, true)
	return f, rc
}

// TestSendsReadNoChatState: once a chat is active on the node, sending
// (both sides), typing, read receipts, a file and a cursor's open read
// no chat, group, visitor or agent from the store.
func TestSendsReadNoChatState(t *testing.T) {
	f, rc := newCountedFixture(t)
	ctx := context.Background()
	id, visitor := f.handled("Vera")
	if _, err := f.svc.Send(ctx, visitor, id, "first", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, f.alice, id, "first answer", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	rc.reset()
	for i := range 100 {
		actor := visitor
		if i%2 == 1 {
			actor = f.alice
		}
		if err := f.svc.Typing(ctx, actor, id, true); err != nil {
			t.Fatal(err)
		}
		e, err := f.svc.Send(ctx, actor, id, fmt.Sprintf("message %d", i), conversation.SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MarkSeen(ctx, actor, id, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.SendFile(ctx, visitor, id, "note.txt", strings.NewReader("plain text")); err != nil {
		t.Fatal(err)
	}
	cur, err := f.svc.OpenCursor(ctx, visitor, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	cur.Close()
	if rc.chats.Load()+rc.groups.Load()+rc.visitors.Load()+rc.agents.Load() != 0 {
		t.Fatalf("100 sends, typing notices and receipts, a file and a cursor did %v; want none", rc)
	}
	// The log is the store's: every message is there, in order.
	var texts []string
	for _, e := range f.events(f.alice, id) {
		if e.Type == parley.EventMessage && strings.HasPrefix(e.Text, "message ") {
			texts = append(texts, e.Text)
		}
	}
	if len(texts) != 100 || texts[0] != "message 0" || texts[99] != "message 99" {
		t.Fatalf("stored %d messages (%v …); want 100 in order", len(texts), texts[:min(len(texts), 3)])
	}
	c, err := f.svc.Chat(ctx, visitor, id)
	if err != nil {
		t.Fatal(err)
	}
	if stored := f.chat(id); c.LastSeq != stored.LastSeq {
		t.Fatalf("the chat's last seq is %d in memory and %d in the store", c.LastSeq, stored.LastSeq)
	}
}

// TestVisitorReconnectReadsNoChatState: a visitor's new session on a chat
// the node has in memory (its token, the chat list's and the snapshot's
// group and visitor, the chat) reads none of them from the store; only
// the list of its chats and the events are read.
func TestVisitorReconnectReadsNoChatState(t *testing.T) {
	f, rc := newCountedFixture(t)
	ctx := context.Background()
	f.available(f.alice)
	res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "Vera"}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Chat.ID
	visitor, err := f.svc.Authenticate(ctx, res.VisitorToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, visitor, id, "hello", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	rc.reset()
	for range 10 {
		a, err := f.svc.Authenticate(ctx, res.VisitorToken)
		if err != nil || a.VisitorID != visitor.VisitorID {
			t.Fatalf("Authenticate = %+v, %v; want the visitor", a, err)
		}
		chats, err := f.svc.VisitorChats(ctx, a)
		if err != nil || len(chats) != 1 || chats[0].ID != id {
			t.Fatalf("VisitorChats = %v, %v; want the chat", chats, err)
		}
		cur, view, err := f.svc.OpenChat(ctx, a, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		cur.Close()
		if view.ID != id {
			t.Fatalf("OpenChat's view is of %s; want %s", view.ID, id)
		}
		// A client that resumes from the chat's end reads no events.
		before := rc.events.Load()
		cur, _, err = f.svc.OpenChat(ctx, a, id, view.LastSeq)
		if err != nil {
			t.Fatal(err)
		}
		if evs, err := cur.TryNext(ctx); err != nil || len(evs) != 0 {
			t.Fatalf("TryNext at the end = %v, %v; want nothing", evs, err)
		}
		cur.Close()
		if n := rc.events.Load() - before; n != 0 {
			t.Fatalf("resuming at the end read the chat's events %d times; want 0", n)
		}
	}
	if n := rc.chats.Load() + rc.groups.Load() + rc.visitors.Load() + rc.tokens.Load(); n != 0 {
		t.Fatalf("10 reconnects did %v; want none of chats, groups, visitors and tokens", rc)
	}
	// An unknown token is still refused.
	if _, err := f.svc.Authenticate(ctx, res.VisitorToken+"x"); err == nil {
		t.Fatal("a wrong token was accepted")
	}
}

// TestLiveStateFollowsWrites: what the service keeps in memory never
// outlives a change of the chat, its group or its visitor.
func TestLiveStateFollowsWrites(t *testing.T) {
	ctx := context.Background()
	send := func(f *fixture, a conversation.Actor, id, text string) error {
		_, err := f.svc.Send(ctx, a, id, text, conversation.SendOptions{})
		return err
	}

	t.Run("end", func(t *testing.T) {
		f := newFixture(t, conversation.Config{})
		id, visitor := f.handled("Vera")
		for _, a := range []conversation.Actor{visitor, f.alice} {
			if err := send(f, a, id, "hello"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.End(ctx, f.alice, id); err != nil {
			t.Fatal(err)
		}
		wantCode(t, send(f, visitor, id, "still there?"), parley.ECLOSED)
		wantCode(t, send(f, f.alice, id, "bye"), parley.ECLOSED)
		wantCode(t, f.svc.Typing(ctx, visitor, id, true), parley.ECLOSED)
	})

	t.Run("transfer", func(t *testing.T) {
		f := newFixture(t, conversation.Config{})
		id, visitor := f.handled("Vera")
		if err := send(f, f.alice, id, "one moment"); err != nil {
			t.Fatal(err)
		}
		f.available(f.bob)
		if err := f.svc.Transfer(ctx, f.alice, id, conversation.Transfer{AgentID: f.bob.AgentID()}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, send(f, f.alice, id, "offered away"), parley.EFORBIDDEN)
		if _, err := f.svc.Accept(ctx, f.bob, id); err != nil {
			t.Fatal(err)
		}
		wantCode(t, send(f, f.alice, id, "transferred away"), parley.EFORBIDDEN)
		if err := send(f, f.bob, id, "Bob here"); err != nil {
			t.Fatalf("the new agent cannot send: %v", err)
		}
		if err := send(f, visitor, id, "hi Bob"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("group limit", func(t *testing.T) {
		f := newFixture(t, conversation.Config{})
		admin := newAgent("root", "Root", 1)
		admin.Role = parley.RoleAdmin
		if err := f.svc.Seed(ctx, nil, []*parley.Agent{admin}, testPassword); err != nil {
			t.Fatal(err)
		}
		id, visitor := f.handled("Vera")
		long := strings.Repeat("x", 20)
		if err := send(f, visitor, id, long); err != nil {
			t.Fatal(err)
		}
		ten := 10
		if _, err := f.svc.UpdateGroup(ctx, f.agent("root"), 1, conversation.GroupUpdate{Limits: &parley.GroupLimits{MaxMessageLength: &ten}}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, send(f, visitor, id, long), parley.ETOOLARGE)
		if err := send(f, visitor, id, "short"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("visitor details", func(t *testing.T) {
		f := newFixture(t, conversation.Config{})
		f.available(f.alice)
		res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "Vera"}})
		if err != nil {
			t.Fatal(err)
		}
		visitor, err := f.svc.Authenticate(ctx, res.VisitorToken)
		if err != nil {
			t.Fatal(err)
		}
		id := res.Chat.ID
		if err := send(f, visitor, id, "as Vera"); err != nil {
			t.Fatal(err)
		}
		// The visitor asks again with a new name: its details change.
		if _, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, VisitorToken: res.VisitorToken,
			Visitor: parley.Visitor{Name: "Vera Neu"}}); err != nil {
			t.Fatal(err)
		}
		e, err := f.svc.Send(ctx, visitor, id, "renamed", conversation.SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if e.From.Name != "Vera Neu" {
			t.Fatalf("message after the visitor's new name is from %q; want Vera Neu", e.From.Name)
		}
	})
}

// TestNoMessageAfterEnd: sends racing an end are stored before the end or
// refused; none is stored after it, and none that started after the end
// returned succeeds.
func TestNoMessageAfterEnd(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	id, visitor := f.handled("Vera")
	var (
		ended   atomic.Bool
		wg      sync.WaitGroup
		late    atomic.Int64 // sends that started after End returned and succeeded
		started = make(chan struct{}, 8)
	)
	for g := range 8 {
		actor := visitor
		if g%2 == 1 {
			actor = f.alice
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				after := ended.Load()
				_, err := f.svc.Send(ctx, actor, id, fmt.Sprintf("g%d-%d", g, i), conversation.SendOptions{})
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					if c := parley.ErrorCode(err); c != parley.ECLOSED {
						t.Errorf("send: %v; want success or ECLOSED", err)
					}
					return
				}
				if after {
					late.Add(1)
				}
			}
		}()
	}
	for range 8 {
		<-started
	}
	if err := f.svc.End(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	ended.Store(true)
	wg.Wait()
	if n := late.Load(); n != 0 {
		t.Fatalf("%d sends that started after the end succeeded", n)
	}
	evs := f.events(f.alice, id)
	endAt := -1
	for i, e := range evs {
		if e.Type == parley.EventState && e.State.State == parley.StateTerminated {
			endAt = i
		}
	}
	if endAt < 0 {
		t.Fatal("no end in the log")
	}
	for _, e := range evs[endAt+1:] {
		if e.Type == parley.EventMessage {
			t.Fatalf("message %q stored after the end", e.Text)
		}
	}
}
