package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// idleVisitor is what the child process needs to open a visitor's session.
type idleVisitor struct {
	Token  string `json:"token"`
	ChatID string `json:"chat_id"`
}

// Idle visitors, each in a chat of its own and connected over a real
// socket, hold no goroutine on the server. 200 by default;
// PARLEY_TEST_IDLE_VISITORS=10000 runs the full size. The sockets' client
// ends live in a child process, so that neither process needs more than
// its open-file limit, and come from 127.0.0.1 … 127.0.0.8.
func TestIdleVisitorsAddNoGoroutines(t *testing.T) {
	n := 200
	if v := os.Getenv("PARLEY_TEST_IDLE_VISITORS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("PARLEY_TEST_IDLE_VISITORS=%q", v)
		}
	}
	s := newServer(t, conversation.Config{}, 1)
	tok := s.login("agent1")
	// A logged-in agent who is not ready keeps the group open and the
	// chats queued.
	s.must(200, "PUT", "/api/v1/me/presence", tok, map[string]string{"presence": "available", "status": "not_ready"}, nil)
	visitors := make([]idleVisitor, n)
	for i := range visitors {
		res := s.requestChat(1, fmt.Sprintf("V%d", i))
		visitors[i] = idleVisitor{Token: res.VisitorToken, ChatID: res.Chat.ID}
	}
	file := filepath.Join(t.TempDir(), "visitors.json")
	data, _ := json.Marshal(visitors)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	settle(t, s)
	before := runtime.NumGoroutine()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleVisitorsChild$", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_IDLE_CHILD_URL="+s.URL, "PARLEY_IDLE_CHILD_FILE="+file)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child closes its sockets and exits
		_ = cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "idle-ready" {
				ready <- nil
				return
			}
			if strings.HasPrefix(line, "idle-fail") || strings.HasPrefix(line, "--- FAIL") {
				ready <- fmt.Errorf("child: %s", line)
				return
			}
		}
		ready <- fmt.Errorf("the child ended without opening its sessions")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Duration(n)*10*time.Millisecond + time.Minute):
		t.Fatal("the child did not open its sessions in time")
	}
	if got := s.api.Sessions(); got != n {
		t.Fatalf("%d sessions open; want %d", got, n)
	}
	// Goroutines that sent the snapshots end once they have nothing left
	// to send; what stays is what the idle sessions hold.
	var added int
	deadline := time.Now().Add(30 * time.Second)
	for {
		added = runtime.NumGoroutine() - before
		if added < 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if added >= 100 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d idle visitors added %d goroutines; want fewer than 100\n%s", n, added, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("%d idle visitors added %d goroutines", n, added)
	if got := s.api.Sessions(); got != n {
		t.Fatalf("%d sessions open after the wait; want %d", got, n)
	}
}

// settle waits until the goroutines of the setup requests have ended.
func settle(t *testing.T, s *server) {
	t.Helper()
	last, stable := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(10 * time.Second); stable < 10 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if g := runtime.NumGoroutine(); g == last {
			stable++
		} else {
			last, stable = g, 0
		}
	}
}

// TestIdleVisitorsChild is the client side of TestIdleVisitorsAddNoGoroutines,
// run in a process of its own; it does nothing otherwise.
func TestIdleVisitorsChild(t *testing.T) {
	url, file := os.Getenv("PARLEY_IDLE_CHILD_URL"), os.Getenv("PARLEY_IDLE_CHILD_FILE")
	if url == "" {
		t.Skip("run by TestIdleVisitorsAddNoGoroutines")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var visitors []idleVisitor
	if err := json.Unmarshal(data, &visitors); err != nil {
		t.Fatal(err)
	}
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/api/v1/ws"
	conns := make([]*websocket.Conn, 0, len(visitors))
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	const parallel = 64
	type result struct {
		conn *websocket.Conn
		err  error
	}
	results := make(chan result, parallel)
	next := 0
	start := func() {
		v, i := visitors[next], next
		next++
		go func() {
			c, err := openIdle(wsURL, v, net.IPv4(127, 0, 0, byte(1+i%8)))
			results <- result{c, err}
		}()
	}
	for next < len(visitors) && next < parallel {
		start()
	}
	for range visitors {
		r := <-results
		if r.err != nil {
			fmt.Println("idle-fail", r.err)
			t.Fatal(r.err)
		}
		conns = append(conns, r.conn)
		if next < len(visitors) {
			start()
		}
	}
	fmt.Println("idle-ready")
	// Hold the sessions until the parent closes stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}

// openIdle opens a visitor's session from source address src, waits for
// its chat's snapshot, and leaves a reader that answers pings.
func openIdle(url string, v idleVisitor, src net.IP) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": v.Token, "chats": map[string]int64{v.ChatID: 0}})
	if err := c.Write(ctx, websocket.MessageText, hello); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		var f httpapi.ServerFrame
		if json.Unmarshal(data, &f) == nil && f.Type == "chat" {
			break
		}
	}
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return c, nil
}
