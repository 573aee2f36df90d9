package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/throttle"
)

// clock is a settable clock for the throttle.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// raw makes a request with extra headers and returns the response and
// its body.
func (s *server) raw(method, path, token string, body any, header http.Header) (*http.Response, string) {
	s.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(data))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func throttledServer(t *testing.T, proxies throttle.Proxies) (*server, *clock, *syncBuffer) {
	clk := &clock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	s := newServer(t, conversation.Config{}, 2, httpapi.Options{
		PingInterval:   time.Minute,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		LoginLimits:    throttle.Limits{Failures: 3, Lockout: time.Minute, MaxLockout: 10 * time.Minute},
		TrustedProxies: proxies,
		Now:            clk.Now,
	})
	return s, clk, logs
}

// retryAfter checks a 429 and returns its Retry-After in seconds.
func retryAfter(t *testing.T, resp *http.Response, body string) int {
	t.Helper()
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || secs <= 0 || !strings.Contains(body, `"too_many"`) {
		t.Fatalf("= %d Retry-After %q %s; want 429 too_many with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	return secs
}

// TestLoginThrottlePerAccount: after three wrong passwords the account is
// locked, even for the right password and from other forwarded addresses,
// until Retry-After; failures are logged without the password.
func TestLoginThrottlePerAccount(t *testing.T) {
	s, clk, logs := throttledServer(t, nil)
	for i := range 3 {
		// Rotating X-Forwarded-For from an untrusted peer changes nothing.
		xff := http.Header{"X-Forwarded-For": {"203.0.113." + strconv.Itoa(i)}}
		resp, body := s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "agent1", "password": "wrong-guess-" + strconv.Itoa(i)}, xff)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d = %d %s; want 401", i, resp.StatusCode, body)
		}
	}
	right := map[string]string{"login": "agent1", "password": password}
	resp, body := s.raw("POST", "/api/v1/auth/login", "", right, http.Header{"X-Forwarded-For": {"198.51.100.7"}})
	wait := retryAfter(t, resp, body)
	if wait != 60 {
		t.Fatalf("Retry-After = %d; want 60", wait)
	}
	// Another account from the same address is not locked by this one.
	s.login("agent2")
	clk.add(time.Duration(wait-1) * time.Second)
	resp, body = s.raw("POST", "/api/v1/auth/login", "", right, nil)
	retryAfter(t, resp, body)
	clk.add(time.Second)
	s.login("agent1")

	out := logs.String()
	if strings.Count(out, "password attempt failed") != 3 || !strings.Contains(out, `"login":"agent1"`) {
		t.Fatalf("failures not logged:\n%s", out)
	}
	if strings.Contains(out, "wrong-guess") || strings.Contains(out, password) {
		t.Fatalf("a password reached the log:\n%s", out)
	}
}

// TestLoginThrottlePerAddress: one address failing against many accounts
// is locked for all of them, four times the per-account limit.
func TestLoginThrottlePerAddress(t *testing.T) {
	s, _, _ := throttledServer(t, nil)
	for i := range 12 {
		xff := http.Header{"X-Forwarded-For": {"203.0.113." + strconv.Itoa(i)}}
		resp, body := s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "nobody" + strconv.Itoa(i), "password": "wrong-guess"}, xff)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d %s; want 401", i, resp.StatusCode, body)
		}
	}
	resp, body := s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": password}, nil)
	retryAfter(t, resp, body)
}

// TestLoginThrottleTrustedProxy: behind a trusted proxy the forwarded
// address is the client, so one client's failures do not lock another's.
func TestLoginThrottleTrustedProxy(t *testing.T) {
	s, _, _ := throttledServer(t, throttle.Proxies{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	for i := range 12 {
		xff := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
		s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "nobody" + strconv.Itoa(i), "password": "wrong-guess"}, xff)
	}
	resp, body := s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": "wrong-guess"}, http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	retryAfter(t, resp, body)
	resp, body = s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": password}, http.Header{"X-Forwarded-For": {"198.51.100.1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another client behind the proxy = %d %s; want 200", resp.StatusCode, body)
	}
}

// TestPasswordChangeThrottle: guessing the current password through
// PUT /me/password is throttled like a login.
func TestPasswordChangeThrottle(t *testing.T) {
	s, clk, logs := throttledServer(t, nil)
	tok := s.login("agent1")
	for i := range 3 {
		resp, body := s.raw("PUT", "/api/v1/me/password", tok, map[string]string{"current": "wrong-guess-" + strconv.Itoa(i), "new": "a-new-password-1"}, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong current %d = %d %s; want 401", i, resp.StatusCode, body)
		}
	}
	resp, body := s.raw("PUT", "/api/v1/me/password", tok, map[string]string{"current": password, "new": "a-new-password-1"}, nil)
	wait := retryAfter(t, resp, body)
	clk.add(time.Duration(wait) * time.Second)
	s.must(204, "PUT", "/api/v1/me/password", tok, map[string]string{"current": password, "new": "a-new-password-1"}, nil)
	if out := logs.String(); strings.Count(out, "password attempt failed") != 3 || strings.Contains(out, "wrong-guess") {
		t.Fatalf("failures not logged, or logged with the password:\n%s", out)
	}
}

// TestUnsafeCharactersRefused: NUL and bidi overrides are refused in every
// visitor field, the session id, messages and agent names; line breaks
// stay allowed in private data.
func TestUnsafeCharactersRefused(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	s.presence(s.login("agent1"), "available")
	for _, field := range []string{"name", "email", "phone", "customer_id", "private_data", "session_id", "message"} {
		for _, bad := range []string{"\x00", "\u202e", "\u2066", "\x1b[31m"} {
			body := map[string]any{"group_id": 1, "name": "Ann", "email": "ann@example.com"}
			body[field] = "x" + bad + "y@example.com"
			var e httpapi.ErrorBody
			if code := s.call("POST", "/api/v1/chats", "", body, &e); code != 400 || e.Error.Code != parley.EINVALID || !strings.Contains(e.Error.Message, "control or bidirectional") {
				t.Fatalf("%s with %q = %d %+v; want 400 invalid", field, bad, code, e)
			}
		}
	}
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Ann", "private_data": "line one\nline two\tend"}, nil)

	admin := s.login("admin")
	s.fail(400, parley.EINVALID, "POST", "/api/v1/admin/agents", admin, map[string]any{"login": "eve", "password": "long-enough-pw", "display_name": "Eve\u202egnp.exe"})
	s.fail(400, parley.EINVALID, "PATCH", "/api/v1/admin/agents/"+strconv.FormatInt(s.agentID("agent1"), 10), admin, map[string]any{"chat_name": "Al\x00ice"})
	chat := s.requestChat(1, "Bob")
	s.fail(400, parley.EINVALID, "POST", "/api/v1/chats/"+chat.Chat.ID+"/messages", chat.VisitorToken, map[string]any{"text": "see \u202etxt.exe"})
}

// TestPollPastTheEnd: a long-poll after a sequence number past the chat's
// end answers with the chat's real last one.
func TestPollPastTheEnd(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	s.presence(s.login("agent1"), "available")
	chat := s.requestChat(1, "Ann")
	var got httpapi.EventsBody
	s.must(200, "GET", "/api/v1/chats/"+chat.Chat.ID+"/events?after=999999", chat.VisitorToken, nil, &got)
	if want := s.lastSeq(chat.Chat.ID); got.LastSeq != want || len(got.Events) != 0 {
		t.Fatalf("poll after 999999 = last_seq %d, %d events; want %d and none", got.LastSeq, len(got.Events), want)
	}
}

// TestHelloTimeout: a WebSocket that never says hello is closed with 4002.
func TestHelloTimeout(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2, httpapi.Options{PingInterval: time.Minute, HelloTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_, _, err = conn.Read(ctx)
	if code := websocket.CloseStatus(err); code != 4002 {
		t.Fatalf("silent WebSocket ended with %v (status %d); want close 4002", err, code)
	}
}

// TestForeignRefererRefused: a cookie-authenticated write with no Origin
// and a Referer of another site is refused like a foreign Origin.
func TestForeignRefererRefused(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	resp, _ := s.raw("POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": password}, nil)
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie")
	}
	resp, body := s.raw("POST", "/api/v1/admin/tenants", "", map[string]string{"name": "Evil"}, http.Header{"Cookie": {cookie}, "Referer": {"https://evil.example/page"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Referer = %d %s; want 403", resp.StatusCode, body)
	}
	resp, body = s.raw("POST", "/api/v1/admin/tenants", "", map[string]string{"name": "Own"}, http.Header{"Cookie": {cookie}, "Referer": {s.URL + "/console/"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("own Referer = %d %s; want 201", resp.StatusCode, body)
	}
}

// gatedStore holds message writes while its gate is armed, to catch a
// send in the middle of being stored.
type gatedStore struct {
	parley.Store
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) AppendEvents(ctx context.Context, chatID string, events []parley.Event) ([]parley.Event, error) {
	g.mu.Lock()
	armed := g.armed && len(events) > 0 && events[0].Type == parley.EventMessage
	if armed {
		g.armed = false
	}
	g.mu.Unlock()
	if armed {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.AppendEvents(ctx, chatID, events)
}

// TestShutdownAcksSendInFlight: a WebSocket send being stored when the
// server shuts down is stored and acknowledged before the socket goes
// away.
func TestShutdownAcksSendInFlight(t *testing.T) {
	gate := &gatedStore{entered: make(chan struct{}), release: make(chan struct{})}
	s := newServerWith(t, conversation.Config{}, 2, func(st parley.Store) parley.Store { gate.Store = st; return gate })
	s.presence(s.login("agent1"), "available")
	chat := s.requestChat(1, "Ann")
	c := s.dial(chat.VisitorToken, map[string]int64{chat.Chat.ID: s.lastSeq(chat.Chat.ID)})
	gate.mu.Lock()
	gate.armed = true
	gate.mu.Unlock()
	c.write(map[string]any{"type": "send", "ref": "in-flight", "chat_id": chat.Chat.ID, "text": "last words"})
	<-gate.entered

	// A long-poll is answered when the shutdown begins.
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		var got httpapi.EventsBody
		s.call("GET", "/api/v1/chats/"+chat.Chat.ID+"/events?wait=50&after="+strconv.FormatInt(s.lastSeq(chat.Chat.ID), 10), chat.VisitorToken, nil, &got)
	}()
	shut := make(chan struct{})
	go func() { defer close(shut); s.api.Shutdown() }()
	<-polled
	close(gate.release)
	f := c.expect("ack", func(f httpapi.ServerFrame) bool { return f.Ref == "in-flight" })
	if f.Type != "ack" || f.Event == nil || f.Event.Text != "last words" {
		t.Fatalf("in-flight send = %+v; want its ack", f)
	}
	<-shut
	stored, err := s.store.Events(context.Background(), chat.Chat.ID, f.Event.Seq-1, 1)
	if err != nil || len(stored) != 1 || stored[0].Text != "last words" {
		t.Fatalf("the acknowledged message is not stored at its seq: %+v, %v", stored, err)
	}
}

// TestLoginThrottleParallel: guesses sent all at once cannot overrun the
// limit; attempts in flight count as possible failures.
func TestLoginThrottleParallel(t *testing.T) {
	s, _, _ := throttledServer(t, nil)
	codes := make(chan int, 20)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			data, _ := json.Marshal(map[string]string{"login": "agent1", "password": "wrong-guess-" + strconv.Itoa(i)})
			resp, err := http.Post(s.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(data))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[401] > 3 || n[401]+n[429] != 20 {
		t.Fatalf("20 parallel wrong passwords = %v; want at most 3 checked (401), the rest 429", n)
	}
}
