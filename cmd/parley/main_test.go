package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// buildBinary compiles the real parley binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parley-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "parley")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a running parley binary.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	url      string
	password string
	stdout   []string // lines printed before it listened
	stderr   *bytes.Buffer
	exited   chan error
}

var (
	listeningLine = regexp.MustCompile(`listening on (http://\S+)`)
	passwordLine  = regexp.MustCompile(`Demo password for agent1, agent2 and admin: (\S+)`)
)

// start runs `parley serve --demo` on dir and waits until it listens.
func start(t *testing.T, dir string) *proc {
	t.Helper()
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir)
	if p.password == "" {
		t.Fatal("no demo password printed")
	}
	return p
}

// launch runs the binary with args and waits until it listens.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		listening := false
		for sc.Scan() {
			if listening {
				continue // drain
			}
			p.stdout = append(p.stdout, sc.Text())
			if m := passwordLine.FindStringSubmatch(sc.Text()); m != nil {
				p.password = m[1]
			}
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				p.url = m[1]
				listening = true
				close(found)
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-found:
	case err := <-p.exited:
		t.Fatalf("parley exited before listening: %v\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("parley did not listen within 60 s\n%s", p.stderr)
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		p.t.Fatal("no exit within 30 s of SIGTERM")
	}
}

func (p *proc) call(method, path, token string, body, out any) int {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0 // the process is gone
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (p *proc) must(want int, method, path, token string, body, out any) {
	p.t.Helper()
	if got := p.call(method, path, token, body, out); got != want {
		p.t.Fatalf("%s %s = %d; want %d\n%s", method, path, got, want, p.stderr)
	}
}

func (p *proc) login(login string) string {
	p.t.Helper()
	var res httpapi.LoginResponse
	p.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": login, "password": p.password}, &res)
	return res.Token
}

func TestServeDemo(t *testing.T) {
	p := start(t, t.TempDir())
	var health map[string]string
	p.must(200, "GET", "/healthz", "", nil, &health)
	if health["status"] != "ok" {
		t.Fatalf("/healthz = %v", health)
	}
	p.must(200, "GET", "/readyz", "", nil, nil)
	p.must(200, "GET", "/api/v1/config", "", nil, nil)
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"parley_http_requests_total", "parley_websocket_connections", "go_goroutines"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	resp, err = http.Get(p.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") || !bytes.Contains(page, []byte("Parley")) {
		t.Fatalf("demo page: %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	// The demo home page embeds the widget, whose loader the server serves.
	if !bytes.Contains(page, []byte(`<script src="/widget.js" async></script>`)) || !bytes.Contains(page, []byte("<parley-widget")) {
		t.Fatalf("the demo page does not embed the widget:\n%s", page)
	}
	if resp, err := http.Get(p.url + "/widget.js"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/widget.js: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var groups []parley.Group
	p.must(200, "GET", "/api/v1/groups", p.login("agent1"), nil, &groups)
	if len(groups) != 2 || groups[0].ID != 1 || groups[0].Name != "Support" || groups[1].ID != 2 || groups[1].Name != "Sales" {
		t.Fatalf("demo groups = %+v", groups)
	}

	// SIGTERM shuts down gracefully and exits 0.
	p.stop()
}

func TestFirstStartCreatesAdmin(t *testing.T) {
	dir := t.TempDir()
	p := launch(t, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	first := strings.Join(p.stdout, "\n")
	m := regexp.MustCompile(`Login: admin  Password: (\S+)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first start printed no admin password:\n%s", first)
	}
	var res httpapi.LoginResponse
	p.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": "admin", "password": m[1]}, &res)
	if res.Agent.Role != parley.RoleAdmin {
		t.Fatalf("first user = %+v", res.Agent)
	}
	p.stop()
	p = launch(t, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	if second := strings.Join(p.stdout, "\n"); strings.Contains(second, "Password") {
		t.Fatalf("the second start printed a password again:\n%s", second)
	}
	p.stop()
}

// TestKillDuringTraffic starts the real binary, exchanges messages, kills
// it with SIGKILL while messages are being sent, restarts it on the same
// data directory and finds every acknowledged message and every chat's
// state.
func TestKillDuringTraffic(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	agentTok := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agentTok, map[string]string{"presence": "available", "status": "ready"}, nil)

	request := func(name string) httpapi.ChatStartedBody {
		var res httpapi.ChatStartedBody
		p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name}, &res)
		return res
	}
	ended := request("Ended")
	p.must(200, "POST", "/api/v1/chats/"+ended.Chat.ID+"/accept", agentTok, nil, nil)
	p.must(204, "POST", "/api/v1/chats/"+ended.Chat.ID+"/end", agentTok, nil, nil)
	handled := request("Handled")
	p.must(200, "POST", "/api/v1/chats/"+handled.Chat.ID+"/accept", agentTok, nil, nil)
	// Capacity 3: two more fill it, the next one waits.
	for _, n := range []string{"Filler 1", "Filler 2"} {
		c := request(n)
		p.must(200, "POST", "/api/v1/chats/"+c.Chat.ID+"/accept", agentTok, nil, nil)
	}
	queued := request("Queued")
	if queued.Chat.Queue == nil || queued.Chat.Queue.Position != 1 {
		t.Fatalf("queued chat = %+v", queued.Chat.Queue)
	}

	// Both sides send concurrently; the process is killed mid-stream.
	var (
		mu    sync.Mutex
		acked = map[string]int64{}
		wg    sync.WaitGroup
	)
	send := func(token, who string) {
		defer wg.Done()
		for i := 0; ; i++ {
			text := fmt.Sprintf("%s %d", who, i)
			var e parley.Event
			if p.call("POST", "/api/v1/chats/"+handled.Chat.ID+"/messages", token, map[string]string{"text": text}, &e) != 201 {
				return
			}
			mu.Lock()
			acked[text] = e.Seq
			mu.Unlock()
		}
	}
	wg.Add(2)
	go send(handled.VisitorToken, "visitor")
	go send(agentTok, "agent")
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond) // waiting for traffic, bounded by the senders
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	<-p.exited

	p = start(t, dir)
	// Sessions and visitor tokens survive the restart.
	var page httpapi.EventsBody
	p.must(200, "GET", "/api/v1/chats/"+handled.Chat.ID+"/events?after=0", agentTok, nil, &page)
	stored := map[string]int64{}
	for i, e := range page.Events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap or duplicate in the log", i, e.Seq)
		}
		if e.Type == parley.EventMessage {
			if _, dup := stored[e.Text]; dup {
				t.Fatalf("message %q stored twice", e.Text)
			}
			stored[e.Text] = e.Seq
		}
	}
	for text, seq := range acked {
		if got, ok := stored[text]; !ok || got != seq {
			t.Fatalf("acknowledged message %q (seq %d) after restart: seq %d, found %v", text, seq, got, ok)
		}
	}
	t.Logf("%d acknowledged messages before SIGKILL, %d stored", len(acked), len(stored))

	states := []struct {
		chat  httpapi.ChatStartedBody
		state parley.State
		cause parley.Cause
	}{
		{ended, parley.StateTerminated, parley.CauseAgentEnded},
		{handled, parley.StateHandling, parley.CauseNone},
		{queued, parley.StateQueued, parley.CauseNone},
	}
	for _, st := range states {
		var v conversation.ChatView
		p.must(200, "GET", "/api/v1/chats/"+st.chat.Chat.ID, st.chat.VisitorToken, nil, &v)
		if v.State != st.state || (st.state == parley.StateTerminated && v.Cause != st.cause) {
			t.Fatalf("chat %s after restart: %v %v; want %v %v", st.chat.Chat.ID, v.State, v.Cause, st.state, st.cause)
		}
	}
	var v conversation.ChatView
	p.must(200, "GET", "/api/v1/chats/"+queued.Chat.ID, queued.VisitorToken, nil, &v)
	if v.Queue == nil || v.Queue.Position != 1 {
		t.Fatalf("queued chat after restart: %+v", v.Queue)
	}
	// The chat goes on where it stopped.
	var e parley.Event
	p.must(201, "POST", "/api/v1/chats/"+handled.Chat.ID+"/messages", handled.VisitorToken, map[string]string{"text": "after the crash"}, &e)
	if e.Seq != int64(len(page.Events)+1) {
		t.Fatalf("first message after restart has seq %d; want %d", e.Seq, len(page.Events)+1)
	}
}

// The profiler is served only on its own listener (--pprof, off by default).
func TestPprofListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--pprof", addr)
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("pprof listener: GET /debug/pprof/ = %d; want 200", resp.StatusCode)
	}
	if got := p.call("GET", "/debug/pprof/", "", nil, nil); got == http.StatusOK {
		t.Error("the API listener serves /debug/pprof/")
	}
	p.stop()
}
