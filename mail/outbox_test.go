package mail_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/smtptest"
	"github.com/parleychat/parley/mail"
	"github.com/parleychat/parley/sqlite"
	"github.com/parleychat/parley/transcript"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// freePort returns a local port nothing listens on (for now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func enqueue(t *testing.T, st parley.Store, key, to, text string) *parley.OutboxMail {
	t.Helper()
	m := &parley.OutboxMail{TenantID: parley.DefaultTenantID, Key: key, MessageID: transcript.MessageID("chat@example.com"),
		From: "chat@example.com", To: to, Subject: "Your chat", Text: text, HTML: "<p>" + text + "</p>"}
	if _, err := st.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOutboxRetriesUntilTheServerIsBack drives the outbox pass by pass on
// a controlled clock: with the SMTP server down each attempt fails and the
// next waits out a doubling backoff; once the server listens the mail is
// delivered once, with the Message-ID it was stored with, and never again.
func TestOutboxRetriesUntilTheServerIsBack(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	port := freePort(t)
	reg := prometheus.NewRegistry()
	ob, err := mail.NewOutbox(st, mail.Options{Host: "127.0.0.1", Port: port, TLS: "none",
		Backoff: time.Minute, MaxBackoff: 10 * time.Minute, Timeout: 5 * time.Second, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	m := enqueue(t, st, "", "vera@example.net", "Where is order 42?")
	now := time.Now().UTC()

	check := func(step string, wantAttempts int, wantStatus parley.MailStatus, wantNext time.Time) {
		t.Helper()
		got, err := st.Mail(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Attempts != wantAttempts || got.Status != wantStatus {
			t.Fatalf("%s: attempts %d status %s (last error %q); want %d %s", step, got.Attempts, got.Status, got.LastError, wantAttempts, wantStatus)
		}
		if !wantNext.IsZero() && !got.NextAttempt.Equal(wantNext) {
			t.Fatalf("%s: next attempt %v; want %v", step, got.NextAttempt, wantNext)
		}
		if wantStatus == parley.MailPending && got.LastError == "" {
			t.Fatalf("%s: a failed attempt left no error", step)
		}
	}
	pass := func(at time.Time) int {
		t.Helper()
		n, err := ob.Pass(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if n := pass(now); n != 0 {
		t.Fatalf("sent %d with the server down", n)
	}
	check("first attempt", 1, parley.MailPending, now.Add(time.Minute))
	if n := pass(now.Add(59 * time.Second)); n != 0 {
		t.Fatal("sent during the backoff")
	}
	check("inside the backoff", 1, parley.MailPending, now.Add(time.Minute))
	pass(now.Add(time.Minute))
	check("second attempt", 2, parley.MailPending, now.Add(3*time.Minute)) // 1 min + 2 min

	srv, err := smtptest.Listen(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the SMTP server cannot come back on its port: %v", err)
	}
	t.Cleanup(srv.Close)
	if n := pass(now.Add(2 * time.Minute)); n != 0 || len(srv.Messages()) != 0 {
		t.Fatal("the mail went out before its next attempt was due")
	}
	if n := pass(now.Add(3 * time.Minute)); n != 1 {
		t.Fatalf("sent %d once the server was back; want 1", n)
	}
	check("delivered", 3, parley.MailSent, time.Time{})
	for _, later := range []time.Duration{4 * time.Minute, time.Hour, 24 * time.Hour} {
		if n := pass(now.Add(later)); n != 0 {
			t.Fatalf("sent again %v later", later)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server received %d messages; want exactly 1", len(msgs))
	}
	if got := counters(t, reg); got != "retry=2 sent=1" {
		t.Errorf("parley_mail_attempts_total: %s", got)
	}
	got := msgs[0]
	if got.From != "chat@example.com" || len(got.To) != 1 || got.To[0] != "vera@example.net" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	pm, err := got.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if id := pm.Header.Get("Message-Id"); id != "<"+m.MessageID+">" {
		t.Errorf("Message-ID %q; want <%s>", id, m.MessageID)
	}
	if s := pm.Header.Get("Subject"); s != "Your chat" {
		t.Errorf("Subject %q", s)
	}
	if !strings.Contains(string(got.Data), "Where is order 42?") || !strings.Contains(string(got.Data), "text/html") {
		t.Errorf("the message lacks its text or HTML part:\n%s", got.Data)
	}
}

// TestOutboxRunDeliversOnce runs the outbox loop in real time with a short
// backoff: the server is down at first, comes back, and every mail
// arrives exactly once.
func TestOutboxRunDeliversOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := openStore(t)
	port := freePort(t)
	ob, err := mail.NewOutbox(st, mail.Options{Host: "127.0.0.1", Port: port, TLS: "none",
		Poll: 20 * time.Millisecond, Backoff: 30 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ob.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	var ids []int64
	for i := range 3 {
		ids = append(ids, enqueue(t, st, "", fmt.Sprintf("v%d@example.net", i), fmt.Sprintf("mail %d", i)).ID)
	}
	ob.Wake()
	waitUntil(t, "two failed attempts each", func() bool {
		for _, id := range ids {
			if m, err := st.Mail(ctx, id); err != nil || m.Attempts < 2 {
				return false
			}
		}
		return true
	})
	srv, err := smtptest.Listen(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the SMTP server cannot come back on its port: %v", err)
	}
	t.Cleanup(srv.Close)
	waitUntil(t, "all sent", func() bool {
		for _, id := range ids {
			if m, err := st.Mail(ctx, id); err != nil || m.Status != parley.MailSent {
				return false
			}
		}
		return true
	})
	// Everything is marked sent; a further pass must find nothing to send.
	if n, err := ob.Pass(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("a later pass sent %d (%v)", n, err)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	if len(seen) != 3 || seen["v0@example.net"] != 1 || seen["v1@example.net"] != 1 || seen["v2@example.net"] != 1 {
		t.Errorf("deliveries by recipient %v; want each of the 3 exactly once", seen)
	}
}

// TestOutboxConcurrentSenders has two senders share one store: claims are
// exclusive, so each mail is delivered once.
func TestOutboxConcurrentSenders(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	srv := smtptest.Start(t)
	const n = 30
	for i := range n {
		enqueue(t, st, "", fmt.Sprintf("v%d@example.net", i), "hello")
	}
	var wg sync.WaitGroup
	sent := make([]int, 2)
	for i := range sent {
		ob, err := mail.NewOutbox(st, mail.Options{Host: "127.0.0.1", Port: srv.Port(), TLS: "none"})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := ob.Pass(ctx, time.Now())
			if err != nil {
				t.Error(err)
			}
			sent[i] = k
		}()
	}
	wg.Wait()
	if sent[0]+sent[1] != n {
		t.Errorf("the senders sent %v; want %d in total", sent, n)
	}
	ids := map[string]bool{}
	for _, m := range srv.Messages() {
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		ids[pm.Header.Get("Message-Id")] = true
	}
	if len(srv.Messages()) != n || len(ids) != n {
		t.Errorf("the server got %d messages with %d distinct IDs; want %d", len(srv.Messages()), len(ids), n)
	}
}

func TestEnqueueIsIdempotentByKey(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	first := enqueue(t, st, "close:chat-1", "vera@example.net", "one")
	second := &parley.OutboxMail{TenantID: parley.DefaultTenantID, Key: "close:chat-1", MessageID: "other@example.com",
		From: "chat@example.com", To: "x@example.net", Subject: "again", Text: "two"}
	created, err := st.EnqueueMail(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if created || second.ID != first.ID || second.MessageID != first.MessageID || second.Text != "one" {
		t.Errorf("second enqueue created=%v id %d (first %d) text %q", created, second.ID, first.ID, second.Text)
	}
}

func TestOutboxGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ob, err := mail.NewOutbox(st, mail.Options{Host: "127.0.0.1", Port: freePort(t), TLS: "none", Backoff: time.Second, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := enqueue(t, st, "", "vera@example.net", "x")
	at := time.Now()
	for range parley.MaxMailAttempts + 3 {
		if _, err := ob.Pass(ctx, at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}
	got, err := st.Mail(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != parley.MailFailed || got.Attempts != parley.MaxMailAttempts {
		t.Errorf("status %s after %d attempts; want failed after %d", got.Status, got.Attempts, parley.MaxMailAttempts)
	}
}

func TestNewOutboxChecksOptions(t *testing.T) {
	st := openStore(t)
	if _, err := mail.NewOutbox(st, mail.Options{}); err == nil {
		t.Error("no host accepted")
	}
	if _, err := mail.NewOutbox(st, mail.Options{Host: "x", TLS: "maybe"}); err == nil {
		t.Error("unknown tls mode accepted")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counters renders parley_mail_attempts_total as "result=n …".
func counters(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "parley_mail_attempts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out = append(out, fmt.Sprintf("%s=%v", m.GetLabel()[0].GetValue(), m.GetCounter().GetValue()))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
