package storetest

import (
	"bytes"
	"testing"

	"github.com/parleychat/parley"
)

// testTenantWidget: a tenant's widget appearance is stored with it and
// replaced by UpdateTenant, which keeps the creation time.
func testTenantWidget(t *testing.T, s parley.Store) {
	ctx := t.Context()
	tn := &parley.Tenant{Name: "Paint", Widget: parley.WidgetAppearance{Title: "Talk to us", HeaderBackground: "#0f766e"}, CreatedAt: at(1)}
	must(t, s.CreateTenant(ctx, tn), "create tenant")
	got, err := s.Tenant(ctx, tn.ID)
	must(t, err, "tenant")
	equal(t, "tenant with widget", *got, *tn)

	tn.Name = "Paint & Co"
	tn.Widget = parley.WidgetAppearance{Position: "bottom-left", Highlight: "#b45309", Texts: map[string]string{"greeting": "Hi!\nAsk us."}}
	tn.CreatedAt = at(99) // ignored
	must(t, s.UpdateTenant(ctx, tn), "update tenant")
	if !tn.CreatedAt.Equal(at(1)) {
		t.Errorf("UpdateTenant set CreatedAt %v, want the stored %v", tn.CreatedAt, at(1))
	}
	got, err = s.Tenant(ctx, tn.ID)
	must(t, err, "tenant")
	equal(t, "updated tenant", *got, *tn)
	list, err := s.Tenants(ctx)
	must(t, err, "tenants")
	equal(t, "the listed tenant", *list[len(list)-1], *tn)
	wantCode(t, s.UpdateTenant(ctx, &parley.Tenant{ID: 999999, Name: "x"}), parley.ENOTFOUND, "update missing tenant")

	def, err := s.Tenant(ctx, parley.DefaultTenantID)
	must(t, err, "default tenant")
	equal(t, "the default tenant's widget", def.Widget, parley.WidgetAppearance{})
}

// testAgentAdmin: the disabled flag, photos and one-time links.
func testAgentAdmin(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Adm")
	a := f.agent
	a.Disabled = true
	must(t, s.UpdateAgent(ctx, a), "disable agent")
	got, err := s.Agent(ctx, a.ID)
	must(t, err, "agent")
	if !got.Disabled {
		t.Error("the agent is not disabled after the update")
	}
	fresh := newAgent(f.tenant, "Adm-carol")
	fresh.Groups = []parley.Membership{}
	fresh.Disabled = true
	must(t, s.CreateAgent(ctx, fresh), "create a disabled agent")
	got, err = s.AgentByLogin(ctx, f.tenant, "Adm-carol")
	must(t, err, "agent by login")
	equal(t, "created disabled agent", *got, *fresh)

	// Photos.
	_, err = s.AgentPhoto(ctx, a.ID)
	wantCode(t, err, parley.ENOTFOUND, "no photo yet")
	p := &parley.AgentPhoto{AgentID: a.ID, ContentType: "image/png", Data: []byte("\x89PNG first")}
	must(t, s.SetAgentPhoto(ctx, p), "set photo")
	if p.UpdatedAt.IsZero() {
		t.Error("SetAgentPhoto did not set UpdatedAt")
	}
	p2 := &parley.AgentPhoto{AgentID: a.ID, ContentType: "image/jpeg", Data: []byte("\xff\xd8 second"), UpdatedAt: at(5)}
	must(t, s.SetAgentPhoto(ctx, p2), "replace photo")
	gotPhoto, err := s.AgentPhoto(ctx, a.ID)
	must(t, err, "photo")
	equal(t, "replaced photo", *gotPhoto, *p2)
	wantCode(t, s.SetAgentPhoto(ctx, &parley.AgentPhoto{AgentID: 999999, ContentType: "image/png", Data: []byte("x")}), parley.EINVALID, "photo of a missing agent")
	must(t, s.DeleteAgentPhoto(ctx, a.ID), "delete photo")
	wantCode(t, s.DeleteAgentPhoto(ctx, a.ID), parley.ENOTFOUND, "delete photo twice")

	// Invites: a new one replaces the agent's earlier one; a use takes it.
	first := &parley.Invite{TokenHash: []byte("hash-1"), AgentID: a.ID, TenantID: f.tenant, Purpose: parley.InviteWelcome, ExpiresAt: at(3600)}
	must(t, s.CreateInvite(ctx, first), "create invite")
	second := &parley.Invite{TokenHash: []byte("hash-2"), AgentID: a.ID, TenantID: f.tenant, Purpose: parley.InviteReset, CreatedAt: at(10), ExpiresAt: at(3600)}
	must(t, s.CreateInvite(ctx, second), "create a second invite")
	other := &parley.Invite{TokenHash: []byte("hash-3"), AgentID: f.agent2.ID, TenantID: f.tenant, Purpose: parley.InviteWelcome, ExpiresAt: at(60)}
	must(t, s.CreateInvite(ctx, other), "create another agent's invite")
	_, err = s.UseInvite(ctx, []byte("hash-1"), at(20))
	wantCode(t, err, parley.ENOTFOUND, "the replaced invite")
	used, err := s.UseInvite(ctx, []byte("hash-2"), at(20))
	must(t, err, "use invite")
	equal(t, "used invite", *used, *second)
	_, err = s.UseInvite(ctx, []byte("hash-2"), at(20))
	wantCode(t, err, parley.ENOTFOUND, "an invite used twice")
	_, err = s.UseInvite(ctx, []byte("hash-3"), at(60))
	wantCode(t, err, parley.ENOTFOUND, "an expired invite")
	_, err = s.UseInvite(ctx, []byte("hash-3"), at(0))
	wantCode(t, err, parley.ENOTFOUND, "an expired invite is gone")
	wantCode(t, s.CreateInvite(ctx, &parley.Invite{TokenHash: []byte("h"), AgentID: 999999, TenantID: f.tenant, Purpose: parley.InviteWelcome, ExpiresAt: at(1)}),
		parley.EINVALID, "invite of a missing agent")
	if bytes.Equal(used.TokenHash, []byte("hash-1")) {
		t.Error("the wrong invite was used")
	}
}

// testAudit: entries are appended with IDs and listed newest first by
// every filter.
func testAudit(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Aud")
	other := newFixture(t, s, "AudOther")
	add := func(tenant int64, sec int, actor int64, action, kind, id string) *parley.AuditEntry {
		e := &parley.AuditEntry{TenantID: tenant, At: at(sec), ActorID: actor, ActorLogin: "admin", RemoteAddr: "192.0.2.7",
			Action: action, TargetKind: kind, TargetID: id, TargetName: "Sales", Detail: "changed: name"}
		must(t, s.AppendAudit(ctx, e), "append "+action)
		if e.ID < 1 {
			t.Fatalf("entry id %d", e.ID)
		}
		return e
	}
	e1 := add(f.tenant, 0, 7, "group.create", "group", "1")
	e2 := add(f.tenant, 10, 7, "group.update", "group", "1")
	e3 := add(f.tenant, 20, 8, "agent.invite", "agent", "5")
	add(other.tenant, 30, 9, "group.update", "group", "2")
	now := &parley.AuditEntry{TenantID: f.tenant, Action: "widget.update"}
	must(t, s.AppendAudit(ctx, now), "append without a time")
	if now.At.IsZero() {
		t.Error("AppendAudit did not set At")
	}

	ids := func(f parley.AuditFilter) []int64 {
		t.Helper()
		list, err := s.AuditLog(ctx, f)
		must(t, err, "audit log")
		out := []int64{}
		for _, e := range list {
			out = append(out, e.ID)
		}
		return out
	}
	list, err := s.AuditLog(ctx, parley.AuditFilter{TenantID: f.tenant, Before: now.ID})
	must(t, err, "audit log")
	equal(t, "entries read back", list, []*parley.AuditEntry{e3, e2, e1})
	equal(t, "by action", ids(parley.AuditFilter{TenantID: f.tenant, Action: "group.update"}), []int64{e2.ID})
	equal(t, "by action prefix", ids(parley.AuditFilter{TenantID: f.tenant, Action: "group."}), []int64{e2.ID, e1.ID})
	equal(t, "by actor", ids(parley.AuditFilter{TenantID: f.tenant, ActorID: 8}), []int64{e3.ID})
	equal(t, "by target", ids(parley.AuditFilter{TenantID: f.tenant, TargetKind: "group", TargetID: "1"}), []int64{e2.ID, e1.ID})
	equal(t, "by time", ids(parley.AuditFilter{TenantID: f.tenant, Since: at(10), Until: at(20)}), []int64{e2.ID})
	equal(t, "paged", ids(parley.AuditFilter{TenantID: f.tenant, Limit: 2}), []int64{now.ID, e3.ID})
	equal(t, "nothing", ids(parley.AuditFilter{TenantID: f.tenant, Action: "tenant.create"}), []int64{})
	if all := ids(parley.AuditFilter{}); len(all) != 5 {
		t.Errorf("all tenants: %d entries, want 5", len(all))
	}
}

// testDeleteGroup: a group no chat names goes with its memberships and its
// own canned responses and triggers; one with a chat stays (ECONFLICT).
func testDeleteGroup(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Del")
	spare := &parley.Group{TenantID: f.tenant, Name: "Del Spare"}
	must(t, s.CreateGroup(ctx, spare), "create group")
	a := newAgent(f.tenant, "del-carol", f.group.ID, spare.ID)
	must(t, s.CreateAgent(ctx, a), "create agent")
	own := &parley.CannedResponse{TenantID: f.tenant, GroupID: spare.ID, Title: "Own", Text: "own"}
	shared := &parley.CannedResponse{TenantID: f.tenant, Title: "Shared", Text: "shared"}
	must(t, s.CreateCanned(ctx, own), "create canned")
	must(t, s.CreateCanned(ctx, shared), "create canned")
	tr := &parley.Trigger{TenantID: f.tenant, GroupID: spare.ID, Name: "Spare", ChatOpened: true, Message: "Hi", CreatedAt: at(1)}
	must(t, s.CreateTrigger(ctx, tr), "create trigger")
	f.create(t, f.chat("del-chat", at(2)))

	wantCode(t, s.DeleteGroup(ctx, f.group.ID), parley.ECONFLICT, "deleting a group with a chat")
	if _, err := s.Group(ctx, f.group.ID); err != nil {
		t.Fatalf("the refused group is gone: %v", err)
	}
	must(t, s.DeleteGroup(ctx, spare.ID), "delete the spare group")
	_, err := s.Group(ctx, spare.ID)
	wantCode(t, err, parley.ENOTFOUND, "the deleted group")
	got, err := s.Agent(ctx, a.ID)
	must(t, err, "agent")
	if len(got.Groups) != 1 || got.Groups[0].GroupID != f.group.ID {
		t.Errorf("carol's groups after the delete = %+v, want only %d", got.Groups, f.group.ID)
	}
	_, err = s.Canned(ctx, own.ID)
	wantCode(t, err, parley.ENOTFOUND, "the group's own canned response")
	if _, err := s.Canned(ctx, shared.ID); err != nil {
		t.Errorf("the tenant's shared canned response went too: %v", err)
	}
	_, err = s.Trigger(ctx, tr.ID)
	wantCode(t, err, parley.ENOTFOUND, "the group's trigger")
	wantCode(t, s.DeleteGroup(ctx, spare.ID), parley.ENOTFOUND, "deleting it again")
}

// testDeleteTenant: a tenant without chats goes with its agents, groups,
// visitors and settings; one with a chat stays (ECONFLICT); other
// tenants are untouched.
func testDeleteTenant(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "DelT")
	busy := newFixture(t, s, "DelTBusy")
	busy.create(t, busy.chat("delt-chat", at(1)))
	must(t, s.CreateCanned(ctx, &parley.CannedResponse{TenantID: f.tenant, GroupID: f.group.ID, Title: "T", Text: "t"}), "create canned")
	must(t, s.CreateTrigger(ctx, &parley.Trigger{TenantID: f.tenant, Name: "T", ChatOpened: true, Message: "Hi", CreatedAt: at(1)}), "create trigger")
	must(t, s.SetRetentionPolicy(ctx, &parley.RetentionPolicy{TenantID: f.tenant, Days: 30, UpdatedAt: at(2)}), "set retention")
	must(t, s.SetAgentPhoto(ctx, &parley.AgentPhoto{AgentID: f.agent.ID, ContentType: "image/png", Data: []byte("png"), UpdatedAt: at(3)}), "set photo")

	wantCode(t, s.DeleteTenant(ctx, busy.tenant), parley.ECONFLICT, "deleting a tenant with a chat")
	must(t, s.DeleteTenant(ctx, f.tenant), "delete the tenant")
	_, err := s.Tenant(ctx, f.tenant)
	wantCode(t, err, parley.ENOTFOUND, "the deleted tenant")
	_, err = s.Agent(ctx, f.agent.ID)
	wantCode(t, err, parley.ENOTFOUND, "the deleted tenant's agent")
	_, err = s.Group(ctx, f.group.ID)
	wantCode(t, err, parley.ENOTFOUND, "the deleted tenant's group")
	_, err = s.Visitor(ctx, f.visitor.ID)
	wantCode(t, err, parley.ENOTFOUND, "the deleted tenant's visitor")
	if cs, err := s.CannedResponses(ctx, f.tenant); err != nil || len(cs) != 0 {
		t.Errorf("canned responses of the deleted tenant: %v %v", cs, err)
	}
	if _, err := s.Group(ctx, busy.group.ID); err != nil {
		t.Errorf("the other tenant's group: %v", err)
	}
	if _, err := s.Chat(ctx, "delt-chat"); err != nil {
		t.Errorf("the other tenant's chat: %v", err)
	}
	wantCode(t, s.DeleteTenant(ctx, f.tenant), parley.ENOTFOUND, "deleting it again")
}
