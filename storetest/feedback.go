package storetest

import (
	"testing"

	"github.com/parleychat/parley"
)

func testRatings(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	r := &parley.Rating{ChatID: "chat-1", Score: 4, Comment: "Quick and friendly"}
	must(t, s.CreateRating(ctx, r), "create rating")
	if r.CreatedAt.IsZero() {
		t.Error("CreateRating did not set CreatedAt")
	}
	got, err := s.Rating(ctx, "chat-1")
	must(t, err, "rating")
	equal(t, "rating", *got, *r)
	wantCode(t, s.CreateRating(ctx, &parley.Rating{ChatID: "chat-1", Score: 1}), parley.ECONFLICT, "second rating")
	got, err = s.Rating(ctx, "chat-1")
	must(t, err, "rating")
	equal(t, "rating after a refused second one", *got, *r)
	wantCode(t, s.CreateRating(ctx, &parley.Rating{ChatID: "ghost", Score: 3}), parley.EINVALID, "rating of a missing chat")
	_, err = s.Rating(ctx, "ghost")
	wantCode(t, err, parley.ENOTFOUND, "missing rating")

	f.create(t, f.chat("chat-2", at(1)))
	f.create(t, f.chat("chat-3", at(2)))
	r3 := &parley.Rating{ChatID: "chat-3", Score: 2}
	must(t, s.CreateRating(ctx, r3), "create rating")
	all, err := s.Ratings(ctx, []string{"chat-1", "chat-2", "chat-3", "ghost"})
	must(t, err, "ratings")
	if len(all) != 2 || all["chat-2"] != nil {
		t.Fatalf("ratings of chat-1..3 and ghost: got %d (%v), want chat-1 and chat-3", len(all), all)
	}
	equal(t, "rating of chat-1 in the list", *all["chat-1"], *r)
	equal(t, "rating of chat-3 in the list", *all["chat-3"], *r3)
	none, err := s.Ratings(ctx, nil)
	must(t, err, "ratings of no chat")
	if none == nil || len(none) != 0 {
		t.Errorf("ratings of no chat: %v, want an empty map", none)
	}
}

func testOfflineMessages(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	other := &parley.Group{TenantID: f.tenant, Name: "acme Support"}
	must(t, s.CreateGroup(ctx, other), "create group")
	g := newFixture(t, s, "globex")
	var made []*parley.OfflineMessage
	for i, grp := range []int64{f.group.ID, other.ID, f.group.ID} {
		m := &parley.OfflineMessage{TenantID: f.tenant, GroupID: grp, Name: "Vera", Email: "vera@example.com",
			Message: "Please call me back", CreatedAt: at(i)}
		must(t, s.CreateOfflineMessage(ctx, m), "create offline message")
		if m.ID == 0 {
			t.Fatal("CreateOfflineMessage did not set the ID")
		}
		made = append(made, m)
	}
	must(t, s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: g.tenant, GroupID: g.group.ID, Name: "X", Email: "x@example.com", Message: "m"}), "other tenant")

	all, err := s.OfflineMessages(ctx, f.tenant, nil, 0)
	must(t, err, "offline messages")
	if len(all) != 3 || all[0].ID != made[2].ID || all[2].ID != made[0].ID {
		t.Fatalf("want the tenant's 3 messages newest first, got %d", len(all))
	}
	equal(t, "offline message", *all[0], *made[2])
	some, err := s.OfflineMessages(ctx, f.tenant, []int64{other.ID}, 0)
	must(t, err, "offline messages of a group")
	if len(some) != 1 || some[0].ID != made[1].ID {
		t.Errorf("group filter: got %d messages", len(some))
	}
	one, err := s.OfflineMessages(ctx, f.tenant, nil, 1)
	must(t, err, "limited")
	if len(one) != 1 || one[0].ID != made[2].ID {
		t.Errorf("limit 1: got %d", len(one))
	}
	none, err := s.OfflineMessages(ctx, f.tenant, []int64{}, 0)
	must(t, err, "no groups")
	if none == nil || len(none) != 0 {
		t.Errorf("an empty group list must give an empty, non-nil list: %v", none)
	}
	wantCode(t, s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: f.tenant, GroupID: 9999, Name: "V", Email: "v@example.com", Message: "m"}),
		parley.EINVALID, "missing group")
}
