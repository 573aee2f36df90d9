package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/servicetest"
)

// TestStoreWhileDatabaseDown: on a PostgreSQL of the test's own, shut
// down (fast) and started again, appends and reads fail with EUNAVAILABLE
// and a retry delay while it is down, nothing is stored twice, and the
// same store (pool and group-commit writer) works again by itself once
// it is back.
func TestStoreWhileDatabaseDown(t *testing.T) {
	pg := servicetest.StartPostgres(t)
	ctx := t.Context()
	s, err := Open(ctx, pg.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	v := &parley.Visitor{ID: "v", TenantID: parley.DefaultTenantID, Name: "V"}
	if err := s.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{ID: "c", TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: v.ID}
	if _, err := s.CreateChat(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	msg := func(id string) []parley.Event {
		return []parley.Event{{Type: parley.EventMessage, From: parley.Party{Kind: parley.PartyVisitor}, Text: id, ClientID: id}}
	}
	if _, err := s.AppendEvents(ctx, "c", msg("before")); err != nil {
		t.Fatal(err)
	}

	pg.Stop()
	unavailable := func(what string, err error) {
		t.Helper()
		if parley.ErrorCode(err) != parley.EUNAVAILABLE || parley.RetryAfter(err) != RetryAfter {
			t.Errorf("%s while the database is down: code %q, retry after %s (%v); want %s after %s",
				what, parley.ErrorCode(err), parley.RetryAfter(err), err, parley.EUNAVAILABLE, RetryAfter)
		}
	}
	// A batch of several appends and a lone one.
	errs := make(chan error, 3)
	for i := range 3 {
		s.AppendEventsAsync(ctx, "c", msg(fmt.Sprintf("down %d", i)), func(_ []parley.Event, err error) { errs <- err })
	}
	for range 3 {
		unavailable("an append", <-errs)
	}
	_, err = s.AppendEvents(ctx, "c", msg("down alone"))
	unavailable("an append", err)
	_, err = s.Chat(ctx, "c")
	unavailable("a read", err)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = s.TakeLease(rctx, RoutingLease, "node", 6*time.Second)
	cancel()
	if err == nil {
		t.Error("the lease was taken while the database is down")
	}

	pg.Start()
	// The same store goes on; the client's retry of a refused append
	// stores it once.
	for _, id := range []string{"down 0", "down 0", "after"} {
		if _, err := s.AppendEvents(ctx, "c", msg(id)); err != nil {
			t.Fatalf("append %q after the restart: %v", id, err)
		}
	}
	events, err := s.Events(ctx, "c", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range events {
		texts = append(texts, e.Text)
	}
	if fmt.Sprint(texts) != "[before down 0 after]" {
		t.Errorf("stored after the restart: %q; want before, down 0 (once), after", texts)
	}
}
