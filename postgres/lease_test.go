package postgres_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/postgres"
)

// TestLeaseAndFence: one holder at a time; a lease is taken over only once
// it expired, with a higher epoch; a write fenced by the old epoch then
// fails and changes nothing, one fenced by the new epoch succeeds.
func TestLeaseAndFence(t *testing.T) {
	s := open(t, postgres.Options{})
	ctx := t.Context()
	if st, err := s.LeaseState(ctx, postgres.RoutingLease); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("state of a lease never taken = %+v, %v; want not_found", st, err)
	}
	a, err := s.TakeLease(ctx, postgres.RoutingLease, "node-a", 300*time.Millisecond)
	if err != nil || !a.Held || a.Epoch != 1 {
		t.Fatalf("first take = %+v, %v; want held at epoch 1", a, err)
	}
	if again, err := s.TakeLease(ctx, postgres.RoutingLease, "node-a", 300*time.Millisecond); err != nil || !again.Held || again.Epoch != 1 {
		t.Fatalf("renewal = %+v, %v; want held at epoch 1", again, err)
	}
	b, err := s.TakeLease(ctx, postgres.RoutingLease, "node-b", time.Minute)
	if err != nil || b.Held || b.Holder != "node-a" || b.Epoch != 1 {
		t.Fatalf("take of a live lease = %+v, %v; want node-a's, not held", b, err)
	}
	// Reading the lease (an edge node) neither takes nor renews it.
	st, err := s.LeaseState(ctx, postgres.RoutingLease)
	if err != nil || st.Held || st.Holder != "node-a" || st.Epoch != 1 {
		t.Fatalf("state = %+v, %v; want node-a's at epoch 1, not held", st, err)
	}
	if again, err := s.LeaseState(ctx, postgres.RoutingLease); err != nil || !again.Expires.Equal(st.Expires) {
		t.Fatalf("state read again = %+v, %v; want the same expiry %v (a read renews nothing)", again, err, st.Expires)
	}

	tenant := &parley.Tenant{Name: "T"}
	if err := s.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	agent := &parley.Agent{TenantID: tenant.ID, Login: "ann", DisplayName: "Ann", Role: parley.RoleAgent, Capacity: 2}
	if err := s.CreateAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	agent.Status = parley.StatusReady
	if err := s.UpdateAgent(parley.WithFence(ctx, 1), agent); err != nil {
		t.Fatalf("write fenced by the current epoch: %v", err)
	}

	// Poll until node-a's lease has expired and node-b takes it.
	deadline := time.Now().Add(10 * time.Second)
	for !b.Held {
		if time.Now().After(deadline) {
			t.Fatalf("node-b never took the expired lease: %+v", b)
		}
		if b, err = s.TakeLease(ctx, postgres.RoutingLease, "node-b", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if b.Epoch != 2 {
		t.Fatalf("take-over epoch = %d; want 2", b.Epoch)
	}
	agent.Status = parley.StatusNotReady
	err = s.UpdateAgent(parley.WithFence(ctx, 1), agent)
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("write of the deposed epoch = %v; want %s", err, parley.EUNAVAILABLE)
	}
	if got, _ := s.Agent(ctx, agent.ID); got.Status != parley.StatusReady {
		t.Fatalf("the deposed leader's write changed the agent: status %s", got.Status)
	}
	if err := s.UpdateAgent(parley.WithFence(ctx, 2), agent); err != nil {
		t.Fatalf("write of the new epoch: %v", err)
	}
	if a, err = s.TakeLease(ctx, postgres.RoutingLease, "node-a", time.Minute); err != nil || a.Held {
		t.Fatalf("the old holder took the lease back: %+v, %v", a, err)
	}
	if err := s.ReleaseLease(ctx, postgres.RoutingLease, "node-b"); err != nil {
		t.Fatal(err)
	}
	if a, err = s.TakeLease(ctx, postgres.RoutingLease, "node-a", time.Minute); err != nil || !a.Held || a.Epoch != 3 {
		t.Fatalf("take after release = %+v, %v; want held at epoch 3", a, err)
	}
}
