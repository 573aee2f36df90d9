package rocketchat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/rocketchat"
)

// stack is the real Parley stack with the Rocket.Chat dialect in front of
// the native API. Groups: Support (1) with agent1 (Alice), Sales (2)
// with no members.
type stack struct {
	*testserver.Server
	rc   *rocketchat.Handler
	reqs *requestLog
}

func start(t testing.TB, opts ...func(*rocketchat.Options)) *stack {
	t.Helper()
	var rc *rocketchat.Handler
	reqs := &requestLog{start: time.Now()}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("requests the server saw:\n" + reqs.String())
		}
	})
	agent := testserver.Agent("agent1", "Alice", 1)
	agent.Capacity = 50
	ts := testserver.Start(t, testserver.Options{
		Config: conversation.Config{MaxAttachmentKB: 512, MailFrom: "chat@parley.example"},
		Groups: []*parley.Group{{ID: 1, Name: "Support"}, {ID: 2, Name: "Sales"}},
		Agents: []*parley.Agent{agent},
		API:    httpapi.Options{PingInterval: time.Minute},
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqs.add(r, "")
				rc.Wrap(next).ServeHTTP(w, r)
				reqs.add(r, " answered")
			})
		},
	})
	opt := rocketchat.Options{Prefix: "/rocketchat", PingInterval: time.Minute}
	for _, o := range opts {
		o(&opt)
	}
	rc = rocketchat.New(ts.Svc, opt)
	t.Cleanup(rc.Shutdown)
	return &stack{Server: ts, rc: rc, reqs: reqs}
}

// requestLog keeps the requests a stack saw, to explain a failure.
type requestLog struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) add(r *http.Request, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, time.Since(l.start).Round(time.Millisecond).String()+" "+r.Method+" "+r.URL.Path+what)
}

// answered reports whether a request for path was answered.
func (l *requestLog) answered(method, path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.HasSuffix(line, " "+method+" "+path+" answered") {
			return true
		}
	}
	return false
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// online signs agent1 in as available and returns its token.
func (s *stack) online() string {
	s.T.Helper()
	tok := s.Login("agent1")
	s.Presence(tok, "available", "ready")
	return tok
}

// rest calls the REST API and decodes the answer; it returns the status.
func (s *stack) rest(method, path string, body any, out any) int {
	s.T.Helper()
	code, data := s.Do(method, path, "", body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.T.Fatalf("%s %s: %d %s: %v", method, path, code, data, err)
		}
	}
	return code
}

// ddpClient is a minimal DDP client over a WebSocket.
type ddpClient struct {
	t       testing.TB
	c       *websocket.Conn
	ctx     context.Context
	mu      sync.Mutex
	backlog []map[string]any
	frames  chan map[string]any
	done    chan struct{}
	noPong  bool
	nextID  int
}

func dial(t testing.TB, url string, answerPings bool) *ddpClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	d := &ddpClient{t: t, c: c, ctx: ctx, frames: make(chan map[string]any, 1024), done: make(chan struct{}), noPong: !answerPings}
	t.Cleanup(func() { c.CloseNow() })
	go d.read()
	return d
}

func (d *ddpClient) read() {
	defer close(d.done)
	for {
		_, data, err := d.c.Read(d.ctx)
		if err != nil {
			close(d.frames)
			return
		}
		var f map[string]any
		if err := json.Unmarshal(data, &f); err != nil {
			d.t.Errorf("server sent a frame that is not JSON: %s", data)
			continue
		}
		if f["msg"] == "ping" && !d.noPong {
			out := map[string]any{"msg": "pong"}
			if id, ok := f["id"]; ok {
				out["id"] = id
			}
			d.sendJSON(out)
			continue
		}
		d.frames <- f
	}
}

func (d *ddpClient) sendRaw(s string) {
	d.t.Helper()
	if err := d.c.Write(d.ctx, websocket.MessageText, []byte(s)); err != nil {
		d.t.Fatal(err)
	}
}

func (d *ddpClient) sendJSON(v any) {
	data, _ := json.Marshal(v)
	_ = d.c.Write(d.ctx, websocket.MessageText, data)
}

// next returns the first frame, old or new, that match accepts; it fails
// the test after 10 s.
func (d *ddpClient) next(what string, match func(map[string]any) bool) map[string]any {
	d.t.Helper()
	d.mu.Lock()
	for i, f := range d.backlog {
		if match(f) {
			d.backlog = append(d.backlog[:i], d.backlog[i+1:]...)
			d.mu.Unlock()
			return f
		}
	}
	d.mu.Unlock()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-d.frames:
			if !ok {
				d.t.Fatalf("connection closed while waiting for %s", what)
			}
			if match(f) {
				return f
			}
			d.mu.Lock()
			d.backlog = append(d.backlog, f)
			d.mu.Unlock()
		case <-timeout:
			d.t.Fatalf("no %s within 10 s; backlog %v", what, d.backlog)
		}
	}
}

func (d *ddpClient) connect() string {
	d.t.Helper()
	d.sendRaw(`{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`)
	f := d.next("connected", func(f map[string]any) bool { return f["msg"] == "connected" || f["msg"] == "failed" })
	if f["msg"] != "connected" || f["session"] == "" {
		d.t.Fatalf("connect: %v", f)
	}
	return f["session"].(string)
}

// call runs a method and returns its result frame (result or error).
func (d *ddpClient) call(method string, params ...any) map[string]any {
	d.t.Helper()
	d.nextID++
	id := "m" + itoa(d.nextID)
	if params == nil {
		params = []any{}
	}
	d.sendJSON(map[string]any{"msg": "method", "id": id, "method": method, "params": params})
	f := d.next("result of "+method, func(f map[string]any) bool { return f["msg"] == "result" && f["id"] == id })
	d.next("updated of "+method, func(f map[string]any) bool {
		ms, _ := f["methods"].([]any)
		return f["msg"] == "updated" && len(ms) == 1 && ms[0] == id
	})
	return f
}

// sub subscribes and returns "ready" or the nosub frame.
func (d *ddpClient) sub(name string, params ...any) (string, map[string]any) {
	d.t.Helper()
	d.nextID++
	id := "s" + itoa(d.nextID)
	d.sendJSON(map[string]any{"msg": "sub", "id": id, "name": name, "params": params})
	f := d.next("answer to sub "+name, func(f map[string]any) bool {
		subs, _ := f["subs"].([]any)
		return (f["msg"] == "ready" && len(subs) == 1 && subs[0] == id) || (f["msg"] == "nosub" && f["id"] == id)
	})
	return id, f
}

// event waits for a stream event of collection and eventName that match
// accepts, and returns its args.
func (d *ddpClient) event(collection, eventName string, match func(args []any) bool) []any {
	d.t.Helper()
	f := d.next(collection+" "+eventName, func(f map[string]any) bool {
		fields, _ := f["fields"].(map[string]any)
		if f["msg"] != "changed" || f["collection"] != collection || fields == nil || fields["eventName"] != eventName {
			return false
		}
		args, _ := fields["args"].([]any)
		return match(args)
	})
	return f["fields"].(map[string]any)["args"].([]any)
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonString(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func extra(tok string) map[string]any {
	return map[string]any{"useCollection": false, "args": []any{map[string]any{"token": tok, "visitorToken": tok}}}
}

func errorCode(f map[string]any) any {
	e, _ := f["error"].(map[string]any)
	if e == nil {
		return nil
	}
	return e["error"]
}
