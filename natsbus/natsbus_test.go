package natsbus_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/parleychat/parley/natsbus"
)

func TestEmbedded(t *testing.T) {
	testBus(t, "")
}

// TestExternal runs the same checks against the NATS server of the machine
// (PARLEY_TEST_NATS, e.g. nats://127.0.0.1:4222).
func TestExternal(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS")
	if url == "" {
		t.Skip("PARLEY_TEST_NATS is not set; skipping the external NATS test")
	}
	testBus(t, url)
}

func testBus(t *testing.T, url string) {
	ctx := t.Context()
	b, err := natsbus.Open(ctx, natsbus.Options{URL: url, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	subject := fmt.Sprintf("test.%d", time.Now().UnixNano())
	got := make(chan string, 100)
	unsub, err := b.Subscribe(subject, func(_ string, data []byte) { got <- string(data) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := b.Publish(ctx, subject, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		select {
		case m := <-got:
			if want := fmt.Sprintf("m%d", i); m != want {
				t.Fatalf("message %d = %q; want %q (in order)", i, m, want)
			}
		case <-ctx.Done():
			t.Fatal("timed out waiting for messages")
		}
	}
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, subject, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		t.Fatalf("got %q after unsubscribing", m)
	default:
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Publish(cctx, subject, nil); err == nil {
		t.Fatal("Publish with a cancelled context succeeded")
	}
}

// TestPrefixAndRequests: buses with different prefixes on one NATS do not
// hear each other, subjects arrive without the prefix, and a request is
// answered by the handler of its own prefix only.
func TestPrefixAndRequests(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS")
	if url == "" {
		t.Skip("PARLEY_TEST_NATS is not set; skipping the external NATS test")
	}
	ctx := t.Context()
	open := func(prefix string) *natsbus.Bus {
		b, err := natsbus.Open(ctx, natsbus.Options{URL: url, Name: "test", Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	stamp := time.Now().UnixNano()
	a, b := open(fmt.Sprintf("ta%d", stamp)), open(fmt.Sprintf("tb%d", stamp))
	got := make(chan string, 10)
	if _, err := a.Subscribe("parley.>", func(subject string, data []byte) { got <- subject + " " + string(data) }, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "parley.chat.x", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "parley.chat.x", []byte("own")); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "parley.chat.x own" {
		t.Fatalf("received %q; want only the own prefix's message, without the prefix", m)
	}
	if _, err := b.Request(ctx, "parley.route", []byte("ping")); err == nil {
		t.Fatal("a request nobody serves succeeded")
	}
	if _, err := a.Handle("parley.route", func(data []byte) []byte { return append([]byte("re: "), data...) }); err != nil {
		t.Fatal(err)
	}
	reply, err := a.Request(ctx, "parley.route", []byte("ping"))
	if err != nil || string(reply) != "re: ping" {
		t.Fatalf("Request = %q, %v; want re: ping", reply, err)
	}
	if _, err := b.Request(ctx, "parley.route", []byte("ping")); err == nil {
		t.Fatal("a request was answered by another prefix's handler")
	}
}
