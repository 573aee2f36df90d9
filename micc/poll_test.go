package micc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/micc"
)

// quiet has no queue-position pushes, so nothing happens in a chat that
// nobody acts on.
var quiet = conversation.Config{QueuePush: 1 << 62}

// requestChats starts n queued chats and drains their first events.
func requestChats(t *testing.T, s *server, n int) []string {
	t.Helper()
	c := &miccClient{t: t, base: s.URL}
	ids := make([]string, n)
	for i := range ids {
		var res struct{ ChatID *string }
		c.call("RequestChat", map[string]any{"TenantID": -1, "ServiceGroupName": "Support", "CustomerName": fmt.Sprint("Customer ", i)}, &res)
		if res.ChatID == nil {
			t.Fatal("RequestChat gave no ChatID")
		}
		ids[i] = *res.ChatID
		if evs := c.events(ids[i], 0); len(evs) == 0 {
			t.Fatal("a new chat has no ChatState event")
		}
	}
	return ids
}

// TestGetEventsTimeout: with nothing pending, GetEvents waits the Timeout
// and returns an empty list.
func TestGetEventsTimeout(t *testing.T) {
	s := newServer(t, quiet)
	agent := s.login()
	s.presence(agent, "available", "not_ready")
	chatID := requestChats(t, s, 1)[0]
	c := &miccClient{t: t, base: s.URL}

	start := time.Now()
	var res struct{ Events []chatEvent }
	c.call("GetEvents", map[string]any{"ChatID": chatID, "Timeout": 2000}, &res)
	took := time.Since(start)
	if res.Events == nil || len(res.Events) != 0 {
		t.Fatalf("Events = %v; want an empty list", res.Events)
	}
	if took < 2*time.Second {
		t.Fatalf("GetEvents returned after %v; want not before the 2 s Timeout", took)
	}
	t.Logf("GetEvents with Timeout 2000 returned empty after %v", took)
}

// TestConcurrentPolls: 1,000 GetEvents wait at once on one node (ten per
// chat), and every one of them gets its chat's end. Under the race
// detector it runs 200.
func TestConcurrentPolls(t *testing.T) {
	chats, perChat := 100, 10
	if raceEnabled {
		chats = 20
	}
	s := newServer(t, quiet)
	agent := s.login()
	s.presence(agent, "available", "not_ready")
	ids := requestChats(t, s, chats)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: chats * perChat}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type result struct {
		chat   string
		events []chatEvent
		err    error
	}
	results := make(chan result, chats*perChat)
	var wg sync.WaitGroup
	for _, id := range ids {
		for range perChat {
			wg.Go(func() {
				// Like a client: poll again after a call that timed out.
				for {
					events, err := longPoll(ctx, client, s.URL, id)
					if err != nil || len(events) > 0 {
						results <- result{chat: id, events: events, err: err}
						return
					}
				}
			})
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for s.micc.Polling() < chats*perChat {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d GetEvents are waiting after 90 s", s.micc.Polling(), chats*perChat)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := &miccClient{t: t, base: s.URL}
	for _, id := range ids {
		if code := c.call("LeaveChat", map[string]any{"ChatID": id}, nil); code != 204 {
			t.Fatalf("LeaveChat = %d", code)
		}
	}
	wg.Wait()
	close(results)
	n := 0
	for r := range results {
		if r.err != nil {
			t.Fatalf("GetEvents: %v", r.err)
		}
		if len(r.events) != 1 || r.events[0].EventType != 4 || r.events[0].Data["State"] != 2.0 || r.events[0].Data["ChatID"] != r.chat {
			t.Fatalf("GetEvents of %s = %v; want its ChatState Terminated", r.chat, r.events)
		}
		n++
	}
	if n != chats*perChat {
		t.Fatalf("%d answers; want %d", n, chats*perChat)
	}
}

// TestGetEventsRetry: a response that never reached the client is not
// lost. A client that gives up a call before the answer leaves the
// server-side cursor where it was; a client that sends back the cursor of
// the last response it read gets the same events again.
func TestGetEventsRetry(t *testing.T) {
	s := newServer(t, quiet)
	agent := s.login()
	s.presence(agent, "available", "ready")
	chatID := requestChats(t, s, 1)[0]
	id := s.offeredChat(agent)
	s.native(200, "POST", "/api/v1/chats/"+id+"/accept", agent, nil)
	c := &miccClient{t: t, base: s.URL}
	c.until(chatID, "AgentJoined", func(e chatEvent) bool { return e.EventType == 1 })
	for len(c.events(chatID, 0)) > 0 { // the rest of the accept
	}

	// A call the client abandons while it waits.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		body := fmt.Sprintf(`{"request":{"ChatID":%q,"Timeout":30000}}`, chatID)
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/chatservice/GetEvents", strings.NewReader(body))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitPolling(t, s, 1)
	cancel()
	<-done
	waitPolling(t, s, 0)
	s.native(201, "POST", "/api/v1/chats/"+id+"/messages", agent, map[string]string{"text": "first"})

	// The retry gets the message; its response carries the cursor.
	first, cursor := eventsWithCursor(t, s, fmt.Sprintf(`{"ChatID":%q,"Timeout":0}`, chatID))
	if len(first) != 1 || first[0].Data["Message"] != "first" {
		t.Fatalf("retried GetEvents = %v; want the message", first)
	}
	// Suppose that response was lost: sending back the cursor read
	// before it (here: the one before the message) returns it again.
	prev := cursor - 1
	again, _ := eventsWithCursor(t, s, fmt.Sprintf(`{"ChatID":%q,"Timeout":0,"Cursor":%d}`, chatID, prev))
	if len(again) != 1 || again[0].Data["Message"] != "first" {
		t.Fatalf("GetEvents with Cursor %d = %v; want the message again", prev, again)
	}
	// A client that read it moves on without duplicates.
	if next, _ := eventsWithCursor(t, s, fmt.Sprintf(`{"ChatID":%q,"Timeout":0,"Cursor":%d}`, chatID, cursor)); len(next) != 0 {
		t.Fatalf("GetEvents after the cursor = %v; want nothing", next)
	}
	if next := c.events(chatID, 0); len(next) != 0 {
		t.Fatalf("GetEvents after a delivered response = %v; want nothing", next)
	}
}

// longPoll makes one GetEvents call for chatID with the longest Timeout.
func longPoll(ctx context.Context, client *http.Client, base, chatID string) ([]chatEvent, error) {
	body := fmt.Sprintf(`{"request":{"ChatID":%q,"Timeout":60000}}`, chatID)
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/chatservice/GetEvents", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d %s", resp.StatusCode, data)
	}
	var res struct{ Events []chatEvent }
	if err == nil {
		err = json.Unmarshal(data, &res)
	}
	return res.Events, err
}

func waitPolling(t *testing.T, s *server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.micc.Polling() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d GetEvents waiting; want %d", s.micc.Polling(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventsWithCursor(t *testing.T, s *server, req string) ([]chatEvent, int64) {
	t.Helper()
	resp, err := http.Post(s.URL+"/chatservice/GetEvents", "application/json", strings.NewReader(`{"request":`+req+`}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// A client has a response once it has read it to its end: the server
	// moves the stored position before it ends the response.
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Events []chatEvent }
	if err := json.Unmarshal(data, &res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GetEvents = %d %v", resp.StatusCode, err)
	}
	cur, err := strconv.ParseInt(resp.Header.Get("X-Parley-Cursor"), 10, 64)
	if err != nil {
		t.Fatalf("X-Parley-Cursor %q: %v", resp.Header.Get("X-Parley-Cursor"), err)
	}
	return res.Events, cur
}

// TestGetEventsHugeTimeout: a Timeout beyond the server's maximum is
// capped, not refused.
func TestGetEventsHugeTimeout(t *testing.T) {
	s := newServer(t, quiet, micc.Options{MaxWait: time.Second})
	agent := s.login()
	s.presence(agent, "available", "not_ready")
	chatID := requestChats(t, s, 1)[0]
	for _, timeout := range []int64{1 << 62, 1<<31 - 1} {
		start := time.Now()
		code, body := s.do("POST", "/chatservice/GetEvents", "", []byte(fmt.Sprintf(`{"request":{"ChatID":%q,"Timeout":%d}}`, chatID, timeout)))
		if code != 200 || string(body) != `{"Events":[]}` {
			t.Fatalf("GetEvents with Timeout %d = %d %s", timeout, code, body)
		}
		if took := time.Since(start); took < time.Second {
			t.Fatalf("GetEvents with Timeout %d returned after %v; want the 1 s maximum", timeout, took)
		}
	}
}
