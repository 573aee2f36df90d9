package rocketchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Idle DDP visitors, each subscribed to its room, hold no goroutine on
// the server: the socket layer is the native WebSocket's event loop. The
// clients run in a process of their own so that only the server's
// goroutines are counted.
func TestIdleDDPVisitorsAddNoGoroutines(t *testing.T) {
	const n = 200
	s := start(t)
	tok := s.Login("agent1")
	s.Presence(tok, "available", "not_ready") // the chats stay queued
	rooms := make([][2]string, n)
	for i := range rooms {
		vt := fmt.Sprintf("idle-visitor-%d", i)
		s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": vt, "department": "1"}}, nil)
		var room struct {
			Room map[string]any `json:"room"`
		}
		if code := s.rest("GET", "/api/v1/livechat/room?token="+vt, nil, &room); code != 200 {
			t.Fatalf("room = %d", code)
		}
		rooms[i] = [2]string{vt, room.Room["_id"].(string)}
	}
	file := t.TempDir() + "/rooms.json"
	data, _ := json.Marshal(rooms)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	settleGoroutines()
	before := runtime.NumGoroutine()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleDDPChild$", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_DDP_CHILD_URL="+s.URL, "PARLEY_DDP_CHILD_FILE="+file)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "ddp-ready":
				ready <- nil
				return
			case strings.HasPrefix(line, "ddp-fail"), strings.HasPrefix(line, "--- FAIL"):
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
	case <-time.After(2 * time.Minute):
		t.Fatal("the child did not open its sessions in time")
	}
	if got := s.rc.Sessions(); got != n {
		t.Fatalf("%d DDP sessions; want %d", got, n)
	}
	var added int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if added = runtime.NumGoroutine() - before; added < 50 || time.Now().After(deadline) {
			break
		}
	}
	if added >= 50 {
		t.Fatalf("%d idle DDP visitors added %d goroutines; want fewer than 50", n, added)
	}
	t.Logf("%d idle DDP visitors added %d goroutines", n, added)
}

// settleGoroutines waits until the goroutine count has been stable for a
// while (the setup's requests have ended).
func settleGoroutines() {
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

// TestIdleDDPChild is the client side of TestIdleDDPVisitorsAddNoGoroutines.
func TestIdleDDPChild(t *testing.T) {
	url, file := os.Getenv("PARLEY_DDP_CHILD_URL"), os.Getenv("PARLEY_DDP_CHILD_FILE")
	if url == "" {
		t.Skip("run by TestIdleDDPVisitorsAddNoGoroutines")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rooms [][2]string
	if err := json.Unmarshal(data, &rooms); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	for _, r := range rooms {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/websocket", nil)
		if err != nil {
			fmt.Println("ddp-fail", err)
			t.Fatal(err)
		}
		conns = append(conns, c)
		for _, f := range []string{
			`{"msg":"connect","version":"1","support":["1"]}`,
			`{"msg":"sub","id":"s","name":"stream-room-messages","params":[` + jsonString(r[1]) + `,{"useCollection":false,"args":[{"token":` + jsonString(r[0]) + `}]}]}`,
		} {
			if err := c.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
				fmt.Println("ddp-fail", err)
				t.Fatal(err)
			}
		}
		for done := false; !done; {
			_, data, err := c.Read(ctx)
			if err != nil {
				fmt.Println("ddp-fail", err)
				t.Fatal(err)
			}
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			switch f["msg"] {
			case "ready":
				done = true
			case "nosub":
				fmt.Println("ddp-fail nosub", string(data))
				t.Fatal(string(data))
			}
		}
		go func() { // answer the server's pings while idle
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(data), `"ping"`) {
					_ = c.Write(ctx, websocket.MessageText, []byte(`{"msg":"pong"}`))
				}
			}
		}()
	}
	fmt.Println("ddp-ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}
