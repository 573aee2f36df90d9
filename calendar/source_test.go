package calendar_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/calendar"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/integration"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/webhook"
)

// stepClock is moved by the test. Its timers never fire: nothing in these
// tests waits for one, and the service's own timeouts (idle visitors, the
// agent's grace without a console) must not interfere while time jumps.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(time.Duration, func()) conversation.Timer { return stopped{} }

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type stopped struct{}

func (stopped) Stop() bool { return false }

// The meeting is 10:00 to 11:00 UTC on the test's day.
const feed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Parley test//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:planning@example.com\r\nSUMMARY:Planning\r\n" +
	"DTSTART:20310505T100000Z\r\nDTEND:20310505T110000Z\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

type fixture struct {
	srv   *testserver.Server
	clock *stepClock
	src   *calendar.Source
	vera  string // Vera's token
	admin string
}

func start(t *testing.T) *fixture {
	t.Helper()
	fetches := 0
	var mu sync.Mutex
	ics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/calendar")
		_, _ = w.Write([]byte(feed))
	}))
	t.Cleanup(ics.Close)
	clk := &stepClock{now: time.Date(2031, 5, 5, 9, 50, 0, 0, time.UTC)}
	vera := testserver.Agent("vera", "Vera Lynn", 1)
	vera.CalendarURL = ics.URL + "/vera.ics"
	vera.Phone = "+49 89 1234-201"
	admin := testserver.Agent("boss", "Boss")
	admin.Role = parley.RoleAdmin
	srv := testserver.Start(t, testserver.Options{
		Config:      conversation.Config{Clock: clk},
		Groups:      []*parley.Group{{ID: 1, Name: "Support"}},
		Agents:      []*parley.Agent{vera, admin},
		Integration: &webhook.Options{},
	})
	f := &fixture{srv: srv, clock: clk, src: calendar.New(srv.Svc, calendar.Options{Clock: clk, Location: time.UTC})}
	f.vera = srv.Login("vera")
	f.admin = srv.Login("boss")
	srv.Presence(f.vera, "available", "ready")
	return f
}

// check runs the calendar source once at the clock's time.
func (f *fixture) check(t *testing.T) {
	t.Helper()
	if err := f.src.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// me returns Vera's presence and reason as her console reads them, and
// as the supervisor's overview shows them.
func (f *fixture) presence(t *testing.T) (presence, reason string) {
	t.Helper()
	var me parley.Agent
	f.srv.Must(http.StatusOK, "GET", "/api/v1/me", f.vera, nil, &me)
	var ov conversation.Overview
	f.srv.Must(http.StatusOK, "GET", "/api/v1/supervisor/overview", f.admin, nil, &ov)
	for _, a := range ov.Agents {
		if a.ID == me.ID && (string(a.Presence) != string(me.Presence) || a.PresenceReason != me.PresenceReason) {
			t.Errorf("the supervisor sees %s/%q, the agent %s/%q", a.Presence, a.PresenceReason, me.Presence, me.PresenceReason)
		}
	}
	return string(me.Presence), me.PresenceReason
}

// request asks for a chat in Support and returns it.
func (f *fixture) request(t *testing.T, name string) string {
	t.Helper()
	var res httpapi.ChatStartedBody
	f.srv.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name, "message": "Hello"}, &res)
	return res.Chat.ID
}

// offeredTo returns whom the chat is offered to now (0: nobody). Routing
// places a chat before the request is answered, so no wait is needed.
func (f *fixture) offeredTo(t *testing.T, chatID string) int64 {
	t.Helper()
	c, err := f.srv.Store.Chat(context.Background(), chatID)
	if err != nil {
		t.Fatal(err)
	}
	return c.OfferedTo
}

// An available agent with a meeting in its calendar is away with reason
// meeting and offered nothing; when the meeting ends it is available and
// the waiting chat is offered to it.
func TestCalendarMeetingHoldsOffers(t *testing.T) {
	f := start(t)
	f.check(t)
	if p, r := f.presence(t); p != "available" || r != "" {
		t.Fatalf("before the meeting: %s/%q, want available", p, r)
	}

	f.clock.Advance(15 * time.Minute) // 10:05, in the meeting
	f.check(t)
	if p, r := f.presence(t); p != "away" || r != parley.ReasonMeeting {
		t.Fatalf("in the meeting: %s/%q, want away/meeting", p, r)
	}
	chat := f.request(t, "Visitor One")
	if to := f.offeredTo(t, chat); to != 0 {
		t.Fatalf("a chat was offered to agent %d during the meeting", to)
	}

	// Her own choice stays hers: available is held by the meeting, away
	// is kept.
	f.srv.Presence(f.vera, "available", "")
	if p, r := f.presence(t); p != "away" || r != parley.ReasonMeeting {
		t.Fatalf("choosing available in the meeting: %s/%q, want away/meeting", p, r)
	}

	f.clock.Advance(56 * time.Minute) // 11:01, the meeting is over
	f.check(t)
	if p, r := f.presence(t); p != "available" || r != "" {
		t.Fatalf("after the meeting: %s/%q, want available", p, r)
	}
	if got := f.srv.OfferedChat(f.vera); got != chat {
		t.Fatalf("offered %s after the meeting, want the waiting chat %s", got, chat)
	}
}

// A phone system's "on a call" makes an available agent away with reason
// call; "ended" brings it back and routing resumes. The agent is named by
// its phone number in another spelling.
func TestTelephonyCallHoldsOffers(t *testing.T) {
	f := start(t)
	var key integration.NewKey
	f.srv.Must(http.StatusCreated, "POST", "/integration/v1/admin/api-keys", f.admin, map[string]string{"name": "PBX"}, &key)
	call := func(state string, want int) integration.CallAnswer {
		t.Helper()
		var ans integration.CallAnswer
		f.srv.Must(want, "POST", "/integration/v1/telephony/calls", key.Key, map[string]string{"phone": "+4989 1234201", "state": state}, &ans)
		return ans
	}

	ans := call("on_call", http.StatusOK)
	if !ans.OnCall || ans.Presence != parley.PresenceAway || ans.PresenceReason != parley.ReasonCall {
		t.Fatalf("on a call: %+v, want away/call", ans)
	}
	if p, r := f.presence(t); p != "away" || r != parley.ReasonCall {
		t.Fatalf("on a call the agent shows %s/%q, want away/call", p, r)
	}
	chat := f.request(t, "Visitor Two")
	if to := f.offeredTo(t, chat); to != 0 {
		t.Fatalf("a chat was offered to agent %d during the call", to)
	}
	ans = call("ended", http.StatusOK)
	if ans.OnCall || ans.Presence != parley.PresenceAvailable || ans.PresenceReason != "" {
		t.Fatalf("after the call: %+v, want available", ans)
	}
	if got := f.srv.OfferedChat(f.vera); got != chat {
		t.Fatalf("offered %s after the call, want the waiting chat %s", got, chat)
	}

	// A call during a meeting: the call is the reason shown; when it ends
	// the meeting still holds the agent.
	f.clock.Advance(15 * time.Minute)
	f.check(t)
	call("on_call", http.StatusOK)
	if _, r := f.presence(t); r != parley.ReasonCall {
		t.Errorf("a call in a meeting shows %q, want call", r)
	}
	call("ended", http.StatusOK)
	if p, r := f.presence(t); p != "away" || r != parley.ReasonMeeting {
		t.Errorf("the call ended in the meeting: %s/%q, want away/meeting", p, r)
	}

	// An agent who chose away stays away when the sources end.
	f.srv.Presence(f.vera, "away", "")
	f.clock.Advance(time.Hour)
	f.check(t)
	if p, r := f.presence(t); p != "away" || r != "" {
		t.Errorf("chosen away after the meeting: %s/%q, want away", p, r)
	}

	// Bad reports change nothing and say why.
	for _, body := range []map[string]string{
		{"phone": "201", "state": "ringing"},
		{"login": "vera", "phone": "201", "state": "on_call"},
		{"state": "on_call"},
	} {
		if st, _ := f.srv.Do("POST", "/integration/v1/telephony/calls", key.Key, body); st != http.StatusBadRequest {
			t.Errorf("report %v = %d, want 400", body, st)
		}
	}
	if st, _ := f.srv.Do("POST", "/integration/v1/telephony/calls", key.Key, map[string]string{"login": "nobody", "state": "on_call"}); st != http.StatusNotFound {
		t.Errorf("an unknown agent = %d, want 404", st)
	}
	if st, _ := f.srv.Do("POST", "/integration/v1/telephony/calls", f.vera, map[string]string{"login": "vera", "state": "on_call"}); st != http.StatusUnauthorized {
		t.Errorf("an agent's token instead of an API key = %d, want 401", st)
	}
}
