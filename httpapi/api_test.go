package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// TestChatOverHTTP: a visitor requests a chat in Support, agent1 gets it,
// they exchange messages both ways with typing, the visitor leaves, and
// both sides see Terminated with its cause.
func TestChatOverHTTP(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	agentTok := s.login("agent1")
	agent := s.dial(agentTok, nil)
	if agent.ready.Actor == nil || agent.ready.Actor.Agent == nil || agent.ready.Actor.Agent.Login != "agent1" {
		t.Fatalf("agent ready = %+v", agent.ready)
	}
	s.presence(agentTok, "available")

	started := s.requestChat(1, "Vera")
	chatID := started.Chat.ID
	if !strings.HasPrefix(started.VisitorToken, "pv_") || started.Chat.State != parley.StateQueued {
		t.Fatalf("request = %+v", started)
	}
	visitor := s.dial(started.VisitorToken, map[string]int64{chatID: 0})
	visitor.expect("chat snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" && f.Chat.ID == chatID })
	visitor.event("own first message", chatID, isMessage("Hello from Vera"))

	offer := agent.expect("offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == chatID })
	if offer.Chat.Visitor == nil || offer.Chat.Visitor.Name != "Vera" {
		t.Fatalf("offer shows visitor %+v", offer.Chat.Visitor)
	}
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	agent.expect("assigned", func(f httpapi.ServerFrame) bool { return f.Type == "assigned" && f.ChatID == chatID })
	agent.event("visitor's first message", chatID, isMessage("Hello from Vera"))
	joined := visitor.event("agent joined", chatID, func(e *parley.Event) bool { return e.Type == parley.EventJoined && e.From.Kind == parley.PartyAgent })
	if joined.From.Name != "Alice" {
		t.Fatalf("joined = %+v", joined.From)
	}
	visitor.event("handling", chatID, isState(parley.StateHandling))
	visitor.event("welcome message", chatID, isMessage("Welcome!"))

	// Typing both ways: the visitor over the socket, the agent over REST.
	visitor.write(map[string]any{"type": "typing", "chat_id": chatID, "typing": true})
	typing := agent.event("visitor typing", chatID, func(e *parley.Event) bool { return e.Type == parley.EventTyping })
	if !typing.Typing || typing.Seq != 0 || typing.From.Kind != parley.PartyVisitor {
		t.Fatalf("typing = %+v", typing)
	}
	s.must(204, "POST", "/api/v1/chats/"+chatID+"/typing", agentTok, map[string]bool{"typing": true}, nil)
	typing = visitor.event("agent typing", chatID, func(e *parley.Event) bool { return e.Type == parley.EventTyping })
	if typing.From.Name != "Alice" || !typing.Typing {
		t.Fatalf("typing = %+v", typing)
	}

	// Messages both ways.
	sent := visitor.send(chatID, "My order has not arrived.")
	got := agent.event("visitor message", chatID, isMessage("My order has not arrived."))
	if got.Seq != sent.Seq || got.From.Kind != parley.PartyVisitor {
		t.Fatalf("agent got %+v; visitor's ack %+v", got, sent)
	}
	var reply parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Let me check that for you."}, &reply)
	got = visitor.event("agent message", chatID, isMessage("Let me check that for you."))
	if got.Seq != reply.Seq || got.From.Name != "Alice" {
		t.Fatalf("visitor got %+v; stored %+v", got, reply)
	}
	agent.send(chatID, "It ships tomorrow.")
	visitor.event("agent message over the socket", chatID, isMessage("It ships tomorrow."))

	s.must(204, "POST", "/api/v1/chats/"+chatID+"/leave", started.VisitorToken, nil, nil)
	e := visitor.event("visitor sees the end", chatID, isState(parley.StateTerminated))
	if e.State.Cause != parley.CauseVisitorLeft {
		t.Fatalf("visitor sees cause %v; want visitor_left", e.State.Cause)
	}
	// The agent's feed and the chat's stream are separate; either may
	// arrive first.
	var ended, removed bool
	for !ended || !removed {
		f := agent.expect("the end and removed", func(f httpapi.ServerFrame) bool {
			return f.Type == "removed" && f.ChatID == chatID || f.Type == "event" && isState(parley.StateTerminated)(f.Event)
		})
		if f.Type == "removed" {
			removed = true
		} else if ended = true; f.Event.State.Cause != parley.CauseVisitorLeft {
			t.Fatalf("agent sees cause %v; want visitor_left", f.Event.State.Cause)
		}
	}
	var view conversation.ChatView
	s.must(200, "GET", "/api/v1/chats/"+chatID, agentTok, nil, &view)
	if view.State != parley.StateTerminated || view.Cause != parley.CauseVisitorLeft {
		t.Fatalf("chat after leaving: %v %v", view.State, view.Cause)
	}
}

// TestQueueOverHTTP: with agent1 at capacity a second visitor is queued at
// position 1; when agent1 ends the first chat the second is offered to
// agent1; later visitors move up and are told.
func TestQueueOverHTTP(t *testing.T) {
	s := newServer(t, conversation.Config{}, 1)
	agentTok := s.login("agent1")
	agent := s.dial(agentTok, nil)
	s.presence(agentTok, "available")

	first := s.requestChat(1, "First")
	agent.expect("first offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == first.Chat.ID })
	s.must(200, "POST", "/api/v1/chats/"+first.Chat.ID+"/accept", agentTok, nil, nil)

	second := s.requestChat(1, "Second")
	if second.Chat.State != parley.StateQueued || second.Chat.Queue == nil || second.Chat.Queue.Position != 1 {
		t.Fatalf("second chat = %+v queue %+v; want queued at position 1", second.Chat, second.Chat.Queue)
	}
	third := s.requestChat(1, "Third")
	if third.Chat.Queue == nil || third.Chat.Queue.Position != 2 {
		t.Fatalf("third chat queue = %+v; want position 2", third.Chat.Queue)
	}
	fourth := s.requestChat(1, "Fourth")
	thirdWS := s.dial(third.VisitorToken, nil) // no resume points: its active chats
	snap := thirdWS.expect("snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" })
	if snap.Chat.ID != third.Chat.ID || snap.Chat.Queue.Position != 2 {
		t.Fatalf("third visitor's snapshot = %+v", snap.Chat)
	}
	fourthWS := s.dial(fourth.VisitorToken, nil)
	fourthWS.expect("snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" })

	s.must(204, "POST", "/api/v1/chats/"+first.Chat.ID+"/end", agentTok, nil, nil)
	offer := agent.expect("second offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" })
	if offer.ChatID != second.Chat.ID {
		t.Fatalf("offered %s; want the second chat %s", offer.ChatID, second.Chat.ID)
	}
	for _, c := range []struct {
		ws  *wsClient
		id  string
		pos int
	}{{thirdWS, third.Chat.ID, 1}, {fourthWS, fourth.Chat.ID, 2}} {
		// A chat has ended, so the group has a handle time to estimate with.
		e := c.ws.event("queue update", c.id, func(e *parley.Event) bool { return e.Type == parley.EventQueue })
		if e.Queue.Position != c.pos || e.Queue.EstimatedWait < 1 {
			t.Fatalf("queue event = %+v; want position %d and an estimate", e.Queue, c.pos)
		}
	}
	var status conversation.GroupStatus
	s.must(200, "GET", "/api/v1/groups/1/status", "", nil, &status)
	if !status.Open || status.Waiting != 2 || status.EstimatedWait < 1 {
		t.Fatalf("group status = %+v", status)
	}
}

// TestResume drops WebSockets while the other side is sending and checks
// that the reconnected side gets exactly the missed events.
func TestResume(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	agentTok := s.login("agent1")
	s.presence(agentTok, "available")
	started := s.requestChat(1, "Vera")
	chatID := started.Chat.ID
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)

	// check collects events of chatID from c until it has every message in
	// want, and fails on a gap or a duplicate in the sequence numbers.
	check := func(name string, c *wsClient, after int64, want map[string]bool) int64 {
		t.Helper()
		last := after
		for len(want) > 0 {
			e := c.event(name+" events", chatID, func(e *parley.Event) bool { return e.Seq != 0 })
			if e.Seq <= last {
				t.Fatalf("%s: duplicate seq %d after %d", name, e.Seq, last)
			}
			if name == "agent" && e.Seq != last+1 {
				t.Fatalf("%s: gap: seq %d after %d", name, e.Seq, last)
			}
			last = e.Seq
			delete(want, e.Text)
		}
		return last
	}
	burst := func(n int, from string, token string) map[string]bool {
		want := map[string]bool{}
		go func() {
			for i := range n {
				s.call("POST", "/api/v1/chats/"+chatID+"/messages", token, map[string]string{"text": fmt.Sprintf("%s %d", from, i)}, nil)
			}
		}()
		for i := range n {
			want[fmt.Sprintf("%s %d", from, i)] = true
		}
		return want
	}

	for _, side := range []string{"visitor", "agent"} {
		t.Run(side, func(t *testing.T) {
			token, sender, senderTok := started.VisitorToken, "agent", agentTok
			if side == "agent" {
				token, sender, senderTok = agentTok, "visitor", started.VisitorToken
			}
			// Read up to now, then drop the socket in the middle of a burst.
			now := s.lastSeq(chatID)
			c := s.dial(token, map[string]int64{chatID: now})
			want := burst(40, sender+"-"+side, senderTok)
			seen := map[string]bool{}
			last := now
			for len(seen) < 10 {
				e := c.event("first part", chatID, func(e *parley.Event) bool { return e.Seq != 0 })
				if e.Seq <= last {
					t.Fatalf("duplicate seq %d", e.Seq)
				}
				last = e.Seq
				seen[e.Text] = true
				delete(want, e.Text)
			}
			c.conn.CloseNow()
			// Reconnect from the last seq seen: exactly the rest, in order.
			c = s.dial(token, map[string]int64{chatID: last})
			check(side, c, last, want)
			for text := range seen {
				if want[text] {
					t.Fatalf("%q was delivered twice", text)
				}
			}
		})
	}

	t.Run("long-poll", func(t *testing.T) {
		after := s.lastSeq(chatID)
		for i := range 3 {
			s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": fmt.Sprintf("poll %d", i)}, nil)
		}
		var page httpapi.EventsBody
		s.must(200, "GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d", chatID, after), started.VisitorToken, nil, &page)
		if len(page.Events) != 3 || page.Events[0].Text != "poll 0" || page.Events[2].Text != "poll 2" || page.LastSeq != after+3 {
			t.Fatalf("poll after %d = %+v", after, page)
		}
		// A waiting poll returns as soon as the next message is stored.
		done := make(chan httpapi.EventsBody, 1)
		go func() {
			var p httpapi.EventsBody
			s.call("GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d&wait=30", chatID, page.LastSeq), started.VisitorToken, nil, &p)
			done <- p
		}()
		// The poll may start before or after this message; either way it
		// must return it exactly once.
		s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "while waiting"}, nil)
		select {
		case p := <-done:
			if len(p.Events) != 1 || p.Events[0].Text != "while waiting" || p.Events[0].Seq != page.LastSeq+1 {
				t.Fatalf("waiting poll = %+v", p)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the waiting poll did not return the new message")
		}
		// Agents poll the same way and also see agent-only events.
		var ap httpapi.EventsBody
		s.must(200, "GET", fmt.Sprintf("/api/v1/chats/%s/events?after=0", chatID), agentTok, nil, &ap)
		for i, e := range ap.Events {
			if e.Seq != int64(i+1) {
				t.Fatalf("agent poll: event %d has seq %d", i, e.Seq)
			}
		}
	})
}

// TestBadInput sends what a careless or hostile client would and checks
// that each gets a clear error with a code and changes nothing.
func TestBadInput(t *testing.T) {
	s := newServer(t, conversation.Config{MaxMessageLength: 20, MaxAttachmentKB: 1}, 3)
	agentTok := s.login("agent1")
	otherTok := s.login("agent2")
	s.presence(agentTok, "available")
	mine := s.requestChat(1, "Vera")
	chatID := mine.Chat.ID
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	s.presence(agentTok, "away")
	s.presence(otherTok, "available")
	theirs := s.requestChat(1, "Otto")
	vtok := mine.VisitorToken
	before := s.lastSeq(chatID)
	adminTok := s.login("admin")
	var empty, foreign parley.Group
	s.must(201, "POST", "/api/v1/admin/groups", adminTok, map[string]any{"name": "Nobody Home", "closed_message": "We are closed."}, &empty)
	var tenant parley.Tenant
	s.must(201, "POST", "/api/v1/admin/tenants", adminTok, map[string]any{"name": "Other Corp"}, &tenant)
	s.must(201, "POST", "/api/v1/admin/groups", adminTok, map[string]any{"name": "Theirs", "tenant_id": tenant.ID}, &foreign)
	exe := "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"

	cases := []struct {
		name         string
		status       int
		code         string
		method, path string
		token        string
		body         any
	}{
		{"over-long message", 413, parley.ETOOLARGE, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, map[string]string{"text": strings.Repeat("x", 21)}},
		{"oversize attachment", 413, parley.ETOOLARGE, "POST", "/api/v1/chats/" + chatID + "/files?name=big.txt", vtok, strings.Repeat("x", 2000)},
		{"refused type", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/files?name=setup.exe", vtok, exe},
		{"exe renamed to png", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/files?name=cat.png", vtok, exe},
		{"malformed JSON", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, `{"text": "hi"`},
		{"wrong type", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, `{"text": 42}`},
		{"unknown field", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, `{"txt": "hi"}`},
		{"two JSON values", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, `{"text": "a"}{"text": "b"}`},
		{"empty body", 400, parley.EINVALID, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, ""},
		{"oversize body", 413, parley.ETOOLARGE, "POST", "/api/v1/chats/" + chatID + "/messages", vtok, `{"text":"` + strings.Repeat("x", 70000) + `"}`},
		{"unknown chat", 404, parley.ENOTFOUND, "POST", "/api/v1/chats/0192ba3c-8f1e-7abc-9def-0123456789ab/messages", vtok, map[string]string{"text": "hi"}},
		{"garbage chat id", 404, parley.ENOTFOUND, "GET", "/api/v1/chats/..%2f..%2fetc%2fpasswd", vtok, nil},
		{"visitor token on another chat", 403, parley.EFORBIDDEN, "POST", "/api/v1/chats/" + theirs.Chat.ID + "/messages", vtok, map[string]string{"text": "hi"}},
		{"visitor reading another chat", 403, parley.EFORBIDDEN, "GET", "/api/v1/chats/" + theirs.Chat.ID + "/events", vtok, nil},
		{"agent on a chat not theirs", 403, parley.EFORBIDDEN, "POST", "/api/v1/chats/" + chatID + "/messages", otherTok, map[string]string{"text": "hi"}},
		{"agent ending a chat not theirs", 403, parley.EFORBIDDEN, "POST", "/api/v1/chats/" + chatID + "/end", otherTok, nil},
		{"agent accepting a chat not offered", 409, parley.ECONFLICT, "POST", "/api/v1/chats/" + chatID + "/accept", otherTok, nil},
		{"visitor accepting", 403, parley.EFORBIDDEN, "POST", "/api/v1/chats/" + chatID + "/accept", vtok, nil},
		{"no token", 401, parley.EUNAUTHORIZED, "POST", "/api/v1/chats/" + chatID + "/messages", "", map[string]string{"text": "hi"}},
		{"forged token", 401, parley.EUNAUTHORIZED, "POST", "/api/v1/chats/" + chatID + "/messages", "pv_AAAAAAAAAAAAAAAAAAAAAAAAAA", map[string]string{"text": "hi"}},
		{"bad after", 400, parley.EINVALID, "GET", "/api/v1/chats/" + chatID + "/events?after=x", vtok, nil},
		{"negative after", 400, parley.EINVALID, "GET", "/api/v1/chats/" + chatID + "/events?after=-1", vtok, nil},
		{"wait too long", 400, parley.EINVALID, "GET", "/api/v1/chats/" + chatID + "/events?wait=3600", vtok, nil},
		{"visitor using the admin API", 401, parley.EUNAUTHORIZED, "POST", "/api/v1/admin/groups", "", map[string]string{"name": "X"}},
		{"agent using the admin API", 403, parley.EFORBIDDEN, "POST", "/api/v1/admin/groups", agentTok, map[string]string{"name": "X"}},
		{"unknown endpoint", 404, parley.ENOTFOUND, "GET", "/api/v1/nothing", "", nil},
		{"wrong password", 401, parley.EUNAUTHORIZED, "POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": "wrong password!"}},
		{"unknown login", 401, parley.EUNAUTHORIZED, "POST", "/api/v1/auth/login", "", map[string]string{"login": "nobody", "password": "wrong password!"}},
		{"group as string", 400, parley.EINVALID, "POST", "/api/v1/chats", "", `{"group_id":"one"}`},
		{"closed group", 409, parley.ECLOSED, "POST", "/api/v1/chats", "", map[string]any{"group_id": empty.ID}},
		{"another tenant's group", 404, parley.ENOTFOUND, "POST", "/api/v1/chats", "", map[string]any{"group_id": foreign.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.fail(tc.status, tc.code, tc.method, tc.path, tc.token, tc.body)
		})
	}
	s.t = t
	if after := s.lastSeq(chatID); after != before {
		t.Fatalf("refused requests changed the chat: last seq %d → %d", before, after)
	}
	if c, _ := s.store.Chat(context.Background(), theirs.Chat.ID); c.State != parley.StateQueued {
		t.Fatalf("the other visitor's chat changed: %v", c.State)
	}

	// Bad WebSocket frames get error frames and leave the session usable.
	ws := s.dial(vtok, map[string]int64{chatID: s.lastSeq(chatID)})
	for _, frame := range []string{`{"type":"send"}`, `{"type":"nonsense"}`, `not json`, `{"type":"send","chat_id":"` + chatID + `","text":"` + strings.Repeat("y", 21) + `"}`} {
		ws.writeRaw(frame)
		f := ws.expect("error frame", func(f httpapi.ServerFrame) bool { return f.Type == "error" })
		if f.Error == nil || f.Error.Code == "" {
			t.Fatalf("frame %s: %+v", frame, f)
		}
	}
	ws.send(chatID, "still works")
	if after := s.lastSeq(chatID); after != before+1 {
		t.Fatalf("after bad frames and one good message: last seq %d; want %d", after, before+1)
	}
}

func TestWebSocketAuth(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for hello, want := range map[string]websocket.StatusCode{
		`{"type":"hello","token":"pa_forged"}`: 4001,
		`{"type":"hello"}`:                     4001,
		`{"type":"send"}`:                      4002,
		`{"type":"hello","chats":{"x":-1}}`:    4002,
	} {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if got := websocket.CloseStatus(err); got != want {
			t.Fatalf("hello %s: closed with %v (%v); want %d", hello, got, err, want)
		}
	}
	// A page from a foreign origin may not open a socket.
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{"https://evil.example"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v; want 403", resp, err)
	}
}

// TestHTTPDetails covers methods, credentials and cross-origin rules.
func TestHTTPDetails(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3, httpapi.Options{AllowedOrigins: []string{"https://shop.example"}})
	do := func(method, path string, header http.Header, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := do("DELETE", "/api/v1/chats", nil, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("DELETE /api/v1/chats = %d, Allow %q; want 405 with Allow: POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp = do("PUT", "/api/v1/chats/x/messages", nil, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("PUT .../messages = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	agentTok := s.login("agent1")
	if resp := do("GET", "/api/v1/me", http.Header{"Authorization": {"bearer " + agentTok}}, ""); resp.StatusCode != 200 {
		t.Fatalf("lower-case bearer scheme: %d", resp.StatusCode)
	}
	cookie := http.Header{"Cookie": {"parley_session=" + agentTok}}
	if resp := do("GET", "/api/v1/me", cookie, ""); resp.StatusCode != 200 {
		t.Fatalf("session cookie: %d", resp.StatusCode)
	}

	presence := `{"presence":"available"}`
	evil := http.Header{"Cookie": cookie["Cookie"], "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/json"}}
	if resp := do("PUT", "/api/v1/me/presence", evil, presence); resp.StatusCode != 403 {
		t.Fatalf("cross-site write with the cookie: %d; want 403", resp.StatusCode)
	}
	shop := http.Header{"Authorization": {"Bearer " + agentTok}, "Origin": {"https://shop.example"}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/json"}}
	resp = do("PUT", "/api/v1/me/presence", shop, presence)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("allowed origin with a bearer token: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	pre := do("OPTIONS", "/api/v1/chats", http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}}, "")
	if pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a foreign origin was allowed")
	}
	pre = do("OPTIONS", "/api/v1/chats", http.Header{"Origin": {"https://shop.example"}, "Access-Control-Request-Method": {"POST"}}, "")
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("preflight from the shop: %d %v", pre.StatusCode, pre.Header)
	}

	// Downloads carry a verifiable digest.
	started := s.requestChat(1, "Vera")
	var e parley.Event
	s.must(201, "POST", "/api/v1/chats/"+started.Chat.ID+"/files?name=notes.txt", started.VisitorToken, "hello\n", &e)
	resp = do("GET", "/api/v1/chats/"+started.Chat.ID+"/files/"+e.File.ID, http.Header{"Authorization": {"Bearer " + started.VisitorToken}}, "")
	if resp.StatusCode != 200 || resp.Header.Get("Repr-Digest") != "sha-256=:WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=:" {
		t.Fatalf("download: %d, Repr-Digest %q", resp.StatusCode, resp.Header.Get("Repr-Digest"))
	}
}

// A hello naming chats that have ended: their streams end at once while
// the session is still starting (run with -race).
func TestHelloWithEndedChats(t *testing.T) {
	s := newServer(t, conversation.Config{}, 5)
	s.presence(s.login("agent1"), "available")
	first := s.requestChat(1, "V")
	tok := first.VisitorToken
	chats := map[string]int64{first.Chat.ID: 0}
	for range 20 {
		var res httpapi.ChatStartedBody
		s.must(201, "POST", "/api/v1/chats", tok, map[string]any{"group_id": 1, "name": "V"}, &res)
		chats[res.Chat.ID] = 0
	}
	for id := range chats {
		s.must(204, "POST", "/api/v1/chats/"+id+"/leave", tok, nil, nil)
	}
	for range 20 {
		c := s.dial(tok, chats)
		ended := map[string]bool{}
		for len(ended) < len(chats) {
			e := c.expect("the end of every chat", func(f httpapi.ServerFrame) bool {
				return f.Type == "event" && isState(parley.StateTerminated)(f.Event)
			}).Event
			ended[e.ChatID] = true
		}
		c.conn.CloseNow()
	}
}

// A graceful shutdown closes visitors' sockets without writing "visitor
// left" into their chats: they come back after the restart.
func TestShutdownKeepsVisitorsPresent(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	tok := s.login("agent1")
	s.presence(tok, "available")
	res := s.requestChat(1, "V")
	s.must(200, "POST", "/api/v1/chats/"+res.Chat.ID+"/accept", tok, nil, nil)
	v := s.dial(res.VisitorToken, map[string]int64{res.Chat.ID: 0})
	v.expect("snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" })

	s.svc.Drain()
	s.api.Shutdown() // returns when the sessions have ended
	evs, err := s.store.Events(context.Background(), res.Chat.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Notice == parley.NoticeVisitorLeft {
			t.Fatalf("shutdown stored %q in the chat", e.Text)
		}
	}
	// The visitor's socket is closed: its reader ends.
	deadline := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-v.frames:
		case <-deadline:
			t.Fatal("the visitor's socket is still open after the shutdown")
		}
	}
}

// Changing a password ends the agent's other logins; the one that made
// the change stays.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3)
	here, elsewhere := s.login("agent1"), s.login("agent1")
	s.fail(401, parley.EUNAUTHORIZED, "PUT", "/api/v1/me/password", here, map[string]string{"current": "wrong password", "new": "another password 1"})
	s.fail(400, parley.EINVALID, "PUT", "/api/v1/me/password", here, map[string]string{"current": password, "new": "short"})
	s.must(200, "GET", "/api/v1/me", elsewhere, nil, nil) // refused changes end nothing
	s.must(204, "PUT", "/api/v1/me/password", here, map[string]string{"current": password, "new": "another password 1"}, nil)
	s.must(200, "GET", "/api/v1/me", here, nil, nil)
	s.fail(401, parley.EUNAUTHORIZED, "GET", "/api/v1/me", elsewhere, nil)
	s.fail(401, parley.EUNAUTHORIZED, "POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": password})
	s.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": "another password 1"}, nil)
}
