package main

import (
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/pgtest"
)

// TestServePostgres runs the real binary on PostgreSQL: `parley migrate`
// prepares an empty schema (twice, the second time finding nothing to
// do), then `parley serve --store postgres://…` serves one whole chat,
// which is in PostgreSQL and not in a SQLite file, and which a second
// server on another data directory finds where the first left it.
func TestServePostgres(t *testing.T) {
	url := pgtest.URL(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out, err := exec.Command(bin, "migrate", "--store", url).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PostgreSQL store is up to date") {
			t.Fatalf("parley migrate: %v\n%s", err, out)
		}
	}

	dir := t.TempDir()
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir, "--store", url)
	p.must(200, "GET", "/readyz", "", nil, nil)
	agentTok := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agentTok, map[string]string{"presence": "available", "status": "ready"}, nil)
	var chat httpapi.ChatStartedBody
	p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera"}, &chat)
	id := chat.Chat.ID
	p.must(200, "POST", "/api/v1/chats/"+id+"/accept", agentTok, nil, nil)
	var e parley.Event
	p.must(201, "POST", "/api/v1/chats/"+id+"/messages", chat.VisitorToken, map[string]string{"text": "my order is late"}, &e)
	p.must(201, "POST", "/api/v1/chats/"+id+"/messages", agentTok, map[string]string{"text": "let me look"}, &e)
	p.must(204, "POST", "/api/v1/chats/"+id+"/end", agentTok, nil, nil)
	p.stop()

	if _, err := os.Stat(filepath.Join(dir, "parley.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite database was created beside the PostgreSQL store: %v", err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var texts []string
	rows, err := db.QueryContext(t.Context(), `SELECT text FROM events WHERE chat_id = $1 AND type = 'message' ORDER BY seq`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, s)
	}
	rows.Close()
	// The group's welcome and queue messages come first.
	if got := strings.Join(texts, "|"); !strings.HasSuffix(got, "|my order is late|let me look") {
		t.Errorf("messages in PostgreSQL: %q", texts)
	}

	// Another node (another data directory) sees the ended chat and the
	// agent's session.
	p = launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", url)
	var v conversation.ChatView
	p.must(200, "GET", "/api/v1/chats/"+id, agentTok, nil, &v)
	if v.State != parley.StateTerminated || v.Cause != parley.CauseAgentEnded {
		t.Errorf("chat on the second server: %v %v, want terminated by the agent", v.State, v.Cause)
	}
	p.stop()
}

// TestMigrateSQLite: `parley migrate` without --store migrates the SQLite
// file in the data directory, and with a file path that file.
func TestMigrateSQLite(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(t.TempDir(), "sub", "other.db")
	for _, tt := range []struct {
		args []string
		file string
	}{
		{[]string{"migrate", "--data", dir}, filepath.Join(dir, "parley.db")},
		{[]string{"migrate", "--store", other}, other},
	} {
		var out strings.Builder
		noEnv := func(string) (string, bool) { return "", false }
		if err := run(t.Context(), tt.args, noEnv, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if !strings.Contains(out.String(), "SQLite store "+tt.file+" is up to date") {
			t.Errorf("%v printed %q", tt.args, out.String())
		}
		if _, err := os.Stat(tt.file); err != nil {
			t.Errorf("%v: %v", tt.args, err)
		}
	}
}
