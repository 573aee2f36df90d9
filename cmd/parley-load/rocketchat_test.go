package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/rocketchat"
)

// startRCServer is startServer with the Rocket.Chat dialect in front.
func startRCServer(t *testing.T) (url, login, password string) {
	t.Helper()
	var rc *rocketchat.Handler
	ts := testserver.Start(t, testserver.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rc.Wrap(next).ServeHTTP(w, r) })
	}})
	rc = rocketchat.New(ts.Svc, rocketchat.Options{})
	t.Cleanup(rc.Shutdown)
	login, password, _, err := ts.Svc.EnsureAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ts.URL, login, password
}

// The Rocket.Chat scenarios run against the real stack: every DDP visitor
// opens and stays, every message sent comes back on its stream.
func TestRocketChatScenarios(t *testing.T) {
	url, login, password := startRCServer(t)
	res := load(t, url, login, password, "-scenario", "rc-idle", "-visitors", "20", "-base", "10", "-hold", "0s")
	if res.Counts["opened"] != 20 || res.Counts["open_at_end"] != 20 || res.Counts["unexpected_closes"] != 0 {
		t.Fatalf("rc-idle counters = %v", res.Counts)
	}
	res = load(t, url, login, password, "-scenario", "rc-active", "-chats", "5", "-agents", "1", "-rate", "50", "-duration", "1s", "-warmup", "0s")
	if res.Counts["sent"] == 0 || res.Counts["not_received"] != 0 {
		t.Fatalf("rc-active counters = %v", res.Counts)
	}
}
