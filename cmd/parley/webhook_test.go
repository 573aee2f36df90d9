package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/webhook"
)

// receiver is a webhook endpoint as a customer would write one: it
// verifies every signature, acknowledges with 200, and keeps each
// delivery once by its Parley-Delivery ID. While down it answers 503.
type receiver struct {
	t       *testing.T
	secret  atomic.Value // string
	down    atomic.Bool
	refused atomic.Int64 // requests answered 503 while down

	mu       sync.Mutex
	byID     map[string][]byte  // delivery ID → body, first copy
	order    []webhook.Payload  // first copies in arrival order
	bad      []string           // verification failures
	repeated map[string]int     // delivery ID → copies after the first
	events   map[string]int     // payload ID → distinct deliveries
	chatSeq  map[string][]int64 // chat → seqs in arrival order
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, byID: map[string][]byte{}, repeated: map[string]int{}, events: map[string]int{}, chatSeq: map[string][]int64{}}
	r.secret.Store("")
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.down.Load() {
		r.refused.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get(webhook.HeaderDelivery)
	err = webhook.Verify(r.secret.Load().(string), req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature),
		body, time.Now(), 5*time.Minute)
	if err != nil || id == "" {
		r.bad = append(r.bad, fmt.Sprintf("delivery %q: %v", id, err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if first, ok := r.byID[id]; ok {
		// A delivery sent again (its acknowledgement was not recorded
		// before a crash): the same bytes, dropped by its ID.
		if string(first) != string(body) {
			r.bad = append(r.bad, "delivery "+id+" came again with another body")
		}
		r.repeated[id]++
		w.WriteHeader(http.StatusOK)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.bad = append(r.bad, "delivery "+id+": "+err.Error())
	}
	if p.Event != req.Header.Get(webhook.HeaderEvent) {
		r.bad = append(r.bad, "delivery "+id+": event header differs from the body")
	}
	r.byID[id] = body
	r.order = append(r.order, p)
	r.events[p.ID]++
	if p.ChatID != "" {
		r.chatSeq[p.ChatID] = append(r.chatSeq[p.ChatID], p.Seq)
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// TestWebhooksSurviveKill: a receiver verifies every delivery's
// signature, is down for a while, and after a SIGKILL of Parley in the
// middle of traffic and a restart has received every event exactly once
// (deliveries repeated by the crash are recognized by their ID) and each
// chat's events in order. The admin API shows each delivery delivered.
func TestWebhooksSurviveKill(t *testing.T) {
	rec := newReceiver(t)
	rs := httptest.NewServer(rec)
	defer rs.Close()
	dir := t.TempDir()
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir, "--webhook-retry", "100ms", "--webhook-retry-max", "1s"}
	p := launch(t, args...)

	admin := p.login("admin")
	var sub struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	p.must(201, "POST", "/integration/v1/admin/webhooks", admin, map[string]any{"url": rs.URL + "/hook"}, &sub)
	if sub.Secret == "" {
		t.Fatal("no secret")
	}
	rec.secret.Store(sub.Secret)
	agent := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, nil)
	request := func(name string) httpapi.ChatStartedBody {
		var res httpapi.ChatStartedBody
		p.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name}, &res)
		return res
	}

	// Up: a chat is requested, offered, accepted.
	a := request("Anna")
	p.must(200, "POST", "/api/v1/chats/"+a.Chat.ID+"/accept", agent, nil, nil)
	p.must(201, "POST", "/api/v1/chats/"+a.Chat.ID+"/messages", a.VisitorToken, map[string]string{"text": "hello"}, nil)

	// Down for a while: a second chat, more messages.
	rec.down.Store(true)
	b := request("Bert")
	p.must(200, "POST", "/api/v1/chats/"+b.Chat.ID+"/accept", agent, nil, nil)
	for i := range 5 {
		p.must(201, "POST", "/api/v1/chats/"+b.Chat.ID+"/messages", agent, map[string]string{"text": fmt.Sprint("down ", i)}, nil)
	}

	// Up again once Parley has found it down, and killed while both
	// sides of chat A write.
	for rec.refused.Load() == 0 {
		time.Sleep(time.Millisecond) // waiting for an attempt, which the sender makes within its poll
	}
	rec.down.Store(false)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, tok := range []string{a.VisitorToken, agent} {
		wg.Go(func() {
			for i := 0; ; i++ {
				if p.call("POST", "/api/v1/chats/"+a.Chat.ID+"/messages", tok, map[string]string{"text": fmt.Sprint("burst ", i)}, nil) != 201 {
					return
				}
				sent.Add(1)
			}
		})
	}
	for sent.Load() < 60 || rec.count() < 20 {
		time.Sleep(time.Millisecond) // waiting for traffic, bounded by the senders
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	<-p.exited
	rec.down.Store(true) // the receiver is down again over the restart

	p = launch(t, args...)
	admin, agent = p.login("admin"), p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, nil)
	p.must(204, "POST", "/api/v1/chats/"+a.Chat.ID+"/end", agent, nil, nil)
	p.must(201, "POST", "/api/v1/chats/"+a.Chat.ID+"/rating", a.VisitorToken, map[string]any{"score": 5, "comment": "fine"}, nil)
	p.must(204, "POST", "/api/v1/chats/"+b.Chat.ID+"/transfer", agent, map[string]any{"group_id": 2}, nil)
	p.must(204, "POST", "/api/v1/chats/"+b.Chat.ID+"/leave", b.VisitorToken, nil, nil)
	var off struct {
		ID int64 `json:"id"`
	}
	p.must(201, "POST", "/api/v1/offline-messages", "", map[string]string{"group": "1", "name": "Olga", "email": "olga@example.com", "message": "call me"}, &off)
	rec.down.Store(false)

	// What must arrive: every stored event a receiver hears about, one
	// offer per chat, the offline message.
	want := map[string]string{"offline:" + strconv.FormatInt(off.ID, 10): webhook.EventOfflineMessage}
	for _, chat := range []string{a.Chat.ID, b.Chat.ID} {
		for after := int64(0); ; { // a page holds at most 500 events
			var page httpapi.EventsBody
			p.must(200, "GET", "/api/v1/chats/"+chat+"/events?after="+strconv.FormatInt(after, 10), admin, nil, &page)
			if len(page.Events) == 0 {
				break
			}
			for _, e := range page.Events {
				if name := expectedEvent(e); name != "" {
					want[chat+":"+strconv.FormatInt(e.Seq, 10)] = name
				}
			}
			after = page.LastSeq
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for rec.count() < len(want)+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the receiver's progress, bounded by the deadline
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bad) > 0 {
		t.Fatalf("verification failures: %v", rec.bad)
	}
	offers := map[string]int{}
	for id, n := range rec.events {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	for _, pl := range rec.order {
		if pl.Event == webhook.EventOffered {
			offers[pl.ChatID]++
			continue
		}
		if want[pl.ID] != pl.Event {
			t.Errorf("unexpected delivery %s %s", pl.ID, pl.Event)
		}
		delete(want, pl.ID)
	}
	if len(want) > 0 {
		missing := slices.Collect(func(yield func(string) bool) {
			for id, name := range want {
				if !yield(id + " " + name) {
					return
				}
			}
		})
		sort.Strings(missing)
		t.Fatalf("%d events never arrived: %v", len(missing), missing)
	}
	if offers[a.Chat.ID] != 1 || offers[b.Chat.ID] != 1 {
		t.Fatalf("offers delivered %v; want one per chat", offers)
	}
	for chat, seqs := range rec.chatSeq {
		if !slices.IsSorted(seqs) {
			t.Fatalf("chat %s events arrived out of order: %v", chat, seqs)
		}
	}
	var repeats int
	for _, n := range rec.repeated {
		repeats += n
	}
	t.Logf("%d events delivered once each; %d copies sent again after the kill were recognized by ID", len(rec.events), repeats)

	// A delivery is marked after its receiver answered, so the last marks
	// may follow the receipts the wait above saw.
	list := func() (ds []parley.WebhookDelivery, pending int) {
		for before := int64(0); ; { // newest first, 500 at most a page
			var page []parley.WebhookDelivery
			p.must(200, "GET", "/integration/v1/admin/webhooks/"+strconv.FormatInt(sub.ID, 10)+"/deliveries?limit=500&before="+strconv.FormatInt(before, 10), admin, nil, &page)
			if len(page) == 0 {
				return ds, pending
			}
			for _, d := range page {
				if d.Status == parley.DeliveryPending {
					pending++
				}
			}
			ds = append(ds, page...)
			before = page[len(page)-1].ID
		}
	}
	ds, pending := list()
	for deadline := time.Now().Add(10 * time.Second); pending > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the sender's progress, bounded by the deadline
		ds, pending = list()
	}
	retried := 0
	for _, d := range ds {
		if d.Status != parley.DeliveryDelivered {
			t.Fatalf("delivery %d is %s (%s)", d.ID, d.Status, d.LastError)
		}
		if d.Attempts > 1 {
			retried++
		}
	}
	if len(ds) != len(rec.events) || retried == 0 {
		t.Fatalf("admin API lists %d deliveries, %d retried; the receiver has %d", len(ds), retried, len(rec.events))
	}
}

// expectedEvent is the webhook event a stored event is announced as.
func expectedEvent(e parley.Event) string {
	switch {
	case e.Type == parley.EventJoined && e.Seq == 1:
		return webhook.EventRequested
	case e.Type == parley.EventMessage:
		return webhook.EventMessage
	case e.Type == parley.EventState && e.State.State == parley.StateQueued:
		return webhook.EventQueued
	case e.Type == parley.EventState && e.State.State == parley.StateHandling:
		return webhook.EventAccepted
	case e.Type == parley.EventState && e.State.State == parley.StateTerminated:
		return webhook.EventEnded
	case e.Type == parley.EventNotice && e.Notice == parley.NoticeTransferred:
		return webhook.EventTransferred
	case e.Type == parley.EventNotice && e.Notice == parley.NoticeRated:
		return webhook.EventRating
	}
	return ""
}
