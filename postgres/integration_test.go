package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/pgtest"
	"github.com/parleychat/parley/postgres"
	"github.com/parleychat/parley/webhook"
)

// The store serves the webhook sender and the integration API too.
var (
	_ webhook.Store                 = (*postgres.Store)(nil)
	_ conversation.IntegrationStore = (*postgres.Store)(nil)
)

// TestWebhookOutbox: the store hands out one delivery per chain at a
// time, in order; a lease hides a claimed delivery until its outcome or
// a release; a failed attempt waits for its next time; pruning keeps what
// is pending.
func TestWebhookOutbox(t *testing.T) {
	s := open(t, postgres.Options{})
	ctx := t.Context()
	w := &parley.Webhook{TenantID: parley.DefaultTenantID, URL: "https://example.com/h", Secret: "whsec_x"}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	mk := func(key, event string) *parley.WebhookDelivery {
		return &parley.WebhookDelivery{WebhookID: w.ID, TenantID: w.TenantID, ChatID: key, OrderKey: key, Event: event, Payload: `{"k":"` + key + `"}`, CreatedAt: now}
	}
	a1, a2, b1 := mk("a", "requested"), mk("a", "queued"), mk("b", "requested")
	if err := s.CaptureDeliveries(ctx, nil, []*parley.WebhookDelivery{a1, a2, b1}); err != nil {
		t.Fatal(err)
	}
	claim := func(at time.Time) []int64 {
		ds, err := s.ClaimDeliveries(ctx, at, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := claim(now); len(got) != 2 || got[0] != a1.ID || got[1] != b1.ID {
		t.Fatalf("first claim %v; want the heads %d and %d", got, a1.ID, b1.ID)
	}
	if got := claim(now); len(got) != 0 {
		t.Fatalf("claimed again under the lease: %v", got)
	}
	if err := s.ReleaseDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claim(now); len(got) != 2 {
		t.Fatalf("after release %v", got)
	}
	if err := s.MarkDelivered(ctx, a1.ID, 200, now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryFailed(ctx, b1.ID, now.Add(time.Hour), 500, "receiver answered 500", false); err != nil {
		t.Fatal(err)
	}
	if got := claim(now); len(got) != 1 || got[0] != a2.ID {
		t.Fatalf("after a1 delivered and b1 failed: %v; want only %d", got, a2.ID)
	}
	if got := claim(now.Add(2 * time.Hour)); len(got) != 2 || got[0] != a2.ID || got[1] != b1.ID {
		t.Fatalf("when b1 is due: %v", got)
	}
	if err := s.PruneDeliveries(ctx, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.WebhookDeliveries(ctx, w.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].ID != b1.ID || ds[1].ID != a2.ID || ds[0].Attempts != 3 || ds[1].Attempts != 2 {
		t.Fatalf("after pruning: %+v", ds)
	}
	if ds[0].Payload != `{"k":"b"}` {
		t.Errorf("payload came back as %s", ds[0].Payload)
	}
}

// TestWebhookCapture: the triggers of migration 0011 capture a tenant's
// events, offers and offline messages in the transactions that store
// them, and nothing of a tenant without a webhook.
func TestWebhookCapture(t *testing.T) {
	s := open(t, postgres.Options{})
	ctx := t.Context()
	quiet := &parley.Tenant{Name: "No hooks"}
	if err := s.CreateTenant(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	w := &parley.Webhook{TenantID: parley.DefaultTenantID, URL: "https://example.com/h", Secret: "whsec_x"}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	agent := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "alice", Role: parley.RoleAgent, Capacity: 1,
		Presence: parley.PresenceAvailable, Status: parley.StatusReady}
	if err := s.CreateAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []int64{parley.DefaultTenantID, quiet.ID} {
		g := &parley.Group{TenantID: tenant, Name: "Support"}
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		v := &parley.Visitor{ID: fmt.Sprint("v", tenant), TenantID: tenant}
		if err := s.CreateVisitor(ctx, v); err != nil {
			t.Fatal(err)
		}
		c := &parley.Chat{ID: fmt.Sprint("c", tenant), TenantID: tenant, GroupID: g.ID, VisitorID: v.ID, State: parley.StateQueued}
		if _, err := s.CreateChat(ctx, c, []parley.Event{{Type: parley.EventMessage, Text: "hello"}}); err != nil {
			t.Fatal(err)
		}
		if tenant == parley.DefaultTenantID {
			c.OfferedTo = agent.ID
			if _, err := s.UpdateChat(ctx, c, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: tenant, GroupID: g.ID, Name: "n", Email: "e@example.com", Message: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.WebhookBacklog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range rows {
		if r.TenantID != parley.DefaultTenantID {
			t.Errorf("captured %+v of a tenant without webhooks", r)
		}
		kinds = append(kinds, r.Kind)
		if r.Kind == "offered" && (r.Ref != agent.ID || r.ChatID != "c-1") {
			t.Errorf("offer captured as %+v", r)
		}
	}
	if strings.Join(kinds, " ") != "event offered offline" {
		t.Errorf("captured %q, want event, offered, offline", kinds)
	}
	ids := []int64{}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if err := s.CaptureDeliveries(ctx, ids, nil); err != nil {
		t.Fatal(err)
	}
	if rows, err := s.WebhookBacklog(ctx, 100); err != nil || len(rows) != 0 {
		t.Errorf("backlog after capture: %v, %v", rows, err)
	}
}

// TestIntegrationRecords: API keys, bots and chat data round-trip.
func TestIntegrationRecords(t *testing.T) {
	s := open(t, postgres.Options{})
	ctx := t.Context()
	k := &parley.APIKey{TenantID: parley.DefaultTenantID, Name: "bot", Prefix: "pk_ab", Hash: []byte{1, 2, 3}}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, &parley.APIKey{TenantID: parley.DefaultTenantID, Name: "x", Prefix: "pk_x", Hash: []byte{1, 2, 3}}); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("a second key with the same hash: %v, want ECONFLICT", err)
	}
	got, err := s.APIKeyByHash(ctx, []byte{1, 2, 3})
	if err != nil || got.ID != k.ID || !got.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("key by hash: %+v, %v", got, err)
	}
	if err := s.RevokeAPIKey(ctx, parley.DefaultTenantID, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, parley.DefaultTenantID, 999, time.Now()); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("revoke a missing key: %v", err)
	}
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Bots"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Robo", "Robo 2"} {
		if err := s.SetGroupBot(ctx, parley.DefaultTenantID, g.ID, name); err != nil {
			t.Fatal(err)
		}
	}
	if name, err := s.GroupBot(ctx, g.ID); err != nil || name != "Robo 2" {
		t.Errorf("group bot %q, %v", name, err)
	}
	v := &parley.Visitor{ID: "v", TenantID: parley.DefaultTenantID}
	if err := s.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{ID: "c", TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: v.ID}
	if _, err := s.CreateChat(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChatData(ctx, "c", map[string]string{"order": "42", "tier": "gold"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChatData(ctx, "c", map[string]string{"tier": "", "order": "43"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, err := s.ChatData(ctx, "c"); err != nil || len(d) != 1 || d["order"] != "43" {
		t.Errorf("chat data %v, %v", d, err)
	}
	if err := s.SetChatData(ctx, "ghost", map[string]string{"a": "b"}, time.Now()); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("data of a missing chat: %v, want EINVALID", err)
	}
}

// TestOpenRefusesAsyncCommit: a URL that would acknowledge commits before
// they are flushed is refused.
func TestOpenRefusesAsyncCommit(t *testing.T) {
	url := pgtest.URL(t)
	s, err := postgres.Open(t.Context(), url+"&synchronous_commit=off", postgres.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open accepted synchronous_commit=off")
	}
	if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("error %q does not name the setting", err)
	}
}

// TestFirstGeneratedIDsAreOne: the default tenant -1 does not move the
// sequences, and IDs the caller chose are skipped by later generated ones.
func TestFirstGeneratedIDsAreOne(t *testing.T) {
	ctx := t.Context()
	s := open(t, postgres.Options{})
	tn := &parley.Tenant{Name: "Acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	g := &parley.Group{TenantID: tn.ID, Name: "Sales"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if tn.ID != 1 || g.ID != 1 {
		t.Errorf("first generated ids: tenant %d, group %d; want 1, 1", tn.ID, g.ID)
	}
	if err := s.CreateGroup(ctx, &parley.Group{ID: 7, TenantID: tn.ID, Name: "Seeded"}); err != nil {
		t.Fatal(err)
	}
	next := &parley.Group{TenantID: tn.ID, Name: "Next"}
	if err := s.CreateGroup(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.ID != 8 {
		t.Errorf("group after the explicit 7 got id %d, want 8", next.ID)
	}
}
