package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestListenerTimeouts: on every listener (main, MiCC, pprof) a client
// that trickles a request body is answered 408 and cut off, and an idle
// keep-alive connection is closed; long-polls outlast the body deadline.
func TestListenerTimeouts(t *testing.T) {
	miccAddr, pprofAddr := freeAddr(t), freeAddr(t)
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--micc-addr", miccAddr, "--pprof", pprofAddr,
		"--body-read-timeout", "300ms", "--conn-idle-timeout", "300ms")
	u, _ := url.Parse(p.url)
	listeners := map[string]struct{ addr, post, get string }{
		"main":  {u.Host, "/api/v1/chats", "GET /healthz"},
		"micc":  {miccAddr, "/ChatService/RequestChat", "POST /ChatService/GetVersion"},
		"pprof": {pprofAddr, "/debug/pprof/symbol", "GET /debug/pprof/cmdline"},
	}
	for name, l := range listeners {
		t.Run(name+"/trickle", func(t *testing.T) {
			conn, err := net.Dial("tcp", l.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = io.WriteString(conn, "POST "+l.post+" HTTP/1.1\r\nHost: "+l.addr+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
			if err != nil {
				t.Fatal(err)
			}
			// One byte every 100 ms: the body would take 100 s.
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response to a trickled body: %v", err)
			}
			body, _ := io.ReadAll(resp.Body) // ends when the server closes
			if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
				t.Fatalf("trickled body = %d (close %v) %s; want 408 and the connection closed", resp.StatusCode, resp.Close, body)
			}
			if name != "pprof" && !strings.Contains(string(body), "timeout") {
				t.Fatalf("408 body %s names no timeout", body)
			}
		})
		t.Run(name+"/idle", func(t *testing.T) {
			conn, err := net.Dial("tcp", l.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			method, path, _ := strings.Cut(l.get, " ")
			req := method + " " + path + " HTTP/1.1\r\nHost: " + l.addr + "\r\n"
			if method == "POST" {
				req += "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
			} else {
				req += "\r\n"
			}
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("%s = %d (close %v); want 200 kept alive", l.get, resp.StatusCode, resp.Close)
			}
			// Nothing more is sent: the server must close the connection.
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("an idle keep-alive connection stayed open")
				}
				t.Fatalf("idle connection: %v; want EOF", err)
			}
		})
	}

	// A long-poll is not a slow body: a GetEvents that waits longer than
	// the body deadline is answered normally.
	post := func(method, body string, out any) int {
		t.Helper()
		resp, err := http.Post(p.url+"/ChatService/"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	p.must(200, "PUT", "/api/v1/me/presence", p.login("agent1"), map[string]string{"presence": "available"}, nil)
	var chat struct{ ChatID string }
	if code := post("RequestChat", `{"request":{"ServiceGroupID":1,"CustomerName":"Ann"}}`, &chat); code != 200 || chat.ChatID == "" {
		t.Fatalf("RequestChat = %d %+v", code, chat)
	}
	for {
		var events struct{ Events []any }
		start := time.Now()
		if code := post("GetEvents", `{"request":{"ChatID":"`+chat.ChatID+`","Timeout":1000}}`, &events); code != 200 {
			t.Fatalf("GetEvents = %d", code)
		}
		if len(events.Events) == 0 && time.Since(start) >= time.Second {
			break // it waited its whole Timeout, past the body deadline
		}
	}
	p.stop()
}

// TestLoginIsPersonalData: a failed login's name and address reach the
// log only with log-personal-data; a password never does.
func TestLoginIsPersonalData(t *testing.T) {
	for _, personal := range []bool{false, true} {
		var buf strings.Builder
		log := newLogger(&Config{LogFormat: "json", LogLevel: "info", LogPersonalData: personal}, &buf)
		log.Warn("password attempt failed", "login", "jane.doe", "ip", "203.0.113.5", "password", "hunter2hunter2")
		out := buf.String()
		if strings.Contains(out, "hunter2") {
			t.Fatalf("password logged: %s", out)
		}
		if got := strings.Contains(out, "jane.doe") && strings.Contains(out, "203.0.113.5"); got != personal {
			t.Fatalf("log-personal-data=%v: %s", personal, out)
		}
	}
}
