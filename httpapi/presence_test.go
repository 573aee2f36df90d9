package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

func (s *server) agentPresence(login string) parley.Presence {
	s.t.Helper()
	a, err := s.store.AgentByLogin(context.Background(), parley.DefaultTenantID, login)
	if err != nil {
		s.t.Fatal(err)
	}
	return a.Presence
}

func (s *server) waiting(tok string, group int64) int {
	s.t.Helper()
	var ov conversation.Overview
	s.must(200, "GET", "/api/v1/supervisor/overview", tok, nil, &ov)
	for _, g := range ov.Groups {
		if g.GroupID == group {
			return g.Waiting
		}
	}
	s.t.Fatalf("group %d not in the overview", group)
	return 0
}

// offered waits until agent's socket is offered chatID.
func offered(agent *wsClient, chatID string) {
	agent.t.Helper()
	agent.expect("offer of "+chatID, func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == chatID })
}

// TestGhostAgentOfferWaits: while a chat is offered to an agent whose
// console closed without signing out, the supervisor counts it as waiting.
func TestGhostAgentOfferWaits(t *testing.T) {
	s := newServer(t, conversation.Config{AgentGrace: time.Hour, OfferTimeout: -1}, 2)
	boss := s.addSupervisor()
	tok := s.login("agent1")
	ws := s.dial(tok, nil)
	s.presence(tok, "available")
	chat := s.requestChat(1, "Vera")
	offered(ws, chat.Chat.ID)
	ws.conn.CloseNow() // the browser is closed; no sign-out

	if n := s.waiting(boss, 1); n != 1 {
		t.Errorf("overview: %d waiting in Support while the only chat is offered to a closed console; want 1", n)
	}
	c, err := s.store.Chat(context.Background(), chat.Chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.OfferedTo != ws.ready.Actor.Agent.ID {
		t.Fatalf("the chat is offered to %d; the test wants it offered to agent1 within the hour's grace", c.OfferedTo)
	}
}

// TestGhostAgentGoesAway: an agent's socket closes without sign-out; after
// the grace the agent is away, the visitor is told a place in line, and
// the chat is offered to the next agent who goes ready.
func TestGhostAgentGoesAway(t *testing.T) {
	s := newServer(t, conversation.Config{AgentGrace: 200 * time.Millisecond, OfferTimeout: -1}, 2)
	boss := s.addSupervisor()
	tok1, tok2 := s.login("agent1"), s.login("agent2")
	ws1, ws2 := s.dial(tok1, nil), s.dial(tok2, nil)
	s.presence(tok1, "available")
	s.presence(tok2, "away")
	chat := s.requestChat(1, "Vera")
	id := chat.Chat.ID
	offered(ws1, id)
	visitor := s.dial(chat.VisitorToken, map[string]int64{id: 0})

	ws1.conn.CloseNow()
	q := visitor.event("a place in line", id, func(e *parley.Event) bool {
		return e.Type == parley.EventQueue && e.Queue != nil && e.Queue.Position >= 1
	})
	if q.Queue.Position != 1 {
		t.Errorf("the visitor is told position %d; want 1", q.Queue.Position)
	}
	if p := s.agentPresence("agent1"); p != parley.PresenceAway {
		t.Errorf("agent1 is %s after the grace; want away", p)
	}
	if n := s.waiting(boss, 1); n != 1 {
		t.Errorf("overview: %d waiting; want 1", n)
	}
	s.presence(tok2, "available")
	offered(ws2, id)

	s.must(200, "POST", "/api/v1/chats/"+id+"/accept", tok2, nil, nil)
}

// TestLongPollAgentPresent: a console on the long-poll fallback counts as
// connected while it keeps polling, and is away a grace after it stops.
func TestLongPollAgentPresent(t *testing.T) {
	s := newServer(t, conversation.Config{AgentGrace: 2 * time.Second}, 2)
	tok := s.login("agent1")
	s.presence(tok, "available")
	poll := func() { s.must(200, "GET", "/api/v1/me/chats?wait=1", tok, nil, nil) }
	for range 4 { // 4 s of polls: longer than the grace
		poll()
	}
	if p := s.agentPresence("agent1"); p != parley.PresenceAvailable {
		t.Fatalf("agent1 is %s while polling; want available", p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.agentPresence("agent1") != parley.PresenceAway {
		if time.Now().After(deadline) {
			t.Fatal("agent1 is not away 10 s after the polls stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
