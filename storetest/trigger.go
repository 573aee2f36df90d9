package storetest

import (
	"testing"

	"github.com/parleychat/parley"
)

func testTriggers(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Trig")
	other := newFixture(t, s, "TrigOther")
	tr := &parley.Trigger{TenantID: f.tenant, GroupID: f.group.ID, Name: "Pricing", Description: "On the pricing page",
		Enabled: true, RunOnce: true, URLPattern: `/pricing(/|$)`, TimeOnSite: 5, SenderName: "Pia",
		Message: "Questions about our plans?\nAsk me."}
	must(t, s.CreateTrigger(ctx, tr), "create trigger")
	if tr.ID < 1 || tr.CreatedAt.IsZero() || !tr.UpdatedAt.Equal(tr.CreatedAt) {
		t.Fatalf("created %s", show(tr))
	}
	got, err := s.Trigger(ctx, tr.ID)
	must(t, err, "trigger")
	equal(t, "stored trigger", *got, *tr)

	shared := &parley.Trigger{TenantID: f.tenant, Name: "Opened", ChatOpened: true, Message: "Hi!", CreatedAt: at(10)}
	must(t, s.CreateTrigger(ctx, shared), "create a trigger of every group")
	if !shared.CreatedAt.Equal(at(10)) {
		t.Errorf("CreatedAt %v, want the given %v", shared.CreatedAt, at(10))
	}
	foreign := &parley.Trigger{TenantID: other.tenant, Name: "Other", TimeOnSite: 1, Message: "x"}
	must(t, s.CreateTrigger(ctx, foreign), "create another tenant's trigger")
	wantCode(t, s.CreateTrigger(ctx, &parley.Trigger{TenantID: 999999, Name: "x", Message: "x"}), parley.EINVALID, "missing tenant")

	// An update keeps the tenant and creation time, whatever it is given.
	tr.Enabled, tr.RunOnce, tr.URLPattern, tr.TimeOnSite, tr.ChatOpened = false, false, "", 0, true
	tr.Name, tr.Message, tr.SenderName, tr.GroupID, tr.TenantID = "Pricing 2", "Hello", "", 0, other.tenant
	must(t, s.UpdateTrigger(ctx, tr), "update trigger")
	got, err = s.Trigger(ctx, tr.ID)
	must(t, err, "trigger")
	want := *tr
	want.TenantID = f.tenant
	equal(t, "updated trigger", *got, want)
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("updated_at %v before created_at %v", got.UpdatedAt, got.CreatedAt)
	}
	wantCode(t, s.UpdateTrigger(ctx, &parley.Trigger{ID: 999999, Name: "x", Message: "x"}), parley.ENOTFOUND, "update missing")

	list, err := s.Triggers(ctx, f.tenant)
	must(t, err, "list")
	var ids []int64
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	equal(t, "the tenant's triggers by ID", ids, []int64{tr.ID, shared.ID})

	must(t, s.DeleteTrigger(ctx, tr.ID), "delete")
	wantCode(t, s.DeleteTrigger(ctx, tr.ID), parley.ENOTFOUND, "delete twice")
	_, err = s.Trigger(ctx, tr.ID)
	wantCode(t, err, parley.ENOTFOUND, "deleted")
	empty, err := s.Triggers(ctx, parley.DefaultTenantID)
	must(t, err, "list empty")
	if empty == nil || len(empty) != 0 {
		t.Errorf("empty list %v", empty)
	}
}
