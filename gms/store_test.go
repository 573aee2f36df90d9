package gms_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/gms"
)

// countingStore is the real store, counting the calls a chat's requests
// make: the reads and writes of chats, events, visitors, groups, agents,
// sessions and files.
type countingStore struct {
	parley.Store
	calls atomic.Int64
	fail  atomic.Bool // CreateChat answers EUNAVAILABLE, as a load limit does
}

func (s *countingStore) Chat(ctx context.Context, id string) (*parley.Chat, error) {
	s.calls.Add(1)
	return s.Store.Chat(ctx, id)
}
func (s *countingStore) Chats(ctx context.Context, f parley.ChatFilter) ([]*parley.Chat, error) {
	s.calls.Add(1)
	return s.Store.Chats(ctx, f)
}
func (s *countingStore) Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error) {
	s.calls.Add(1)
	return s.Store.Events(ctx, chatID, after, limit)
}
func (s *countingStore) AppendEvents(ctx context.Context, chatID string, events []parley.Event) ([]parley.Event, error) {
	s.calls.Add(1)
	return s.Store.AppendEvents(ctx, chatID, events)
}
func (s *countingStore) UpdateChat(ctx context.Context, c *parley.Chat, events []parley.Event) ([]parley.Event, error) {
	s.calls.Add(1)
	return s.Store.UpdateChat(ctx, c, events)
}
func (s *countingStore) CreateChat(ctx context.Context, c *parley.Chat, events []parley.Event) ([]parley.Event, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the server is at its limit of chats")
	}
	return s.Store.CreateChat(ctx, c, events)
}
func (s *countingStore) Visitor(ctx context.Context, id string) (*parley.Visitor, error) {
	s.calls.Add(1)
	return s.Store.Visitor(ctx, id)
}
func (s *countingStore) VisitorByToken(ctx context.Context, h []byte) (*parley.Visitor, error) {
	s.calls.Add(1)
	return s.Store.VisitorByToken(ctx, h)
}
func (s *countingStore) Group(ctx context.Context, id int64) (*parley.Group, error) {
	s.calls.Add(1)
	return s.Store.Group(ctx, id)
}
func (s *countingStore) GroupByName(ctx context.Context, tenantID int64, name string) (*parley.Group, error) {
	s.calls.Add(1)
	return s.Store.GroupByName(ctx, tenantID, name)
}
func (s *countingStore) Agent(ctx context.Context, id int64) (*parley.Agent, error) {
	s.calls.Add(1)
	return s.Store.Agent(ctx, id)
}
func (s *countingStore) Session(ctx context.Context, h []byte) (*parley.Session, error) {
	s.calls.Add(1)
	return s.Store.Session(ctx, h)
}
func (s *countingStore) Attachment(ctx context.Context, id string) (*parley.Attachment, error) {
	s.calls.Add(1)
	return s.Store.Attachment(ctx, id)
}

// TestIdleRefreshReadsNothing: once a client's session is on the node, a
// refresh that finds nothing new touches no store method, and one after
// a message reads no more than the bus brought.
func TestIdleRefreshReadsNothing(t *testing.T) {
	cs := &countingStore{}
	s := newServer(t, gms.Options{}, func(st parley.Store) parley.Store { cs.Store = st; return cs })
	tok := s.agent()
	c := newClient(t, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Grace"}})
	id := s.acceptOffered(tok)
	c.await(typed("ParticipantJoined", "Agent"))
	c.refresh()

	before := cs.calls.Load()
	for range 20 {
		if env := c.refresh(); len(env.Messages) != 0 {
			t.Fatalf("an idle refresh returned %+v", env.Messages)
		}
	}
	if n := cs.calls.Load() - before; n != 0 {
		t.Fatalf("20 idle refreshes made %d store calls; want 0", n)
	}

	// A message reaches the next refresh through the bus, not a read.
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "Hello Grace"}, nil)
	before = cs.calls.Load()
	got := c.await(typed("Message", "Agent"))
	if got.Text != "Hello Grace" {
		t.Fatalf("message = %+v", got)
	}
	if n := cs.calls.Load() - before; n != 0 {
		t.Fatalf("refreshes that brought a message made %d store calls; want 0", n)
	}
}

// TestLoadLimitIsServiceUnavailable: a chat refused at the server's load
// limit gets HTTP 503 and a non-zero statusCode a client may retry.
func TestLoadLimitIsServiceUnavailable(t *testing.T) {
	cs := &countingStore{}
	s := newServer(t, gms.Options{}, func(st parley.Store) parley.Store { cs.Store = st; return cs })
	s.agent()
	cs.fail.Store(true)
	status, env, data := postForm(t, s.URL+"/genesys/2/chat/customer-support", url.Values{"nickname": {"Linus"}})
	if status != http.StatusServiceUnavailable || env.StatusCode != 1 || len(env.Errors) != 1 || env.Errors[0].Code != gms.CodeUnavailable || env.ChatID != "" {
		t.Fatalf("requestChat at the load limit = %d %s", status, data)
	}
	cs.fail.Store(false)
	c := newClient(t, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Linus"}}) // the retry works
}

// TestWrongSecureKeyEvicts: a wrong secureKey is refused and removes the
// chat's client, as Genesys does; the chat ends for the agent.
func TestWrongSecureKeyEvicts(t *testing.T) {
	s := newServer(t, gms.Options{})
	tok := s.agent()
	c := newClient(t, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Mallory's target"}})
	id := s.acceptOffered(tok)
	other := newClient(t, s.URL, gms.DefaultService)
	other.request(url.Values{"nickname": {"Mallory"}})

	// Another client's valid key, on this chat.
	status, env, data := postForm(t, c.base+"/"+c.chatID+"/send", url.Values{"secureKey": {other.key}, "message": {"hijack"}})
	if status != http.StatusUnauthorized || env.StatusCode != 2 || env.Errors[0].Code != gms.CodeBadKey || !env.ChatEnded {
		t.Fatalf("send with another key = %d %s", status, data)
	}
	var view struct {
		State string `json:"state"`
		Cause string `json:"cause"`
	}
	s.ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+id, tok, nil, &view)
	if view.State != "terminated" {
		t.Fatalf("after a wrong key the chat is %+v; want it ended", view)
	}
	var events struct {
		Events []parley.Event `json:"events"`
	}
	s.ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+id+"/events?after=0", tok, nil, &events)
	for _, e := range events.Events {
		if e.Text == "hijack" {
			t.Fatal("the message with the wrong key was stored")
		}
	}
	// The other chat is untouched by that; a made-up key on it is refused
	// (and removes its client in turn).
	other.refresh()
	status, env, _ = postForm(t, other.base+"/"+other.chatID+"/refresh", url.Values{"secureKey": {"v_" + strconv.Itoa(42)}})
	if status == 200 || env.StatusCode != 2 {
		t.Fatalf("a made-up key = %d %+v", status, env)
	}
}
