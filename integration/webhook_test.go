package integration_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/webhook"
)

// hookReceiver verifies and records deliveries; it refuses the first
// `failures` requests with 500.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	failures int
	refused  int
	seen     map[string]bool
	events   []webhook.Payload
	bad      []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify(h.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		h.bad = append(h.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.refused < h.failures {
		h.refused++
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	id := r.Header.Get(webhook.HeaderDelivery)
	if !h.seen[id] {
		h.seen[id] = true
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.events = append(h.events, p)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.events {
		out = append(out, p.Event)
	}
	return out
}

// TestWebhooks: two subscriptions of one tenant, one to every event and
// one to "ended", receive a chat's events signed, in order, each once,
// the first after the receiver refused two attempts; the admin API shows
// the deliveries to the tenant's admin only.
func TestWebhooks(t *testing.T) {
	ts := stack(t, conversation.Config{}, webhook.Options{Retry: 5 * time.Millisecond, MaxRetry: 20 * time.Millisecond, Poll: 10 * time.Millisecond})
	admin := ts.Login("admin")
	all := &hookReceiver{failures: 2, seen: map[string]bool{}}
	ended := &hookReceiver{seen: map[string]bool{}}
	subscribe := func(h *hookReceiver, events []string) int64 {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		var sub struct {
			ID     int64  `json:"id"`
			Secret string `json:"secret"`
		}
		ts.Must(http.StatusCreated, "POST", "/integration/v1/admin/webhooks", admin, map[string]any{"url": srv.URL, "events": events}, &sub)
		h.mu.Lock()
		h.secret = sub.Secret
		h.mu.Unlock()
		return sub.ID
	}
	allID := subscribe(all, nil)
	subscribe(ended, []string{"ended"})

	alice := ts.Login("alice")
	ts.Presence(alice, "available", "ready")
	var chat httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "V"}, &chat)
	id := chat.Chat.ID
	ts.OfferedChat(alice)
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+id+"/accept", alice, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", chat.VisitorToken, map[string]string{"text": "one"}, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", alice, map[string]string{"text": "two"}, nil)
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+id+"/end", alice, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/rating", chat.VisitorToken, map[string]any{"score": 4}, nil)

	want := []string{"requested", "queued", "offered", "accepted", "message", "message", "ended", "rating"}
	deadline := time.Now().Add(10 * time.Second)
	for (len(all.names()) < len(want) || len(ended.names()) < 1) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the receivers' progress, bounded by the deadline
	}
	got := all.names()
	if len(got) != len(want) {
		t.Fatalf("all events: %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("all events: %v; want %v", got, want)
		}
	}
	if e := ended.names(); len(e) != 1 || e[0] != "ended" {
		t.Fatalf("ended subscription got %v", e)
	}
	all.mu.Lock()
	if len(all.bad) > 0 || all.refused != 2 {
		t.Fatalf("bad %v, refused %d", all.bad, all.refused)
	}
	p := all.events[4]
	all.mu.Unlock()
	data, _ := json.Marshal(p.Data)
	var msg parley.Event
	if err := json.Unmarshal(data, &msg); err != nil || msg.Text != "one" || p.ChatID != id || p.ID != id+":"+strconv.FormatInt(msg.Seq, 10) {
		t.Fatalf("message payload %+v", p)
	}

	// A delivery is marked after its receiver answered: the last answer
	// may arrive before its mark.
	var ds []parley.WebhookDelivery
	for deadline := time.Now().Add(10 * time.Second); ; {
		ts.Must(http.StatusOK, "GET", "/integration/v1/admin/webhooks/"+strconv.FormatInt(allID, 10)+"/deliveries", admin, nil, &ds)
		if len(ds) == 0 || ds[0].Status != parley.DeliveryPending || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // the sender's progress, bounded by the deadline
	}
	if len(ds) != len(want) || ds[len(ds)-1].Attempts != 3 || ds[0].Status != parley.DeliveryDelivered {
		t.Fatalf("deliveries %+v", ds)
	}
	if st, _ := ts.Do("GET", "/integration/v1/admin/webhooks/"+strconv.FormatInt(allID, 10)+"/deliveries", alice, nil); st != http.StatusForbidden {
		t.Fatalf("an agent reads deliveries: %d", st)
	}
	ts.Must(http.StatusNoContent, "DELETE", "/integration/v1/admin/webhooks/"+strconv.FormatInt(allID, 10), admin, nil, nil)
	var hooks []parley.Webhook
	ts.Must(http.StatusOK, "GET", "/integration/v1/admin/webhooks", admin, nil, &hooks)
	if len(hooks) != 1 || hooks[0].Events[0] != "ended" {
		t.Fatalf("webhooks after delete: %+v", hooks)
	}
}
