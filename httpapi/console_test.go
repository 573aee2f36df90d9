package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/smtptest"
	"github.com/parleychat/parley/mail"
	"github.com/parleychat/parley/transcript"
)

// addSupervisor creates a supervisor "boss" and returns its token.
func (s *server) addSupervisor() string {
	s.t.Helper()
	boss := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "boss", DisplayName: "Bea Boss", Role: parley.RoleSupervisor,
		Capacity: 1, Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{}}
	if err := s.svc.Seed(context.Background(), nil, []*parley.Agent{boss}, password); err != nil {
		s.t.Fatal(err)
	}
	return s.login("boss")
}

// handledChat starts a chat of visitor name in Support and has agent1
// accept it. It returns the chat ID, the visitor token and the agent's
// token and socket.
func (s *server) handledChat(name, email string) (chatID, visitorTok, agentTok string, agent *wsClient) {
	s.t.Helper()
	agentTok = s.login("agent1")
	agent = s.dial(agentTok, nil)
	s.presence(agentTok, "available")
	var res httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name, "email": email, "message": "Hello"}, &res)
	chatID = res.Chat.ID
	agent.expect("offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == chatID })
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	agent.expect("assigned", func(f httpapi.ServerFrame) bool { return f.Type == "assigned" && f.ChatID == chatID })
	return chatID, res.VisitorToken, agentTok, agent
}

// TestWhisperNeverReachesTheVisitor whispers into a chat while the visitor
// follows it on every transport, and checks that each transport skips
// the whisper while the agent gets it.
func TestWhisperNeverReachesTheVisitor(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, agentTok, agent := s.handledChat("Vera", "vera@example.net")
	const secret = "psst: offer a voucher"

	visitorWS := s.dial(vtok, map[string]int64{chatID: 0})
	visitorWS.event("welcome", chatID, isMessage("Welcome!"))
	before := s.lastSeq(chatID)

	// A long-poll waits from before the whisper.
	type pollResult struct {
		body httpapi.EventsBody
		code int
	}
	polled := make(chan pollResult, 1)
	go func() {
		var b httpapi.EventsBody
		code := s.call("GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d&wait=20", chatID, before), vtok, nil, &b)
		polled <- pollResult{b, code}
	}()
	// Whether the whisper lands before the poll subscribes or while it
	// waits, the poll must skip it and return with the marker below.

	var whisper parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/whisper", bossTok, map[string]string{"text": secret}, &whisper)
	if whisper.Audience != parley.AudienceAgents || whisper.Seq != before+1 {
		t.Fatalf("whisper stored as %+v", whisper)
	}
	// The agent replies with a whisper of its own, then writes to the
	// visitor: that message is the marker every transport must reach.
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/whisper", agentTok, map[string]string{"text": "ok, " + secret}, nil)
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "We can offer a voucher."}, nil)

	// Control: the agent sees the whisper live.
	agent.event("whisper", chatID, isMessage(secret))

	leaks := func(events []parley.Event) []parley.Event {
		var out []parley.Event
		for _, e := range events {
			if strings.Contains(e.Text, "psst") || e.Audience != parley.AudienceAll {
				out = append(out, e)
			}
		}
		return out
	}
	t.Run("websocket live", func(t *testing.T) {
		var seen []parley.Event
		visitorWS.expect("marker", func(f httpapi.ServerFrame) bool {
			if f.Event != nil {
				seen = append(seen, *f.Event)
			}
			return f.Type == "event" && f.Event.Text == "We can offer a voucher."
		})
		if l := leaks(seen); len(l) > 0 {
			t.Errorf("the visitor's socket delivered %+v", l)
		}
	})
	t.Run("long-poll waiting", func(t *testing.T) {
		var r pollResult
		select {
		case r = <-polled:
		case <-time.After(25 * time.Second):
			t.Fatal("the long-poll did not return")
		}
		if r.code != 200 || len(r.body.Events) == 0 {
			t.Fatalf("poll = %d %+v", r.code, r.body)
		}
		if l := leaks(r.body.Events); len(l) > 0 {
			t.Errorf("the waiting long-poll returned %+v", l)
		}
	})
	t.Run("long-poll reading everything", func(t *testing.T) {
		var b httpapi.EventsBody
		s.must(200, "GET", "/api/v1/chats/"+chatID+"/events?after=0", vtok, nil, &b)
		if l := leaks(b.Events); len(l) > 0 {
			t.Errorf("the poll returned %+v", l)
		}
		if b.LastSeq != s.lastSeq(chatID) {
			t.Errorf("last_seq %d; want %d (skipped events still advance the cursor)", b.LastSeq, s.lastSeq(chatID))
		}
		var agentView httpapi.EventsBody
		s.must(200, "GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil, &agentView)
		if len(leaks(agentView.Events)) != 2 {
			t.Errorf("the agent's poll has %d whispers; want 2", len(leaks(agentView.Events)))
		}
	})
	t.Run("websocket resume", func(t *testing.T) {
		for _, from := range []int64{0, before, before + 1} {
			resumed := s.dial(vtok, map[string]int64{chatID: from})
			var seen []parley.Event
			resumed.expect("marker", func(f httpapi.ServerFrame) bool {
				if f.Event != nil {
					seen = append(seen, *f.Event)
				}
				return f.Type == "event" && f.Event.Text == "We can offer a voucher."
			})
			if l := leaks(seen); len(l) > 0 {
				t.Errorf("resuming after %d delivered %+v", from, l)
			}
		}
	})
	t.Run("transcript", func(t *testing.T) {
		s.fail(403, parley.EFORBIDDEN, "GET", "/api/v1/chats/"+chatID+"/transcript", vtok, nil)
		var text string
		code := s.callText("GET", "/api/v1/chats/"+chatID+"/transcript", agentTok, &text)
		if code != 200 || !strings.Contains(text, "Bea Boss (to agents only): "+secret) {
			t.Errorf("agent transcript %d %q", code, text)
		}
		r := s.renderedTranscript(chatID)
		if strings.Contains(r.Text+r.HTML+r.Subject, "psst") || !strings.Contains(r.Text, "We can offer a voucher.") {
			t.Errorf("the mailed transcript is %q", r.Text)
		}
	})
	// Visitors cannot whisper; agents who may not read the chat neither.
	s.fail(403, parley.EFORBIDDEN, "POST", "/api/v1/chats/"+chatID+"/whisper", vtok, map[string]string{"text": "x"})
	s.fail(403, parley.EFORBIDDEN, "POST", "/api/v1/chats/"+chatID+"/whisper", s.login("agent2"), map[string]string{"text": "x"})
	s.fail(400, parley.EINVALID, "POST", "/api/v1/chats/"+chatID+"/whisper", bossTok, map[string]string{"text": "  "})
}

// callText makes a request and returns the status and the body as text.
func (s *server) callText(method, path, token string, out *string) int {
	s.t.Helper()
	status, data := s.ts.Do(method, path, token, nil)
	*out = string(data)
	return status
}

// renderedTranscript queues a transcript of the chat and returns what
// was stored in the outbox.
func (s *server) renderedTranscript(chatID string) *parley.OutboxMail {
	s.t.Helper()
	var q httpapi.TranscriptQueuedBody
	adminTok := s.login("admin")
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"transcript": map[string]any{"sender": "chat@example.com"}}, nil)
	s.must(202, "POST", "/api/v1/chats/"+chatID+"/transcript", adminTok, map[string]string{"email": "audit@example.com"}, &q)
	m, err := s.store.Mail(context.Background(), q.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// TestTranscriptMailSurvivesSMTPOutage runs the whole transcript flow
// against a real SMTP conversation: the group mails on close with an HTML
// template; the visitor also asks for a copy to another address. The
// SMTP server is down at first; both mails are retried, and each arrives
// exactly once when the server is back, with every placeholder replaced
// and the visitor's text escaped.
func TestTranscriptMailSurvivesSMTPOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	s := newServer(t, conversation.Config{}, 2)
	ob, err := mail.NewOutbox(s.store, mail.Options{Host: "127.0.0.1", Port: port, TLS: "none",
		Poll: 20 * time.Millisecond, Backoff: 40 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ob.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	adminTok := s.login("admin")
	tpl := `<html><body><h1>$ServiceGroup$ ($ServiceGroup.Email$)</h1><p>Dear $Customer$ ($Customer.Name$, $Customer.Email$, $Customer.Number$),</p>` +
		`<p>on $Date$ at $Time$ you talked to $Agent$ / $Agent.Name$ / $Agent.FirstName$ $Agent.LastName$ / $Agent.ChatName$.</p>` +
		`<p>Received $Received$ = $Received.Date$ $Received.Time$</p>$Transcript$</body></html>`
	s.must(200, "PATCH", "/api/v1/admin/groups/1", adminTok, map[string]any{"transcript": map[string]any{
		"sender": "support@example.com", "subject": "Chat with $Agent$ on $Date$", "template": tpl, "html": true,
		"on_close": true, "locale": "en-GB"}}, nil)
	s.must(200, "PATCH", "/api/v1/admin/agents/"+fmt.Sprint(s.agentID("agent1")), adminTok,
		map[string]any{"first_name": "Alice", "last_name": "Archer", "chat_name": "Ali"}, nil)

	agentTok := s.login("agent1")
	agent := s.dial(agentTok, nil)
	s.presence(agentTok, "available")
	var res httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": `Vera <b>"V"</b>`, "email": "vera@example.net",
		"phone": "+44 20 7946 0000", "message": `<script>alert("x")</script> & more`}, &res)
	chatID, vtok := res.Chat.ID, res.VisitorToken
	agent.expect("offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == chatID })
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Happy to help."}, nil)
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/whisper", adminTok, map[string]string{"text": "psst, secret"}, nil)

	// The visitor asks for a copy (the widget's call), with bad input first.
	s.fail(400, parley.EINVALID, "POST", "/api/v1/chats/"+chatID+"/transcript", vtok, map[string]string{"email": "not an address"})
	s.fail(400, parley.EINVALID, "POST", "/api/v1/chats/"+chatID+"/transcript", vtok, map[string]string{"email": "a@b.c\r\nBcc: x@y.z"})
	s.fail(401, parley.EUNAUTHORIZED, "POST", "/api/v1/chats/"+chatID+"/transcript", "", map[string]string{"email": "x@example.com"})
	var asked httpapi.TranscriptQueuedBody
	s.must(202, "POST", "/api/v1/chats/"+chatID+"/transcript", vtok, map[string]string{"email": "copy@example.org"}, &asked)
	if asked.ID == 0 || asked.Status != parley.MailPending {
		t.Fatalf("queued %+v", asked)
	}
	s.must(204, "POST", "/api/v1/chats/"+chatID+"/end", agentTok, nil, nil)

	// Both mails fail at least twice while nothing listens.
	var onClose *parley.OutboxMail
	waitFor(t, "two failed attempts of both mails", func() bool {
		a, err := s.store.Mail(context.Background(), asked.ID)
		if err != nil || a.Attempts < 2 || a.Status != parley.MailPending {
			return false
		}
		// The automatic mail was queued after the visitor's.
		m, err := s.store.Mail(context.Background(), asked.ID+1)
		if err != nil || m.ChatID != chatID || m.To != "vera@example.net" {
			return false
		}
		onClose = m
		return m.Attempts >= 2 && m.Status == parley.MailPending
	})

	srv, err := smtptest.Listen(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the SMTP server cannot come back on its port: %v", err)
	}
	t.Cleanup(srv.Close)
	waitFor(t, "both mails sent", func() bool {
		a, err1 := s.store.Mail(context.Background(), asked.ID)
		b, err2 := s.store.Mail(context.Background(), onClose.ID)
		return err1 == nil && err2 == nil && a.Status == parley.MailSent && b.Status == parley.MailSent
	})
	if n, err := ob.Pass(context.Background(), time.Now().Add(24*time.Hour)); n != 0 || err != nil {
		t.Fatalf("a later pass sent %d (%v)", n, err)
	}
	// Ending is final; the automatic transcript cannot be queued twice.
	s.fail(409, parley.ECLOSED, "POST", "/api/v1/chats/"+chatID+"/end", agentTok, nil)

	msgs := srv.Messages()
	byTo := map[string]smtptest.Message{}
	for _, m := range msgs {
		byTo[m.To[0]] = m
	}
	if len(msgs) != 2 || len(byTo) != 2 {
		t.Fatalf("the server received %d messages for %d recipients; want 2 and 2", len(msgs), len(byTo))
	}
	for to, m := range byTo {
		if to != "vera@example.net" && to != "copy@example.org" {
			t.Errorf("mail to %q", to)
		}
		if m.From != "support@example.com" {
			t.Errorf("envelope from %q", m.From)
		}
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		today := time.Now().UTC().Format("02/01/2006")
		if subj := pm.Header.Get("Subject"); subj != "Chat with Alice on "+today {
			t.Errorf("subject %q", subj)
		}
		parts, err := m.Parts()
		if err != nil {
			t.Fatal(err)
		}
		html, text := parts["text/html"], parts["text/plain"]
		for _, p := range transcript.Placeholders {
			if strings.Contains(html, p) {
				t.Errorf("%s is not replaced in the HTML", p)
			}
		}
		for _, want := range []string{
			"<h1>Support (support@example.com)</h1>",
			"Dear Vera &lt;b&gt;&#34;V&#34;&lt;/b&gt; (Vera &lt;b&gt;&#34;V&#34;&lt;/b&gt;, vera@example.net, +44 20 7946 0000)",
			"talked to Alice / Alice / Alice Archer / Ali.",
			"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more",
			"Happy to help.",
			"on " + today + " at ",
		} {
			if !strings.Contains(html, want) {
				t.Errorf("the HTML lacks %q:\n%s", want, html)
			}
		}
		if strings.Contains(html, "<script>") || strings.Contains(html, "<b>") {
			t.Errorf("visitor text is not escaped in the HTML:\n%s", html)
		}
		if strings.Contains(html+text, "psst") {
			t.Error("the mail holds the whisper")
		}
		if !strings.Contains(text, `<script>alert("x")</script> & more`) {
			t.Errorf("the text part lacks the visitor's message:\n%s", text)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMonitorOverWebSocket has a supervisor open a chat read-only over the
// WebSocket: the supervisor sees both sides and whispers, does not join
// (the visitor is not told), and cannot write until barging in.
func TestMonitorOverWebSocket(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, agentTok, agent := s.handledChat("Vera", "")
	boss := s.dial(bossTok, nil)
	boss.write(map[string]any{"type": "subscribe", "chat_id": chatID, "after": 0})
	boss.expect("chat snapshot", func(f httpapi.ServerFrame) bool { return f.Type == "chat" && f.Chat.ID == chatID })
	boss.event("history", chatID, isMessage("Hello"))

	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", vtok, map[string]string{"text": "Is anyone there?"}, nil)
	boss.event("visitor's message live", chatID, isMessage("Is anyone there?"))
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Yes, Alice here."}, nil)
	boss.event("agent's message live", chatID, isMessage("Yes, Alice here."))
	s.fail(403, parley.EFORBIDDEN, "POST", "/api/v1/chats/"+chatID+"/messages", bossTok, map[string]string{"text": "hi"})

	var view conversation.ChatView
	s.must(200, "GET", "/api/v1/chats/"+chatID, bossTok, nil, &view)
	for _, p := range view.Participants {
		if p.Kind == parley.PartyAgent && p.Name == "Bea Boss" {
			t.Error("monitoring made the supervisor a participant")
		}
	}
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/barge", bossTok, nil, nil)
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", bossTok, map[string]string{"text": "Bea, supervisor, joining."}, nil)
	agent.event("supervisor's message", chatID, isMessage("Bea, supervisor, joining."))

	// Internal chat between agents arrives on the other agent's socket.
	var m parley.InternalMessage
	s.must(201, "POST", fmt.Sprintf("/api/v1/agents/%d/messages", s.agentID("agent1")), bossTok, map[string]string{"text": "Nice work."}, &m)
	f := agent.expect("internal message", func(f httpapi.ServerFrame) bool { return f.Type == "internal" })
	if f.Message == nil || f.Message.Text != "Nice work." || f.Message.From.Name != "Bea Boss" {
		t.Errorf("internal frame %+v", f)
	}
}

// TestOverviewPushed: a logged-in supervisor's socket gets the live
// overview when it changes: a chat starts waiting, then is taken.
func TestOverviewPushed(t *testing.T) {
	s := newServer(t, conversation.Config{OverviewPush: 50 * time.Millisecond}, 2)
	bossTok := s.addSupervisor()
	boss := s.dial(bossTok, nil)
	s.presence(bossTok, "away") // logged in, not taking chats
	waiting := func(n int) func(httpapi.ServerFrame) bool {
		return func(f httpapi.ServerFrame) bool {
			return f.Type == "overview" && f.Overview != nil && len(f.Overview.Groups) == 2 && f.Overview.Groups[0].Waiting == n
		}
	}
	boss.expect("an overview with nobody waiting", waiting(0))
	agentTok := s.login("agent1")
	agent := s.dial(agentTok, nil)
	s.presence(agentTok, "away")
	var res httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hi"}, &res)
	// agent1 is away: the chat waits in Support.
	boss.expect("an overview with one waiting", waiting(1))
	s.presence(agentTok, "available")
	agent.expect("offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == res.Chat.ID })
	s.must(200, "POST", "/api/v1/chats/"+res.Chat.ID+"/accept", agentTok, nil, nil)
	f := boss.expect("an overview with the chat taken", func(f httpapi.ServerFrame) bool {
		if !waiting(0)(f) {
			return false
		}
		for _, a := range f.Overview.Agents {
			if a.Login == "agent1" && len(a.Chats) == 1 {
				return true
			}
		}
		return false
	})
	if f.Overview.At.IsZero() {
		t.Error("the pushed overview has no time")
	}
	// Agents get no overview.
	s.must(201, "POST", "/api/v1/chats/"+res.Chat.ID+"/messages", agentTok, map[string]string{"text": "marker"}, nil)
	agent.expect("marker", func(f httpapi.ServerFrame) bool {
		if f.Type == "overview" {
			t.Fatal("an agent got an overview")
		}
		return f.Type == "event" && f.Event.Text == "marker"
	})
}
