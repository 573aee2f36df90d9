package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// supervisor adds a supervisor "sue" and returns her.
func (f *fixture) supervisor() conversation.Actor {
	f.t.Helper()
	sue := newAgent("sue", "Sue", 1)
	sue.Role = parley.RoleSupervisor
	if err := f.svc.Seed(context.Background(), nil, []*parley.Agent{sue}, testPassword); err != nil {
		f.t.Fatal(err)
	}
	return f.agent("sue")
}

// handled starts a chat in Support that alice accepts.
func (f *fixture) handled(name string) (string, conversation.Actor) {
	f.t.Helper()
	f.available(f.alice)
	id, v := f.request(1, name)
	if _, err := f.svc.Accept(context.Background(), f.alice, id); err != nil {
		f.t.Fatal(err)
	}
	return id, v
}

func TestKPIs(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	sue := f.supervisor()
	since := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	v := &parley.Visitor{ID: "kpi-visitor", TenantID: parley.DefaultTenantID, Name: "K"}
	if err := f.store.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	n := 0
	mk := func(group int64, created time.Time, wait, handle time.Duration, state parley.State, cause parley.Cause) {
		t.Helper()
		n++
		c := &parley.Chat{ID: fmt.Sprintf("kpi-%d", n), TenantID: parley.DefaultTenantID, GroupID: group, VisitorID: v.ID,
			State: state, Cause: cause, CreatedAt: created, QueuedAt: created}
		if wait > 0 {
			c.AcceptedAt = created.Add(wait)
		}
		if state == parley.StateTerminated {
			c.EndedAt = created.Add(wait + handle)
		}
		if _, err := f.store.CreateChat(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	at := since.Add(9 * time.Hour)
	mk(1, at, 10*time.Second, 100*time.Second, parley.StateTerminated, parley.CauseAgentEnded)
	mk(1, at.Add(time.Minute), 30*time.Second, 200*time.Second, parley.StateTerminated, parley.CauseVisitorLeft)
	mk(1, at.Add(2*time.Minute), 20*time.Second, 0, parley.StateHandling, parley.CauseNone) // answered, still open
	mk(1, at.Add(3*time.Minute), 0, 50*time.Second, parley.StateTerminated, parley.CauseVisitorLeft)
	mk(1, at.Add(4*time.Minute), 0, 0, parley.StateQueued, parley.CauseNone)
	mk(2, at.Add(5*time.Minute), 0, 0, parley.StateTerminated, parley.CauseGroupClosed)
	mk(1, since.Add(-time.Hour), 5*time.Second, 10*time.Second, parley.StateTerminated, parley.CauseAgentEnded) // yesterday

	rep, err := f.svc.KPIs(ctx, sue, since, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	byGroup := map[int64]*conversation.KPI{}
	for _, k := range rep.Groups {
		byGroup[k.GroupID] = k
	}
	s := byGroup[1]
	// The period reaches back months: one bucket per day.
	if rep.BucketSeconds != 86400 || len(s.Buckets) < 2 || !s.Buckets[0].At.Equal(since) ||
		s.Buckets[0] != (conversation.KPIBucket{At: since, Offered: 5, Handled: 3, Abandoned: 1}) || s.Buckets[1].Offered != 0 {
		t.Errorf("buckets of %d s: %s", rep.BucketSeconds, jsonOf(s.Buckets[:min(2, len(s.Buckets))]))
	}
	s.Buckets = nil
	// Handled: 3 (waits 10, 30, 20 s; two ended after 100 and 200 s).
	// Abandoned: 1. In time (≤ 20 s): 2 of 4 answered or abandoned.
	want := conversation.KPI{GroupID: 1, GroupName: "Support", Offered: 5, Handled: 3, Abandoned: 1, Waiting: 1,
		AverageWait: 20, AverageHandle: 150, ServiceLevel: 0.5, CSAT: -1}
	if got := jsonOf(s); got != jsonOf(want) {
		t.Errorf("Support KPIs %s; want %s", got, jsonOf(want))
	}
	sales := byGroup[2]
	if sales.Offered != 1 || sales.Handled != 0 || sales.Abandoned != 0 || sales.ServiceLevel != -1 {
		t.Errorf("Sales KPIs %s", jsonOf(sales))
	}
	if rep.Total.Offered != 6 || rep.Total.Handled != 3 || rep.Total.ServiceLevel != 0.5 || rep.ServiceLevelSeconds != 20 {
		t.Errorf("total %s", jsonOf(rep.Total))
	}
	// A wider threshold counts the 30 s answer in time.
	rep, err = f.svc.KPIs(ctx, sue, since, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Groups[0].ServiceLevel != 0.75 {
		t.Errorf("service level within 30 s = %v; want 0.75", rep.Groups[0].ServiceLevel)
	}
	// A period within two days has hourly buckets.
	recent := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	mk(2, recent.Add(90*time.Minute), 3*time.Second, time.Minute, parley.StateTerminated, parley.CauseAgentEnded)
	rep, err = f.svc.KPIs(ctx, sue, recent, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.BucketSeconds != 3600 || len(rep.Total.Buckets) != 6 || rep.Total.Buckets[1].Handled != 1 || rep.Total.Offered != 1 || rep.ServiceLevelSeconds != 20 {
		t.Errorf("hourly: %d s, %s", rep.BucketSeconds, jsonOf(rep.Total))
	}
	_, err = f.svc.KPIs(ctx, sue, time.Now().Add(time.Hour), 0)
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.KPIs(ctx, f.alice, since, 0)
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = f.svc.KPIs(ctx, sue, since, -time.Second)
	wantCode(t, err, parley.EINVALID)

	ov, err := f.svc.Overview(ctx, sue)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Groups[0].LongestWait < int(time.Since(at.Add(4*time.Minute))/time.Second)-5 {
		t.Errorf("longest wait %d s", ov.Groups[0].LongestWait)
	}
	_, err = f.svc.Overview(ctx, f.bob)
	wantCode(t, err, parley.EFORBIDDEN)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOverviewLive(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	sue := f.supervisor()
	id, _ := f.handled("Vera")
	f.request(2, "Max") // Sales: alice, its only member, is at capacity; it waits
	ov, err := f.svc.Overview(ctx, sue)
	if err != nil {
		t.Fatal(err)
	}
	var alice *conversation.AgentOverview
	for _, a := range ov.Agents {
		if a.Login == "alice" {
			alice = a
		}
	}
	if alice == nil || alice.Load != 1 || alice.Capacity != 1 || len(alice.Chats) != 1 || alice.Chats[0] != id || alice.Presence != parley.PresenceAvailable {
		t.Errorf("alice in the overview: %s", jsonOf(alice))
	}
	if g := ov.Groups[0]; g.GroupName != "Support" || g.AgentsLoggedIn != 1 || g.AgentsReady != 1 || !g.Open || g.Waiting != 0 {
		t.Errorf("Support in the overview: %s", jsonOf(g))
	}
	if g := ov.Groups[1]; g.GroupName != "Sales" || g.Waiting != 1 || g.LongestWait < 0 {
		t.Errorf("Sales in the overview: %s", jsonOf(g))
	}
}

func TestBargeConferenceAndWhisper(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	sue := f.supervisor()
	id, visitor := f.handled("Vera")

	// Bob is offline: he cannot be added.
	_, err := f.svc.Conference(ctx, f.alice, id, f.bob.Agent.ID)
	wantCode(t, err, parley.ECONFLICT)
	f.available(f.bob)
	feed, err := f.svc.OpenAgentFeed(ctx, f.bob)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	_, err = f.svc.Conference(ctx, f.bob, id, f.bob.Agent.ID)
	wantCode(t, err, parley.EFORBIDDEN) // bob does not handle the chat
	if _, err := f.svc.Conference(ctx, f.alice, id, f.bob.Agent.ID); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, feed, conversation.NoticeAssigned, id)
	if mine, err := f.svc.AgentChats(ctx, f.bob); err != nil || len(mine) != 1 || mine[0].ID != id {
		t.Errorf("bob's chats after being added: %v %v", mine, err)
	}
	if _, err := f.svc.Send(ctx, f.bob, id, "Bob from billing here.", conversation.SendOptions{}); err != nil {
		t.Fatalf("the added agent cannot write: %v", err)
	}
	_, err = f.svc.Conference(ctx, f.alice, id, f.bob.Agent.ID)
	wantCode(t, err, parley.ECONFLICT)

	if _, err := f.svc.Barge(ctx, f.alice, id); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("an agent barged in: %v", err)
	}
	if _, err := f.svc.Barge(ctx, sue, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, sue, id, "Supervisor here.", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Whisper(ctx, sue, id, "coach: stay calm", conversation.SendOptions{ClientID: "w1"}); err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Whisper(ctx, sue, id, "coach: stay calm", conversation.SendOptions{ClientID: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(ctx, sue, id); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Send(ctx, sue, id, "still here?", conversation.SendOptions{})
	wantCode(t, err, parley.EFORBIDDEN)
	wantCode(t, f.svc.Leave(ctx, f.alice, id), parley.ECONFLICT)

	seen := func(a conversation.Actor) string {
		var b strings.Builder
		for _, e := range f.events(a, id) {
			fmt.Fprintf(&b, "%s:%s:%s|", e.Type, e.From.Name, e.Text)
		}
		return b.String()
	}
	vis, agent := seen(visitor), seen(f.alice)
	for _, want := range []string{"joined:Bob:", "message:Bob:Bob from billing here.", "joined:Sue:", "message:Sue:Supervisor here.", "left:Sue:"} {
		if !strings.Contains(vis, want) {
			t.Errorf("the visitor does not see %q in %s", want, vis)
		}
	}
	if strings.Contains(vis, "coach") {
		t.Errorf("the visitor sees the whisper: %s", vis)
	}
	if strings.Count(agent, "coach: stay calm") != 1 || again.Seq == 0 {
		t.Errorf("the whisper is not in the agent's view exactly once: %s", agent)
	}

	// Ending the chat takes the added agent out too.
	if err := f.svc.End(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, feed, conversation.NoticeRemoved, id)
	_, err = f.svc.Whisper(ctx, sue, id, "too late", conversation.SendOptions{})
	wantCode(t, err, parley.ECLOSED)
}

func waitNotice(t *testing.T, feed *conversation.Subscription, typ, chatID string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-feed.Ready():
		case <-deadline:
			t.Fatalf("no %s notice for %s", typ, chatID)
		}
		msgs, _ := feed.Take()
		for _, m := range msgs {
			var n conversation.AgentNotice
			if err := json.Unmarshal(m, &n); err == nil && n.Type == typ && n.ChatID == chatID {
				return
			}
		}
	}
}

func TestInternalMessages(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	feed, err := f.svc.OpenAgentFeed(ctx, f.bob)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	m, err := f.svc.SendInternal(ctx, f.alice, f.bob.Agent.ID, "Lunch?")
	if err != nil {
		t.Fatal(err)
	}
	if m.From.AgentID != f.alice.Agent.ID || m.To.AgentID != f.bob.Agent.ID || m.Text != "Lunch?" {
		t.Errorf("message %+v", m)
	}
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case <-feed.Ready():
		case <-deadline:
			t.Fatal("bob's feed did not get the message")
		}
		msgs, _ := feed.Take()
		for _, raw := range msgs {
			var n conversation.AgentNotice
			if json.Unmarshal(raw, &n) == nil && n.Type == conversation.NoticeInternal && n.Message != nil && n.Message.Text == "Lunch?" {
				got = true
			}
		}
	}
	if _, err := f.svc.SendInternal(ctx, f.bob, f.alice.Agent.ID, "Sure!"); err != nil {
		t.Fatal(err)
	}
	hist, err := f.svc.InternalHistory(ctx, f.alice, f.bob.Agent.ID, 0, 0)
	if err != nil || len(hist) != 2 || hist[0].Text != "Sure!" || hist[1].ID != m.ID {
		t.Fatalf("history %s, %v", jsonOf(hist), err)
	}
	older, err := f.svc.InternalHistory(ctx, f.bob, f.alice.Agent.ID, hist[0].ID, 5)
	if err != nil || len(older) != 1 || older[0].Text != "Lunch?" {
		t.Errorf("older page %s, %v", jsonOf(older), err)
	}
	_, err = f.svc.InternalHistory(ctx, f.alice, f.bob.Agent.ID, 0, 501)
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.SendInternal(ctx, f.alice, f.alice.Agent.ID, "me")
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.SendInternal(ctx, f.alice, 999, "x")
	wantCode(t, err, parley.ENOTFOUND)
	_, err = f.svc.SendInternal(ctx, f.alice, f.bob.Agent.ID, "   ")
	wantCode(t, err, parley.EINVALID)
}

func TestCannedImportAndExpansion(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	sue := f.supervisor()
	bad := "title,text,shortcut\nHello,Hi {visitor.name},hi\nBroken,,x\n"
	_, err := f.svc.ImportCanned(ctx, sue, 1, "csv", strings.NewReader(bad))
	wantCode(t, err, parley.EINVALID)
	if !strings.Contains(parley.ErrorMessage(err), "response 2") {
		t.Errorf("the error does not name the row: %v", err)
	}
	if list, _ := f.svc.CannedResponses(ctx, sue, 0); len(list) != 0 {
		t.Fatalf("a failed import stored %d responses", len(list))
	}
	_, err = f.svc.ImportCanned(ctx, sue, 1, "json", strings.NewReader(`[{"title": "x", "text": "y", "colour": "red"}]`))
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.ImportCanned(ctx, f.alice, 1, "csv", strings.NewReader("title,text\na,b\n"))
	wantCode(t, err, parley.EFORBIDDEN)

	good := "\ufefftext,title,folder,shortcut\n\"Hello {visitor.name}, I am {agent.name} from {group.name}.\",Hello,Greetings,hi\n\"Bye, {visitor.name}!\",Bye,,bye\n"
	res, err := f.svc.ImportCanned(ctx, sue, 1, "csv", strings.NewReader(good))
	if err != nil || res.Created != 2 || res.Updated != 0 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	res, err = f.svc.ImportCanned(ctx, sue, 1, "csv", strings.NewReader(good))
	if err != nil || res.Created != 0 || res.Updated != 2 {
		t.Fatalf("re-import = %+v, %v; want 2 updated", res, err)
	}
	// Sales-only responses are not offered in a Support chat, nor to bob
	// (not in Sales).
	sales := &parley.CannedResponse{GroupID: 2, Title: "Sales hello", Text: "x"}
	if err := f.svc.CreateCanned(ctx, sue, sales); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.svc.CannedResponses(ctx, f.bob, 0); len(list) != 2 {
		t.Errorf("bob sees %d responses; want the 2 of Support", len(list))
	}

	id, _ := f.handled("Vera <3")
	list, err := f.svc.ChatCanned(ctx, f.alice, id)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, c := range list {
		texts[c.Shortcut] = c.Text
	}
	if len(list) != 2 || texts["hi"] != "Hello Vera <3, I am Alice from Support." || texts["bye"] != "Bye, Vera <3!" {
		t.Errorf("expanded %v", texts)
	}
	// Expansion does not change what is stored.
	stored, _ := f.svc.CannedResponses(ctx, sue, 1)
	for _, c := range stored {
		if strings.Contains(c.Text, "Vera") {
			t.Errorf("the stored text was changed: %q", c.Text)
		}
	}
}

func TestTranscriptOnClose(t *testing.T) {
	f := newFixture(t, conversation.Config{MailFrom: "chat@example.com"})
	ctx := context.Background()
	admin := newAgent("root", "Root", 1)
	admin.Role = parley.RoleAdmin
	if err := f.svc.Seed(ctx, nil, []*parley.Agent{admin}, testPassword); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := f.svc.UpdateGroup(ctx, f.agent("root"), 1, conversation.GroupUpdate{Transcript: &parley.GroupTranscript{OnClose: on}}); err != nil {
		t.Fatal(err)
	}
	f.available(f.alice)
	res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "Vera", Email: "vera@example.net"}, Message: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Chat.ID
	if _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Whisper(ctx, f.alice, id, "note to self", conversation.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.End(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	// The automatic mail is the first in the outbox; its key makes it once.
	m, err := f.store.Mail(ctx, 1)
	if err != nil {
		t.Fatalf("no mail queued on close: %v", err)
	}
	if m.ChatID != id || m.To != "vera@example.net" || m.From != "chat@example.com" || m.Key != "close:"+id {
		t.Errorf("queued %+v", m)
	}
	if !strings.Contains(m.Text, "Hi") || strings.Contains(m.Text, "note to self") {
		t.Errorf("mail text %q", m.Text)
	}
	again := &parley.OutboxMail{TenantID: parley.DefaultTenantID, Key: "close:" + id, MessageID: "x@y", From: "a@b.c", To: "d@e.f"}
	if created, err := f.store.EnqueueMail(ctx, again); err != nil || created {
		t.Errorf("a second close mail was stored: %v %v", created, err)
	}

	// A visitor without an address gets no automatic mail, and the chat
	// still ends cleanly.
	id2, _ := f.request(1, "Anon")
	if _, err := f.svc.Accept(ctx, f.alice, id2); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.End(ctx, f.alice, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Mail(ctx, 2); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("a mail was queued for a visitor without an address: %v", err)
	}
}

// TestVisitorHistory: bob handled a returning visitor's first chat; alice
// takes the second and may list and read the first while she serves the
// visitor, and not after.
func TestVisitorHistory(t *testing.T) {
	f := newFixture(t, conversation.Config{PreferredWait: -1})
	ctx := context.Background()
	f.available(f.bob)
	first, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "Vera"}, Message: "First visit"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Accept(ctx, f.bob, first.Chat.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.End(ctx, f.bob, first.Chat.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPresence(ctx, f.bob, conversation.PresenceChange{Presence: parley.PresenceOffline}); err != nil {
		t.Fatal(err)
	}
	f.available(f.alice)
	second, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, VisitorToken: first.VisitorToken, Message: "Back again"})
	if err != nil {
		t.Fatal(err)
	}
	// Offered, not yet accepted: alice may already look.
	waitFor(t, "offer to alice", func() bool { return f.chat(second.Chat.ID).OfferedTo == f.alice.Agent.ID })
	hist, err := f.svc.VisitorHistory(ctx, f.alice, second.Chat.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Chats) != 1 || hist.Chats[0].ID != first.Chat.ID {
		t.Fatalf("history %s", jsonOf(hist))
	}
	if _, err := f.svc.Accept(ctx, f.alice, second.Chat.ID); err != nil {
		t.Fatal(err)
	}
	text, err := f.svc.Transcript(ctx, f.alice, first.Chat.ID)
	if err != nil || !strings.Contains(text, "First visit") {
		t.Fatalf("alice cannot read the earlier chat: %q %v", text, err)
	}
	_, err = f.svc.VisitorHistory(ctx, f.alice, second.Chat.ID, 101)
	wantCode(t, err, parley.EINVALID)
	if err := f.svc.End(ctx, f.alice, second.Chat.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Transcript(ctx, f.alice, first.Chat.ID)
	wantCode(t, err, parley.EFORBIDDEN)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVisitorTranscriptRequestsAreBounded(t *testing.T) {
	f := newFixture(t, conversation.Config{MailFrom: "chat@example.com"})
	ctx := context.Background()
	id, visitor := f.handled("Vera")
	first, err := f.svc.MailTranscript(ctx, visitor, id, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.MailTranscript(ctx, visitor, id, "A@example.com")
	if err != nil || again.ID != first.ID {
		t.Fatalf("asking again for the same address queued %v (%v); want mail %d", again, err, first.ID)
	}
	for _, to := range []string{"b@example.com", "c@example.com"} {
		if _, err := f.svc.MailTranscript(ctx, visitor, id, to); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.svc.MailTranscript(ctx, visitor, id, "d@example.com")
	wantCode(t, err, parley.ECONFLICT)
	_, err = f.svc.MailTranscript(ctx, visitor, id, "")
	wantCode(t, err, parley.EINVALID) // the visitor gave no address
	// Agents are not bounded: each request is a mail.
	ids := map[int64]bool{}
	for range 4 {
		m, err := f.svc.MailTranscript(ctx, f.alice, id, "team@example.com")
		if err != nil {
			t.Fatal(err)
		}
		ids[m.ID] = true
	}
	if len(ids) != 4 {
		t.Errorf("4 agent requests queued %d mails", len(ids))
	}
}

func TestTransferTakesAddedAgentsAlong(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	sue := f.supervisor()
	id, visitor := f.handled("Vera")
	if _, err := f.svc.Barge(ctx, sue, id); err != nil {
		t.Fatal(err)
	}
	f.available(f.bob)
	if err := f.svc.Transfer(ctx, f.alice, id, conversation.Transfer{AgentID: f.bob.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	c := f.chat(id)
	if p := c.Participant(parley.PartyAgent, sue.Agent.ID); p != nil {
		t.Errorf("the supervisor is still in the transferred chat: %+v", p)
	}
	_, err := f.svc.Send(ctx, sue, id, "hello?", conversation.SendOptions{})
	wantCode(t, err, parley.EFORBIDDEN)
	var left []string
	for _, e := range f.events(visitor, id) {
		if e.Type == parley.EventLeft {
			left = append(left, e.From.Name)
		}
	}
	if strings.Join(left, ",") != "Alice,Sue" {
		t.Errorf("left events %v; want Alice, Sue", left)
	}
}

// TestCloseMailRecoveredAtStart: a chat ended (in a group that mails on
// close) but its mail was never queued, as when the process stopped in
// between. The next start queues it, once.
func TestCloseMailRecoveredAtStart(t *testing.T) {
	cfg := conversation.Config{MailFrom: "chat@example.com"}
	f := newFixture(t, cfg)
	ctx := context.Background()
	g, err := f.store.Group(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	g.Transcript.OnClose = true
	if err := f.store.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	v := &parley.Visitor{ID: "lost-mail-visitor", TenantID: parley.DefaultTenantID, Name: "Vera", Email: "vera@example.net"}
	if err := f.store.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	mk := func(id string, ended time.Time) {
		c := &parley.Chat{ID: id, TenantID: parley.DefaultTenantID, GroupID: 1, VisitorID: v.ID, State: parley.StateTerminated,
			Cause: parley.CauseAgentEnded, CreatedAt: ended.Add(-10 * time.Minute), EndedAt: ended}
		events := []parley.Event{{Type: parley.EventMessage, At: c.CreatedAt, From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}, Text: "lost?"}}
		if _, err := f.store.CreateChat(ctx, c, events); err != nil {
			t.Fatal(err)
		}
	}
	mk("recent-end", now.Add(-5*time.Minute))
	mk("old-end", now.Add(-3*time.Hour))
	for range 2 { // restarting twice queues it once
		f.close()
		f.open(cfg, false)
	}
	m, err := f.store.Mail(ctx, 1)
	if err != nil || m.Key != "close:recent-end" || m.To != "vera@example.net" || !strings.Contains(m.Text, "lost?") {
		t.Fatalf("mail 1 = %+v, %v", m, err)
	}
	if _, err := f.store.Mail(ctx, 2); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("a second mail was queued: %v", err)
	}
}
