package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// `parley ready` passes for a serving node and fails, saying why, for one
// that reports not ready or does not answer.
func TestReadyCommand(t *testing.T) {
	p := launch(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	var out bytes.Buffer
	if err := run(context.Background(), []string{"ready", p.url}, func(string) (string, bool) { return "", false }, &out, &out); err != nil {
		t.Fatalf("ready against a serving node: %v", err)
	}
	if strings.TrimSpace(out.String()) != "ready" {
		t.Fatalf("output %q", out.String())
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		http.Error(w, `{"error":{"code":"unavailable","message":"bus: no connection"}}`, http.StatusServiceUnavailable)
	}))
	defer down.Close()
	err := ready(context.Background(), []string{down.URL + "/readyz"}, &out)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "bus: no connection") {
		t.Fatalf("ready against a node that is not ready: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if err := ready(context.Background(), []string{"http://" + addr}, &out); err == nil {
		t.Fatal("ready against a closed port passed")
	}
	if err := ready(context.Background(), []string{"a", "b"}, &out); err == nil {
		t.Fatal("ready with two arguments passed")
	}
}
