package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/sqlite"
)

// TestWebhookOutbox: the store hands out one delivery per chain at a
// time, in order; a lease hides a claimed delivery until its outcome or
// a release; a failed attempt waits for its next time; pruning keeps what
// is pending.
func TestWebhookOutbox(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	ctx := t.Context()
	w := &parley.Webhook{TenantID: parley.DefaultTenantID, URL: "https://example.com/h", Secret: "whsec_x"}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	mk := func(key, event string) *parley.WebhookDelivery {
		return &parley.WebhookDelivery{WebhookID: w.ID, TenantID: w.TenantID, ChatID: key, OrderKey: key, Event: event, Payload: "{}", CreatedAt: now}
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
	// The sender died: its leases end.
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
	// Later: b1 is due again, and a2's lease (a minute) has run out.
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
}
