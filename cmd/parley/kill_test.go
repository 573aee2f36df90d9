package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
)

// TestKillDuringHeavyTraffic is TestKillDuringTraffic at about 5,000
// messages per second: 6 chats with both sides sending and 20 queued
// chats whose visitors send, 32 senders paced to 5,000 messages per second
// in total, and SIGKILL after 10,000 acknowledgements. After the restart
// every acknowledged message must be in its chat's log exactly once, at
// the seq its ack gave, and every log must be 1..N. It skips unless
// PARLEY_BENCH=1: it keeps both cores busy for a few seconds.
func TestKillDuringHeavyTraffic(t *testing.T) {
	if os.Getenv("PARLEY_BENCH") != "1" || testing.Short() {
		t.Skip("set PARLEY_BENCH=1 to run")
	}
	const rate, killAfter = 5000, 10000
	dir := t.TempDir()
	p := start(t, dir)
	request := func(name string) httpapi.ChatStartedBody {
		var res httpapi.ChatStartedBody
		p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name}, &res)
		return res
	}
	type sender struct{ chatID, token, who string }
	var senders []sender
	for _, login := range []string{"agent1", "agent2"} {
		tok := p.login(login)
		p.must(200, "PUT", "/api/v1/me/presence", tok, map[string]string{"presence": "available", "status": "ready"}, nil)
		for i := range parley.DefaultCapacity {
			c := request(fmt.Sprintf("%s chat %d", login, i))
			p.must(200, "POST", "/api/v1/chats/"+c.Chat.ID+"/accept", tok, nil, nil)
			senders = append(senders, sender{c.Chat.ID, c.VisitorToken, "visitor"}, sender{c.Chat.ID, tok, login})
		}
	}
	for i := range 20 {
		c := request(fmt.Sprintf("Queued %d", i))
		senders = append(senders, sender{c.Chat.ID, c.VisitorToken, "visitor"})
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(senders)}}
	post := func(s sender, text string) (parley.Event, bool) {
		body, _ := json.Marshal(map[string]string{"text": text})
		req, _ := http.NewRequest("POST", p.url+"/api/v1/chats/"+s.chatID+"/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := client.Do(req)
		if err != nil {
			return parley.Event{}, false // the process is gone
		}
		defer resp.Body.Close()
		var e parley.Event
		if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&e) != nil {
			return parley.Event{}, false
		}
		return e, true
	}

	type ack struct {
		chatID string
		seq    int64
	}
	var (
		mu    sync.Mutex
		acked = map[string]ack{} // text → where its ack put it
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	began := time.Now()
	every := time.Duration(len(senders)) * time.Second / rate
	for n, s := range senders {
		wg.Go(func() {
			next := time.Now()
			for i := 0; ; i++ {
				if d := time.Until(next); d > 0 {
					time.Sleep(d) // pacing to the target rate, not synchronisation
				}
				next = next.Add(every)
				text := fmt.Sprintf("%s %d in %s #%d", s.who, n, s.chatID, i)
				e, ok := post(s, text)
				if !ok {
					return
				}
				mu.Lock()
				acked[text] = ack{s.chatID, e.Seq}
				if len(acked) == killAfter {
					close(enough)
				}
				mu.Unlock()
			}
		})
	}
	<-enough
	elapsed := time.Since(began)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	<-p.exited
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d messages acknowledged in %.2f s before SIGKILL (%.0f/s; target %d/s)",
		killAfter, elapsed.Seconds(), killAfter/elapsed.Seconds(), rate)

	p = start(t, dir)
	admin := p.login("admin")
	chats := map[string]bool{}
	for _, s := range senders {
		chats[s.chatID] = true
	}
	stored := map[string]ack{}
	for chatID := range chats {
		var log []parley.Event // every page: a poll returns a bounded page
		for {
			var page httpapi.EventsBody
			p.must(200, "GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d", chatID, len(log)), admin, nil, &page)
			if len(page.Events) == 0 {
				break
			}
			log = append(log, page.Events...)
		}
		for i, e := range log {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d: a gap or duplicate in the log", chatID, i, e.Seq)
			}
			if e.Type != parley.EventMessage || e.From.Kind == parley.PartySystem { // greetings repeat in every chat
				continue
			}
			if _, dup := stored[e.Text]; dup {
				t.Fatalf("message %q stored twice", e.Text)
			}
			stored[e.Text] = ack{chatID, e.Seq}
		}
	}
	for text, a := range acked {
		if got, ok := stored[text]; !ok || got != a {
			t.Fatalf("acknowledged message %q (%s seq %d) after restart: %+v, found %v", text, a.chatID, a.seq, got, ok)
		}
	}
	t.Logf("%d acknowledged messages, %d stored", len(acked), len(stored))
}
