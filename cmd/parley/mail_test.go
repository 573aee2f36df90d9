package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/smtptest"
)

// TestServeMailsTranscripts runs the binary with SMTP settings: a mail
// queued while the SMTP server is down survives a restart of parley and is
// delivered once the server is up.
func TestServeMailsTranscripts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir, "--smtp-host", "127.0.0.1",
		"--smtp-port", fmt.Sprint(port), "--smtp-tls", "none", "--smtp-retry", "1s", "--mail-from", "chat@example.com"}
	p := launch(t, args...)

	agentTok := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agentTok, map[string]string{"presence": "available", "status": "ready"}, nil)
	var started httpapi.ChatStartedBody
	p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "email": "vera@example.net", "message": "Where is my parcel?"}, &started)
	var queued httpapi.TranscriptQueuedBody
	p.must(202, "POST", "/api/v1/chats/"+started.Chat.ID+"/transcript", started.VisitorToken, map[string]string{}, &queued)
	mailPath := fmt.Sprintf("/api/v1/mail/%d", queued.ID)
	// Wait for the failure to be recorded, not just for the claim: a stop
	// between the two leaves the mail leased, and due only after the lease.
	waitMail(t, p, mailPath, started.VisitorToken, func(m map[string]any) bool {
		return m["attempts"].(float64) >= 1 && m["last_error"] != nil
	})
	p.stop()

	srv, err := smtptest.Listen(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the SMTP server cannot take its port: %v", err)
	}
	t.Cleanup(srv.Close)
	p = launch(t, args...)
	// The mail waits out its backoff (1 s after the first failure).
	waitMail(t, p, mailPath, started.VisitorToken, func(m map[string]any) bool { return m["status"] == "sent" })
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "vera@example.net" || msgs[0].From != "chat@example.com" {
		t.Fatalf("delivered %d messages: %+v", len(msgs), msgs)
	}
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `parley_mail_attempts_total{result="sent"} 1`) {
		t.Errorf("/metrics does not count the delivery")
	}
	parts, err := msgs[0].Parts()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(parts["text/plain"], "Vera: Where is my parcel?") {
		t.Errorf("the transcript lacks the visitor's message:\n%s", parts["text/plain"])
	}
}

func waitMail(t *testing.T, p *proc, path, token string, done func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var m map[string]any
		if code := p.call("GET", path, token, nil, &m); code == 200 && done(m) {
			return
		}
		if time.Now().After(deadline) {
			var m map[string]any
			p.call("GET", path, token, nil, &m)
			t.Fatalf("mail %s: %v", path, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
