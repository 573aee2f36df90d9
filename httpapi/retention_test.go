package httpapi_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/webhook"
)

// stepClock is a conversation.Clock that moves only when the test steps
// it; stepping runs the timers that fell due.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	c    *stepClock
	at   time.Time
	f    func()
	done bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) conversation.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// Step moves the clock by d and starts the timers now due.
func (c *stepClock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.done = true
			due = append(due, t.f)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		go f()
	}
}

// person is one visitor of the retention test, with the strings that
// are theirs alone.
type person struct {
	name, email, word string
	chatID            string
	fileID            string
	mailID            int64
}

// visit runs a whole chat of p with agent: the request with a first
// message, the agent's answer, a file, a transcript mail and the end.
func visit(t *testing.T, ts *testserver.Server, agent string, p *person) {
	t.Helper()
	var started httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": p.name,
		"email": p.email, "phone": "+49 30 555 " + p.word[:4], "message": "Hello, my code word is " + p.word}, &started)
	p.chatID = started.Chat.ID
	tok := started.VisitorToken
	if got := ts.OfferedChat(agent); got != p.chatID {
		t.Fatalf("offered %s, want %s", got, p.chatID)
	}
	path := "/api/v1/chats/" + p.chatID
	ts.Must(http.StatusOK, "POST", path+"/accept", agent, nil, nil)
	ts.Must(http.StatusCreated, "POST", path+"/messages", agent, map[string]any{"text": "Thanks " + p.name + ", noted: " + p.word}, nil)
	ts.Must(http.StatusCreated, "POST", path+"/messages", tok, map[string]any{"text": "Write to " + p.email + " about " + p.word}, nil)
	var file struct {
		File parley.Attachment `json:"file"`
	}
	ts.Must(http.StatusCreated, "POST", path+"/files?name="+strings.ReplaceAll(p.name, " ", "-")+".txt", tok,
		[]byte("Invoice for "+p.name+" <"+p.email+">: "+p.word+"\n"), &file)
	p.fileID = file.File.ID
	var queued httpapi.TranscriptQueuedBody
	ts.Must(http.StatusAccepted, "POST", path+"/transcript", tok, map[string]any{"email": p.email}, &queued)
	p.mailID = queued.ID
	ts.Must(http.StatusNoContent, "POST", path+"/end", agent, nil, nil)
}

// scan returns the files under dir that hold any of the needles, and
// what they hold.
func scan(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				rel, _ := filepath.Rel(dir, path)
				found = append(found, fmt.Sprintf("%s holds %q", rel, n))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRetentionAndErasureLeaveNothing fills chats with messages, files,
// transcript mail, offline messages and webhook deliveries; runs the
// retention job on a stepped clock, which deletes the old visitor's data;
// erases one of the newer visitors by email; and then finds none of the
// deleted visitors' names, addresses and code words anywhere in the data
// directory (the SQLite database, its WAL, the text index, the files),
// while the other newer visitor's data is all there.
func TestRetentionAndErasureLeaveNothing(t *testing.T) {
	clk := &stepClock{now: time.Date(2031, 3, 2, 10, 0, 0, 0, time.UTC)}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(hook.Close)
	boss := testserver.Agent("boss", "Boss")
	boss.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Config: conversation.Config{Clock: clk, MailFrom: "chat@example.com"},
		Groups: []*parley.Group{{ID: 1, Name: "Support"}},
		Agents: []*parley.Agent{testserver.Agent("alice", "Alice", 1), boss},
		// Delivered webhooks are listed for a year, longer than the
		// retention period, so only retention and erasure delete them.
		Integration: &webhook.Options{Now: clk.Now, Poll: 20 * time.Millisecond, Keep: 365 * 24 * time.Hour},
		StoreNow:    clk.Now,
	})
	admin := ts.Login("boss")
	ts.Must(http.StatusCreated, "POST", "/integration/v1/admin/webhooks", admin, map[string]any{"url": hook.URL}, nil)
	agent := ts.Login("alice")
	ts.Presence(agent, "available", "ready")
	job := make(chan struct{})
	go func() { defer close(job); ts.Svc.RunRetention(t.Context(), time.Hour) }()
	t.Cleanup(func() { <-job })

	old := &person{name: "Olivia Oldtimer", email: "olivia.oldtimer@example.com", word: "marmalopolis"}
	erased := &person{name: "Erwin Erasmus", email: "erwin.erasmus@example.com", word: "quixotrombone"}
	kept := &person{name: "Nora Newcomer", email: "nora.newcomer@example.com", word: "zephyrkettle"}
	visit(t, ts, agent, old)
	ts.Must(http.StatusCreated, "POST", "/api/v1/offline-messages", "", map[string]any{"group": "Support",
		"name": old.name, "email": old.email, "message": "Call me about " + old.word}, nil)

	clk.Step(20 * 24 * time.Hour)
	// Sessions last hours, not weeks.
	agent, admin = ts.Login("alice"), ts.Login("boss")
	ts.Presence(agent, "available", "ready")
	visit(t, ts, agent, erased)
	visit(t, ts, agent, kept)
	ts.Must(http.StatusCreated, "POST", "/api/v1/offline-messages", "", map[string]any{"group": "Support",
		"name": erased.name, "email": strings.ToUpper(erased.email), "message": "Please call back: " + erased.word}, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/offline-messages", "", map[string]any{"group": "Support",
		"name": kept.name, "email": kept.email, "message": "Please call back: " + kept.word}, nil)
	ts.Must(http.StatusOK, "PUT", "/api/v1/admin/retention", admin, map[string]any{"retention_days": 30}, nil)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.Dir, "p.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Every chat's events have become webhook deliveries, which carry the
	// message text.
	waitFor(t, "webhook deliveries of every chat", func() bool {
		return count(`SELECT count(*) FROM webhook_backlog`) == 0 &&
			count(`SELECT count(DISTINCT chat_id) FROM webhook_deliveries WHERE chat_id <> ''`) == 3
	})
	everyone := func(p *person) []string { return []string{p.name, p.email, p.word} }
	if found := scan(t, ts.Dir, everyone(erased)...); len(found) < 3 {
		t.Fatalf("before the erasure the scan finds only %v; it would prove nothing", found)
	}

	// Day 35: the job deletes what is older than 30 days: Olivia's.
	clk.Step(15 * 24 * time.Hour)
	waitFor(t, "the retention run", func() bool {
		return count(`SELECT count(*) FROM chats WHERE id = $1`, old.chatID) == 0 &&
			count(`SELECT count(*) FROM visitors WHERE name = $1`, old.name) == 0
	})
	admin = ts.Login("boss")
	var rec conversation.Receipt
	ts.Must(http.StatusOK, "POST", "/api/v1/admin/erasure", admin, map[string]any{"email": "Erwin.Erasmus@example.com"}, &rec)
	want := parley.Deletion{Visitors: 1, Chats: 1, Events: rec.Deleted.Events, Attachments: 1, Files: 1, Ratings: 0,
		OfflineMessages: 1, Mails: 1, WebhookDeliveries: rec.Deleted.WebhookDeliveries}
	rec.Deleted.ChatIDs = nil
	if rec.Key != "email" || !reflect.DeepEqual(rec.Deleted, want) || rec.Deleted.Events < 4 || rec.Deleted.WebhookDeliveries < 4 {
		t.Errorf("receipt %+v; want key email and %+v with at least 4 events and deliveries", rec, want)
	}

	// The erasure scrubbed the files before it answered; what the server
	// writes afterwards is new.
	if found := scan(t, ts.Dir, append(everyone(erased), everyone(old)...)...); len(found) > 0 {
		t.Errorf("deleted personal data is still on disk:\n%s", strings.Join(found, "\n"))
	}

	// Nora's data is all there.
	if found := scan(t, ts.Dir, everyone(kept)...); len(found) == 0 {
		t.Error("the kept visitor's data is gone from disk")
	}
	ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+kept.chatID, admin, nil, nil)
	body := ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+kept.chatID+"/files/"+kept.fileID, admin, nil, nil)
	if !bytes.Contains(body, []byte(kept.word)) {
		t.Errorf("the kept visitor's file reads %q", body)
	}
	ts.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/mail/%d", kept.mailID), admin, nil, nil)
	var page struct {
		Chats []struct {
			ID string `json:"id"`
		} `json:"chats"`
	}
	ts.Must(http.StatusOK, "GET", "/api/v1/archive?text="+kept.word, admin, nil, &page)
	if len(page.Chats) != 1 || page.Chats[0].ID != kept.chatID {
		t.Errorf("archive search for the kept word: %+v", page.Chats)
	}
	ts.Must(http.StatusOK, "GET", "/api/v1/archive?text="+erased.word, admin, nil, &page)
	if len(page.Chats) != 0 {
		t.Errorf("archive search still finds the erased word: %+v", page.Chats)
	}
	if n := count(`SELECT count(*) FROM offline_messages WHERE name = $1`, kept.name); n != 1 {
		t.Errorf("the kept visitor's offline messages: %d", n)
	}
	if n := count(`SELECT count(*) FROM webhook_deliveries WHERE chat_id = $1`, kept.chatID); n < 4 {
		t.Errorf("the kept visitor's webhook deliveries: %d", n)
	}
	for _, p := range []*person{old, erased} {
		ts.Must(http.StatusNotFound, "GET", "/api/v1/chats/"+p.chatID, admin, nil, nil)
		if _, err := os.Stat(filepath.Join(ts.Dir, "files", p.chatID)); !os.IsNotExist(err) {
			t.Errorf("the files of %s's chat are still there (%v)", p.name, err)
		}
	}
}

// An admin applies the retention period at once ("run now"); the run and
// its counts are in the audit log under the admin's name. Bad input names
// its field and changes nothing.
func TestRetentionRunNow(t *testing.T) {
	clk := &stepClock{now: time.Date(2031, 3, 2, 10, 0, 0, 0, time.UTC)}
	boss := testserver.Agent("boss", "Boss")
	boss.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Config:   conversation.Config{Clock: clk, MailFrom: "chat@example.com"},
		Groups:   []*parley.Group{{ID: 1, Name: "Support"}},
		Agents:   []*parley.Agent{testserver.Agent("alice", "Alice", 1), boss},
		StoreNow: clk.Now,
	})
	admin, agent := ts.Login("boss"), ts.Login("alice")
	ts.Presence(agent, "available", "ready")
	field := func(body []byte) string {
		var e struct {
			Error struct{ Field string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return e.Error.Field
	}
	if st, body := ts.Do("POST", "/api/v1/admin/retention/run", admin, nil); st != http.StatusBadRequest || field(body) != "retention_days" {
		t.Errorf("run without a period = %d %s; want 400 about retention_days", st, body)
	}
	if st, body := ts.Do("PUT", "/api/v1/admin/retention", admin, map[string]any{"retention_days": 36501}); st != http.StatusBadRequest || field(body) != "retention_days" {
		t.Errorf("a period of 36501 days = %d %s; want 400 about retention_days", st, body)
	}
	if st, body := ts.Do("POST", "/api/v1/admin/erasure", admin, map[string]any{"phone": strings.Repeat("1", 321)}); st != http.StatusBadRequest || field(body) != "phone" {
		t.Errorf("a 321-character phone = %d %s; want 400 about phone", st, body)
	}
	if st, _ := ts.Do("POST", "/api/v1/admin/retention/run", agent, nil); st != http.StatusForbidden {
		t.Errorf("an agent's run = %d, want 403", st)
	}
	p := &person{name: "Rita Runnow", email: "rita.runnow@example.com", word: "lanternfish"}
	visit(t, ts, agent, p)
	ts.Must(http.StatusOK, "PUT", "/api/v1/admin/retention", admin, map[string]any{"retention_days": 1}, nil)
	var d parley.Deletion
	ts.Must(http.StatusOK, "POST", "/api/v1/admin/retention/run", admin, nil, &d)
	if d.Chats != 0 {
		t.Errorf("a run within the period deleted %+v", d)
	}
	clk.Step(36 * time.Hour)
	admin = ts.Login("boss")
	ts.Must(http.StatusOK, "POST", "/api/v1/admin/retention/run", admin, nil, &d)
	if d.Chats != 1 || d.Visitors != 1 || d.Files != 1 || d.Mails != 1 {
		t.Errorf("the run after the period deleted %+v; want Rita's chat, visitor, file and mail", d)
	}
	ts.Must(http.StatusNotFound, "GET", "/api/v1/chats/"+p.chatID, admin, nil, nil)
	var log []parley.AuditEntry
	ts.Must(http.StatusOK, "GET", "/api/v1/admin/audit?action=retention.run", admin, nil, &log)
	if len(log) != 2 || log[0].ActorLogin != "boss" || !strings.Contains(log[0].Detail, "1 chats") || !strings.Contains(log[1].Detail, "0 chats") {
		t.Errorf("audit of the runs = %+v; want two by boss, the newer deleting 1 chat", log)
	}
}
