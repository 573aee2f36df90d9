package httpapi_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// The distribution engine end to end through the API. Timeouts are short
// so the tests wait in real time; every wait is a poll with a deadline.

var fastRouting = conversation.Config{
	OfferTimeout:    time.Second,
	DeclineCooldown: time.Minute,
	RoutingTick:     50 * time.Millisecond,
	QueuePush:       50 * time.Millisecond,
	PreferredWait:   time.Minute,
}

// offered waits until the chat is offered to someone and returns the agent.
func (s *server) offeredTo(chatID string) int64 {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := s.store.Chat(s.t.Context(), chatID); err == nil && c.OfferedTo != 0 {
			return c.OfferedTo
		}
		time.Sleep(10 * time.Millisecond) // polling the store with a deadline
	}
	s.t.Fatalf("chat %s was not offered within 10 s", chatID)
	return 0
}

func (s *server) agentID(login string) int64 {
	s.t.Helper()
	a, err := s.store.AgentByLogin(s.t.Context(), parley.DefaultTenantID, login)
	if err != nil {
		s.t.Fatal(err)
	}
	return a.ID
}

func TestPreferredAgent(t *testing.T) {
	s := newServer(t, fastRouting, 2)
	a1, a2 := s.login("agent1"), s.login("agent2")
	s.presence(a1, "available")
	first := s.requestChat(1, "Vera")
	s.must(200, "POST", "/api/v1/chats/"+first.Chat.ID+"/accept", a1, nil, nil)
	// agent2 comes online while agent1 still chats, so once agent1 is
	// done, agent2 is the one idle the longest...
	s.presence(a2, "available")
	s.must(204, "POST", "/api/v1/chats/"+first.Chat.ID+"/end", a1, nil, nil)
	// ...yet the returning visitor goes to agent1, who helped before.
	var again httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", first.VisitorToken, map[string]any{"group_id": 1, "message": "me again"}, &again)
	if got := s.offeredTo(again.Chat.ID); got != s.agentID("agent1") {
		t.Fatalf("returning visitor offered to %d; want agent1 (%d)", got, s.agentID("agent1"))
	}
	// A new visitor goes by longest idle.
	other := s.requestChat(1, "Otto")
	if got := s.offeredTo(other.Chat.ID); got != s.agentID("agent2") {
		t.Fatalf("new visitor offered to %d; want agent2", got)
	}

	// When the preferred agent is busy, the chat waits for it.
	s.must(200, "POST", "/api/v1/chats/"+again.Chat.ID+"/accept", a1, nil, nil)
	s.must(204, "POST", "/api/v1/chats/"+again.Chat.ID+"/end", a1, nil, nil)
	s.must(200, "POST", "/api/v1/chats/"+other.Chat.ID+"/accept", a2, nil, nil)
	filler := s.requestChat(2, "Filler") // Sales: agent1 only, now at 1 of 2
	s.must(200, "POST", "/api/v1/chats/"+filler.Chat.ID+"/accept", a1, nil, nil)
	filler2 := s.requestChat(2, "Filler 2")
	s.must(200, "POST", "/api/v1/chats/"+filler2.Chat.ID+"/accept", a1, nil, nil) // agent1 full
	var third httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", first.VisitorToken, map[string]any{"group_id": 1}, &third)
	if third.Chat.State != parley.StateQueued || third.Chat.Queue == nil || third.Chat.Queue.Position != 1 {
		t.Fatalf("chat for a busy preferred agent: %+v queue %+v; want it waiting", third.Chat.State, third.Chat.Queue)
	}
	if c, _ := s.store.Chat(t.Context(), third.Chat.ID); c.OfferedTo != 0 {
		t.Fatalf("offered to %d although agent2 has room; it waits for agent1", c.OfferedTo)
	}
	s.must(204, "POST", "/api/v1/chats/"+filler.Chat.ID+"/end", a1, nil, nil)
	if got := s.offeredTo(third.Chat.ID); got != s.agentID("agent1") {
		t.Fatalf("after agent1 freed a slot the chat went to %d", got)
	}
}

func TestStickyPartner(t *testing.T) {
	s := newServer(t, fastRouting, 1)
	a1, a2 := s.login("agent1"), s.login("agent2")
	s.presence(a1, "available")
	s.presence(a2, "available")
	first := s.requestChat(1, "Vera")
	handler := s.offeredTo(first.Chat.ID)
	tok := map[int64]string{s.agentID("agent1"): a1, s.agentID("agent2"): a2}[handler]
	s.must(200, "POST", "/api/v1/chats/"+first.Chat.ID+"/accept", tok, nil, nil)
	// While that chat goes on, the visitor's next chat stays with the same
	// agent even though the agent is at capacity and the other is free.
	var second httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", first.VisitorToken, map[string]any{"group_id": 1, "message": "and a video call?"}, &second)
	if got := s.offeredTo(second.Chat.ID); got != handler {
		t.Fatalf("second chat of an active visitor offered to %d; want its partner %d", got, handler)
	}
}

func TestGroupFallback(t *testing.T) {
	s := newServer(t, fastRouting, 1)
	a1, a2 := s.login("agent1"), s.login("agent2") // agent1: Support + Sales, agent2: Support
	s.presence(a1, "away")
	s.presence(a2, "available")
	adminTok := s.login("admin")
	var empty parley.Group
	s.must(201, "POST", "/api/v1/admin/groups", adminTok, map[string]any{"name": "Nobody"}, &empty)

	// Sales has nobody available: the request falls back to Support.
	var res httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"groups": []int64{empty.ID, 2, 1}, "name": "Vera"}, &res)
	if got := s.offeredTo(res.Chat.ID); got != s.agentID("agent2") {
		t.Fatalf("offered to %d; want agent2 in Support", got)
	}
	if c, _ := s.store.Chat(t.Context(), res.Chat.ID); c.GroupID != 1 {
		t.Fatalf("chat group = %d; want Support (1)", c.GroupID)
	}
	s.must(200, "POST", "/api/v1/chats/"+res.Chat.ID+"/accept", a2, nil, nil)

	// Nobody can take a chat now: it waits in the first listed group with
	// a logged-in agent (Sales: agent1 is away but logged in).
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"groups": []int64{empty.ID, 2, 1}, "name": "Otto"}, &res)
	if res.Chat.State != parley.StateQueued || res.Chat.GroupID != 2 || res.Chat.Queue.Position != 1 {
		t.Fatalf("waiting chat: group %d state %v queue %+v; want waiting in Sales", res.Chat.GroupID, res.Chat.State, res.Chat.Queue)
	}
	// With no agent logged in in any listed group, the request is refused.
	s.fail(409, parley.ECLOSED, "POST", "/api/v1/chats", "", map[string]any{"groups": []int64{empty.ID}})
}

func TestOfferTimeoutReoffers(t *testing.T) {
	cfg := fastRouting
	cfg.MissedOfferNotReady = true
	s := newServer(t, cfg, 1)
	a1, a2 := s.login("agent1"), s.login("agent2")
	s.presence(a1, "available")
	s.presence(a2, "available")
	res := s.requestChat(1, "Vera")
	first := s.offeredTo(res.Chat.ID)
	// Nobody answers: after the offer timeout the chat moves on and the
	// agent who let it ring is not ready.
	deadline := time.Now().Add(10 * time.Second)
	var (
		next   int64
		missed *parley.Agent
	)
	for time.Now().Before(deadline) {
		c, _ := s.store.Chat(t.Context(), res.Chat.ID)
		missed, _ = s.store.Agent(t.Context(), first)
		if c.OfferedTo != 0 && c.OfferedTo != first && missed.Status == parley.StatusNotReady {
			next = c.OfferedTo
			break
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	if next == 0 {
		t.Fatalf("the unanswered offer did not move on with the agent set not ready (agent: %s)", missed.Status)
	}
	if missed.StatusReason != "missed offer" {
		t.Fatalf("status reason = %q; want missed offer", missed.StatusReason)
	}
	tok := map[int64]string{s.agentID("agent1"): a1, s.agentID("agent2"): a2}[next]
	s.must(200, "POST", "/api/v1/chats/"+res.Chat.ID+"/accept", tok, nil, nil)
}

func TestWrapUp(t *testing.T) {
	s := newServer(t, fastRouting, 1)
	adminTok := s.login("admin")
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"wrap_up_seconds": 1}}, nil)
	a1 := s.login("agent1")
	s.presence(a1, "available")
	ws := s.dial(a1, nil)
	res := s.requestChat(1, "Vera")
	s.must(200, "POST", "/api/v1/chats/"+res.Chat.ID+"/accept", a1, nil, nil)
	s.must(204, "POST", "/api/v1/chats/"+res.Chat.ID+"/end", a1, nil, nil)
	ws.expect("wrap-up", func(f httpapi.ServerFrame) bool {
		return f.Type == "agent" && f.Agent.Status == parley.StatusWrapUp
	})
	// During wrap-up a new chat waits.
	next := s.requestChat(1, "Otto")
	if next.Chat.State != parley.StateQueued || next.Chat.Queue.Position != 1 {
		t.Fatalf("chat during wrap-up: %v %+v; want waiting", next.Chat.State, next.Chat.Queue)
	}
	// After the wrap-up the agent is ready again and gets it.
	ws.expect("ready again", func(f httpapi.ServerFrame) bool {
		return f.Type == "agent" && f.Agent.Status == parley.StatusReady
	})
	if got := s.offeredTo(next.Chat.ID); got != s.agentID("agent1") {
		t.Fatalf("after wrap-up offered to %d", got)
	}
	var me parley.Agent
	s.must(200, "GET", "/api/v1/me", a1, nil, &me)
	if me.Status != parley.StatusReady {
		t.Fatalf("stored status after wrap-up = %s", me.Status)
	}
}

func TestBusinessHours(t *testing.T) {
	s := newServer(t, fastRouting, 1)
	adminTok := s.login("admin")
	a1 := s.login("agent1")
	s.presence(a1, "available")
	now := time.Now().In(time.UTC)
	day := parley.Weekdays[now.Weekday()]
	// Open today only for an hour that is not now.
	start := (now.Hour() + 2) % 24
	hours := []map[string]string{{"day": day, "open": hhmm(start), "close": hhmm(start + 1)}}
	var g parley.Group
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{
		"closed_message": "Open 9 to 5.", "routing": map[string]any{"time_zone": "UTC", "hours": hours}}, &g)
	if len(g.Routing.Hours) != 1 {
		t.Fatalf("group routing = %+v", g.Routing)
	}
	var e httpapi.ErrorBody
	if code := s.call("POST", "/api/v1/chats", "", map[string]any{"group_id": 1}, &e); code != 409 || e.Error.Code != parley.ECLOSED || e.Error.Message != "Open 9 to 5." {
		t.Fatalf("request outside hours = %d %+v; want 409 closed with the closed message", code, e)
	}
	var st conversation.GroupStatus
	s.must(200, "GET", "/api/v1/groups/1/status", "", nil, &st)
	if st.Open {
		t.Fatal("group status says open outside hours")
	}
	// Open now, but today is a holiday.
	hours = []map[string]string{{"day": day, "open": "00:00", "close": "24:00"}}
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{
		"hours": hours, "holidays": []string{now.Format(time.DateOnly)}}}, nil)
	s.fail(409, parley.ECLOSED, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1})
	// Open all day today: chats are taken.
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"hours": hours}}, nil)
	s.requestChat(1, "Vera")
	// Invalid settings are refused with a clear error.
	s.fail(400, parley.EINVALID, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"time_zone": "Mars/Olympus"}})
	s.fail(400, parley.EINVALID, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"hours": []map[string]string{{"day": "mon", "open": "18:00", "close": "09:00"}}}})
	s.fail(400, parley.EINVALID, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"strategy": "random"}})
}

func hhmm(h int) string {
	return time.Date(0, 1, 1, h%24, 0, 0, 0, time.UTC).Format("15:04")
}

func TestAutoAcceptAndManualPick(t *testing.T) {
	s := newServer(t, fastRouting, 2)
	adminTok := s.login("admin")
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"routing": map[string]any{"auto_accept": true}}, nil)
	s.must(200, "PATCH", "/api/v1/admin/groups/2", adminTok, map[string]any{"routing": map[string]any{"strategy": "manual"}}, nil)
	a1 := s.login("agent1")
	s.presence(a1, "available")
	ws := s.dial(a1, nil)

	auto := s.requestChat(1, "Vera")
	ws.expect("assigned without an offer", func(f httpapi.ServerFrame) bool { return f.Type == "assigned" && f.ChatID == auto.Chat.ID })
	if c, _ := s.store.Chat(t.Context(), auto.Chat.ID); c.State != parley.StateHandling {
		t.Fatalf("auto-accepted chat is %v", c.State)
	}

	manual := s.requestChat(2, "Otto")
	if manual.Chat.State != parley.StateQueued || manual.Chat.Queue.Position != 1 {
		t.Fatalf("manual group chat: %v %+v; want waiting", manual.Chat.State, manual.Chat.Queue)
	}
	var q []conversation.ChatView
	s.must(200, "GET", "/api/v1/groups/2/queue", a1, nil, &q)
	if len(q) != 1 || q[0].ID != manual.Chat.ID || q[0].Visitor == nil || q[0].Visitor.Name != "Otto" {
		t.Fatalf("queue = %+v", q)
	}
	s.fail(403, parley.EFORBIDDEN, "GET", "/api/v1/groups/2/queue", s.login("agent2"), nil)
	var v conversation.ChatView
	s.must(200, "POST", "/api/v1/chats/"+manual.Chat.ID+"/pick", a1, nil, &v)
	if v.State != parley.StateHandling {
		t.Fatalf("picked chat = %v", v.State)
	}
	s.fail(409, parley.ECONFLICT, "POST", "/api/v1/chats/"+manual.Chat.ID+"/pick", a1, nil)
}
