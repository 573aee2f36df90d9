package main

import (
	"os"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
)

// TestDemoAccountsStartNotReady: signing in to the demo makes every account
// present but not ready, as README ("click Go ready") and docs/console.md
// say; a visitor's chat waits until an agent goes ready. Signing out and
// in again, across a restart, is not ready again.
func TestDemoAccountsStartNotReady(t *testing.T) {
	for file, says := range map[string]string{
		"../../README.md":       "click *Go ready*",
		"../../docs/console.md": "in makes you present (your groups open, colleagues see you) but not ready",
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(strings.Fields(string(data)), " "), says) {
			t.Fatalf("%s no longer says %q; this test checks that behaviour", file, says)
		}
	}

	dir := t.TempDir()
	p := start(t, dir)
	signIn := func(login string) (string, parley.Agent) {
		t.Helper()
		tok := p.login(login)
		var a parley.Agent
		// What the console does at sign-in.
		p.must(200, "PUT", "/api/v1/me/presence", tok, map[string]string{"presence": "available"}, &a)
		return tok, a
	}
	for _, login := range []string{"agent1", "agent2", "supervisor", "admin"} {
		if _, a := signIn(login); a.Presence != parley.PresenceAvailable || a.Status != parley.StatusNotReady {
			t.Errorf("%s signs in %s and %s; want available and not_ready", login, a.Presence, a.Status)
		}
	}
	var started httpapi.ChatStartedBody
	p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hello"}, &started)
	if started.Chat.State != parley.StateQueued || started.Chat.Queue == nil || started.Chat.Queue.Position != 1 {
		t.Errorf("with nobody ready the chat is %s at %+v; want queued at position 1", started.Chat.State, started.Chat.Queue)
	}

	// Ready, signed out, restarted, signed in: not ready again.
	tok := p.login("agent2")
	p.must(200, "PUT", "/api/v1/me/presence", tok, map[string]string{"presence": "available", "status": "ready"}, nil)
	p.must(204, "POST", "/api/v1/auth/logout", tok, nil, nil)
	p.stop()
	p = start(t, dir)
	if _, a := signIn("agent2"); a.Status != parley.StatusNotReady {
		t.Errorf("agent2 signs in %s after signing out ready; want not_ready", a.Status)
	}
}
