package conversation_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/turncred"
)

// stepClock is a wall clock that the test moves forward by hand.
type stepClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) conversation.Timer {
	return time.AfterFunc(d, f)
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

// signal sends a call signal and fails the test on an error.
func (f *fixture) signal(a conversation.Actor, chatID, js string) *parley.Event {
	f.t.Helper()
	e, err := f.svc.Signal(context.Background(), a, chatID, []byte(js))
	if err != nil {
		f.t.Fatalf("signal %s: %v", js, err)
	}
	return e
}

func callOf(t *testing.T, e *parley.Event) parley.CallSignal {
	t.Helper()
	sig, ok := e.CallOf()
	if !ok {
		t.Fatalf("event %+v carries no call signal", e)
	}
	return sig
}

// live reads the ephemeral events a cursor gets within a short wait.
func live(t *testing.T, cur *conversation.Cursor) []parley.Event {
	t.Helper()
	var out []parley.Event
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		evs, err := cur.Next(context.Background(), 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq == 0 && e.Type == parley.EventRTC {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

const offerSDP = `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n`

func TestCallLifecycle(t *testing.T) {
	clk := &stepClock{}
	f := newFixture(t, conversation.Config{Clock: clk})
	ctx := context.Background()
	chatID, visitor := f.handled("Vera")

	invite := f.signal(visitor, chatID, `{"action":"invite","media":"video"}`)
	sig := callOf(t, invite)
	if invite.Type != parley.EventSignal || invite.Seq == 0 || sig.Call == "" || sig.Media != "video" {
		t.Fatalf("invite stored as %+v (%+v)", invite, sig)
	}
	call := sig.Call
	accept := f.signal(f.alice, chatID, `{"action":"accept","call":"`+call+`"}`)
	if s := callOf(t, accept); s.Action != "accept" || accept.From.AgentID != f.alice.AgentID() {
		t.Fatalf("accept stored as %+v", accept)
	}

	// The offer reaches alice, not the visitor who sent it.
	agentCur, err := f.svc.OpenCursor(ctx, f.alice, chatID, accept.Seq)
	if err != nil {
		t.Fatal(err)
	}
	defer agentCur.Close()
	visitorCur, err := f.svc.OpenCursor(ctx, visitor, chatID, accept.Seq)
	if err != nil {
		t.Fatal(err)
	}
	defer visitorCur.Close()
	if e := f.signal(visitor, chatID, `{"action":"offer","call":"`+call+`","sdp":"`+offerSDP+`"}`); e != nil {
		t.Fatalf("an offer was stored: %+v", e)
	}
	got := live(t, agentCur)
	if len(got) != 1 || got[0].To == nil || got[0].To.AgentID != f.alice.AgentID() || callOf(t, &got[0]).SDP == "" {
		t.Fatalf("alice got %+v; want the offer addressed to her", got)
	}
	f.signal(f.alice, chatID, `{"action":"media","call":"`+call+`","audio":false}`)
	got = live(t, visitorCur)
	if len(got) != 1 || callOf(t, &got[0]).Audio == nil || *callOf(t, &got[0]).Audio {
		t.Fatalf("the visitor got %+v; want alice's microphone off (and not its own offer)", got)
	}
	f.signal(f.alice, chatID, `{"action":"media","call":"`+call+`","screen":true}`)
	got = live(t, visitorCur)
	if len(got) != 1 || callOf(t, &got[0]).Screen == nil || !*callOf(t, &got[0]).Screen {
		t.Fatalf("the visitor got %+v; want alice sharing her screen", got)
	}

	clk.advance(4*time.Minute + 12*time.Second)
	end := f.signal(visitor, chatID, `{"action":"hangup","call":"`+call+`"}`)
	if s := callOf(t, end); s.Outcome != parley.OutcomeCompleted || s.Duration != 252 || s.Media != "video" {
		t.Fatalf("hang-up stored as %+v", s)
	}
	// The call is over: its signals are refused, a new one may start.
	_, err = f.svc.Signal(ctx, visitor, chatID, []byte(`{"action":"candidate","call":"`+call+`","candidate":{"candidate":""}}`))
	wantCode(t, err, parley.ENOTFOUND)
	f.signal(f.alice, chatID, `{"action":"invite","media":"audio"}`)

	text, err := f.svc.Transcript(ctx, f.alice, chatID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Vera: Video call, 4 min 12 s") {
		t.Errorf("transcript:\n%s\nwant the call with its duration", text)
	}
	// The audio call still ringing when the chat ends is missed.
	if err := f.svc.End(ctx, f.alice, chatID); err != nil {
		t.Fatal(err)
	}
	evs := f.events(f.alice, chatID)
	last := evs[len(evs)-2]
	if s := callOf(t, &last); s.Action != parley.CallEnd || s.Outcome != parley.OutcomeMissed || s.Media != "audio" {
		t.Errorf("event before the end: %+v; want the audio call missed", s)
	}
}

func TestCallOutcomes(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	chatID, visitor := f.handled("Vera")
	ringing := func(by conversation.Actor, media string) string {
		t.Helper()
		return callOf(t, f.signal(by, chatID, `{"action":"invite","media":"`+media+`"}`)).Call
	}
	id := ringing(f.alice, "audio")
	// Only the visitor answers an agent's call.
	_, err := f.svc.Signal(context.Background(), f.alice, chatID, []byte(`{"action":"accept","call":"`+id+`"}`))
	wantCode(t, err, parley.EFORBIDDEN)
	if s := callOf(t, f.signal(visitor, chatID, `{"action":"decline","call":"`+id+`"}`)); s.Outcome != parley.OutcomeDeclined {
		t.Errorf("decline: %+v", s)
	}
	id = ringing(visitor, "video")
	if s := callOf(t, f.signal(visitor, chatID, `{"action":"hangup","call":"`+id+`"}`)); s.Outcome != parley.OutcomeCanceled {
		t.Errorf("the caller hanging up while it rings: %+v; want canceled", s)
	}
	id = ringing(visitor, "video")
	if s := callOf(t, f.signal(f.alice, chatID, `{"action":"hangup","call":"`+id+`"}`)); s.Outcome != parley.OutcomeDeclined {
		t.Errorf("the called side hanging up while it rings: %+v; want declined", s)
	}
	// A call ended by the chat's end after it was answered is completed.
	id = ringing(visitor, "audio")
	f.signal(f.alice, chatID, `{"action":"accept","call":"`+id+`"}`)
	if err := f.svc.Leave(context.Background(), visitor, chatID); err != nil {
		t.Fatal(err)
	}
	text, err := f.svc.Transcript(context.Background(), f.alice, chatID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Audio call, declined", "Video call, canceled", "Video call, declined", "System: Audio call, 0 s"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
}

// Signals from outside the call, malformed or oversized, are refused with
// a clear error and change nothing.
func TestSignalRefused(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	chatID, visitor := f.handled("Vera")
	_, stranger := f.request(2, "Stella")
	call := callOf(t, f.signal(visitor, chatID, `{"action":"invite","media":"video"}`)).Call
	mk := func(action, extra string) string {
		return `{"action":"` + action + `","call":"` + call + `"` + extra + `}`
	}
	before := f.chat(chatID).LastSeq
	for _, c := range []struct {
		name  string
		actor conversation.Actor
		js    string
		code  string
	}{
		{"an agent not in the chat", f.bob, mk("accept", ""), parley.EFORBIDDEN},
		{"another visitor", stranger, mk("hangup", ""), parley.EFORBIDDEN},
		{"a second invite", f.alice, `{"action":"invite","media":"audio"}`, parley.ECONFLICT},
		{"an offer before the answer", visitor, mk("offer", `,"sdp":"`+offerSDP+`"`), parley.ECONFLICT},
		{"the caller accepting", visitor, mk("accept", ""), parley.EFORBIDDEN},
		{"an unknown call", f.alice, `{"action":"accept","call":"nope"}`, parley.ENOTFOUND},
		{"not JSON", visitor, `{"action":`, parley.EINVALID},
		{"an unknown field", visitor, mk("hangup", `,"evil":1`), parley.EINVALID},
		{"an outcome from a client", visitor, mk("hangup", `,"outcome":"completed","duration":9999`), parley.EINVALID},
		{"an unknown action", visitor, mk("transfer", ""), parley.EINVALID},
		{"an invite without media", visitor, `{"action":"invite"}`, parley.EINVALID},
		{"an SDP that is not one", visitor, mk("offer", `,"sdp":"hello"`), parley.EINVALID},
		{"an SDP with a bad line", visitor, mk("offer", `,"sdp":"v=0\r\n<script>\r\n"`), parley.EINVALID},
		{"an oversized SDP", visitor, mk("offer", `,"sdp":"v=0\r\na=`+strings.Repeat("x", parley.MaxSDP)+`"`), parley.ETOOLARGE},
		{"an oversized candidate", visitor, mk("candidate", `,"candidate":{"candidate":"candidate:`+strings.Repeat("1", parley.MaxCandidate)+`"}`), parley.ETOOLARGE},
		{"a candidate that is not one", visitor, mk("candidate", `,"candidate":{"candidate":"rm -rf /"}`), parley.EINVALID},
	} {
		_, err := f.svc.Signal(ctx, c.actor, chatID, []byte(c.js))
		if parley.ErrorCode(err) != c.code || parley.ErrorMessage(err) == "" {
			t.Errorf("%s: %v; want code %s with a message", c.name, err, c.code)
		}
	}
	if after := f.chat(chatID).LastSeq; after != before {
		t.Errorf("refused signals changed the log: last seq %d, was %d", after, before)
	}
	// The call still rings: the refusals did not disturb it.
	f.signal(f.alice, chatID, mk("accept", ""))
}

func TestCallICE(t *testing.T) {
	f := newFixture(t, conversation.Config{ICE: conversation.ICEConfig{
		Servers: []conversation.ICEServer{{URLs: []string{"stun:stun.example.org:3478"}}},
		TURN:    []string{"turn:turn.example.org:3478?transport=udp"},
		Secret:  "shared-secret",
	}})
	ctx := context.Background()
	chatID, visitor := f.handled("Vera")
	call := callOf(t, f.signal(visitor, chatID, `{"action":"invite","media":"video"}`)).Call

	_, err := f.svc.CallICE(ctx, f.bob, chatID, call)
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = f.svc.CallICE(ctx, visitor, chatID, "another-call")
	wantCode(t, err, parley.ENOTFOUND)

	ice, err := f.svc.CallICE(ctx, visitor, chatID, call)
	if err != nil {
		t.Fatal(err)
	}
	if len(ice.Servers) != 2 || ice.Servers[0].Username != "" || ice.Servers[1].Username == "" {
		t.Fatalf("ICE servers %+v; want the STUN server and the TURN server with credentials", ice.Servers)
	}
	turn := ice.Servers[1]
	user, exp, err := turncred.Parse(turn.Username, time.Now())
	if err != nil || user != chatID+":"+call+":v" || turn.Credential != turncred.Password("shared-secret", turn.Username) {
		t.Fatalf("TURN credentials %+v (user %q, err %v); want the visitor's for this call", turn, user, err)
	}
	if d := time.Until(exp); d > conversation.DefaultCredentialTTL || d < conversation.DefaultCredentialTTL-time.Minute {
		t.Errorf("credentials expire in %v; want %v", d, conversation.DefaultCredentialTTL)
	}
	if !f.svc.CallLive(ctx, chatID, call) {
		t.Error("the ringing call is not live")
	}
	// Alice may answer, so she may fetch them while it rings.
	if ice, err := f.svc.CallICE(ctx, f.alice, chatID, call); err != nil || !strings.HasSuffix(mustUser(t, ice), ":a"+jsonInt(f.alice.AgentID())) {
		t.Fatalf("alice's ICE: %+v %v", ice, err)
	}
	f.signal(visitor, chatID, `{"action":"hangup","call":"`+call+`"}`)
	if f.svc.CallLive(ctx, chatID, call) {
		t.Error("the call is live after its hang-up")
	}
	_, err = f.svc.CallICE(ctx, visitor, chatID, call)
	wantCode(t, err, parley.ENOTFOUND)
}

func mustUser(t *testing.T, ice *conversation.ICE) string {
	t.Helper()
	user, _, err := turncred.Parse(ice.Servers[len(ice.Servers)-1].Username, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return user
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestOverviewCalls: the supervisors' overview shows a chat's call while
// it rings (since the invite) and while it is live (since the answer),
// and no more once it ends.
func TestOverviewCalls(t *testing.T) {
	clk := &stepClock{}
	f := newFixture(t, conversation.Config{Clock: clk})
	ctx := context.Background()
	sue := f.supervisor()
	chatID, visitor := f.handled("Vera")
	calls := func() []*conversation.CallOverview {
		t.Helper()
		ov, err := f.svc.Overview(ctx, sue)
		if err != nil {
			t.Fatal(err)
		}
		return ov.Calls
	}
	if got := calls(); len(got) != 0 {
		t.Fatalf("calls before any: %+v", got)
	}

	invite := f.signal(visitor, chatID, `{"action":"invite","media":"video"}`)
	call := callOf(t, invite).Call
	got := calls()
	if len(got) != 1 || got[0].ChatID != chatID || got[0].Media != "video" || got[0].State != "ringing" ||
		got[0].Caller != parley.PartyVisitor || !got[0].Since.Equal(invite.At) {
		t.Fatalf("while ringing: %+v; want the visitor's video call ringing since %v", got, invite.At)
	}
	clk.advance(5 * time.Second)
	accept := f.signal(f.alice, chatID, `{"action":"accept","call":"`+call+`"}`)
	got = calls()
	if len(got) != 1 || got[0].State != "live" || !got[0].Since.Equal(accept.At) {
		t.Fatalf("once answered: %+v; want it live since %v", got, accept.At)
	}
	f.signal(f.alice, chatID, `{"action":"hangup","call":"`+call+`"}`)
	if got := calls(); len(got) != 0 {
		t.Fatalf("after the hang-up: %+v", got)
	}
}
