package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The baseline echo server sends every message back and stops with its
// context; -h documents it.
func TestBaselineEcho(t *testing.T) {
	var help bytes.Buffer
	if code := run(t.Context(), []string{"baseline", "-h"}, &help, &help); code != 0 || !strings.Contains(help.String(), "-addr") {
		t.Fatalf("baseline -h: exit %d, %q", code, help.String())
	}
	var top bytes.Buffer
	run(t.Context(), []string{"-h"}, &top, &top)
	if !strings.Contains(top.String(), "parley-load baseline") {
		t.Error("parley-load -h does not mention the baseline subcommand")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"baseline", "-addr", addr}, &out, &out) }()
	listening := regexp.MustCompile(`listening on (ws://\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for !listening.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("baseline did not start: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	url := listening.FindStringSubmatch(out.String())[1]
	c, _, err := websocket.Dial(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, msg := range []string{"hello", "again"} {
		if err := c.Write(t.Context(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(t.Context())
		if err != nil || typ != websocket.MessageText || string(got) != msg {
			t.Fatalf("echo of %q: %v %q %v", msg, typ, got, err)
		}
	}
	cancel()
	if got := <-code; got != 0 {
		t.Fatalf("baseline exited %d: %s", got, out.String())
	}
}
