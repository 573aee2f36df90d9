package conversation_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestRocketChatTriggers checks the Rocket.Chat shape of the triggers
// that apply to a group: enabled ones of the group and of every group,
// each condition that is set, the sender.
func TestRocketChatTriggers(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	admin := newAgent("root", "Root", 1)
	admin.Role = parley.RoleAdmin
	if err := f.svc.Seed(ctx, nil, []*parley.Agent{admin}, testPassword); err != nil {
		t.Fatal(err)
	}
	root := f.agent("root")
	create := func(tr *parley.Trigger) *parley.Trigger {
		t.Helper()
		if err := f.svc.CreateTrigger(ctx, root, tr); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	pricing := create(&parley.Trigger{GroupID: 1, Name: "Pricing", Description: "Plans page", Enabled: true, RunOnce: true,
		URLPattern: `/pricing`, TimeOnSite: 10, SenderName: "Pia", Message: "Questions about our plans?"})
	opened := create(&parley.Trigger{Name: "Opened", Enabled: true, ChatOpened: true, Message: "Hi!"})
	create(&parley.Trigger{GroupID: 2, Name: "Sales only", Enabled: true, TimeOnSite: 5, Message: "Sales"})
	create(&parley.Trigger{GroupID: 1, Name: "Off", Enabled: false, TimeOnSite: 5, Message: "Off"})
	if err := f.svc.CreateTrigger(ctx, f.alice, &parley.Trigger{Name: "x", ChatOpened: true, Message: "x"}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Errorf("an agent created a trigger: %v", err)
	}

	got, err := f.svc.RocketChatTriggers(ctx, parley.DefaultTenantID, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(got)
	want := `[{"_id":"` + itoa(pricing.ID) + `","enabled":true,"name":"Pricing","description":"Plans page","runOnce":true,` +
		`"conditions":[{"name":"page-url","value":"/pricing"},{"name":"time-on-site","value":10}],` +
		`"actions":[{"name":"send-message","params":{"sender":"custom","name":"Pia","msg":"Questions about our plans?"}}]},` +
		`{"_id":"` + itoa(opened.ID) + `","enabled":true,"name":"Opened","description":"","runOnce":false,` +
		`"conditions":[{"name":"chat-opened-by-visitor"}],` +
		`"actions":[{"name":"send-message","params":{"sender":"queue","msg":"Hi!"}}]}]`
	if string(data) != want {
		t.Errorf("RocketChatTriggers(group 1)\n got %s\nwant %s", data, want)
	}
	other, err := f.svc.RocketChatTriggers(ctx, 424242, 1)
	if err != nil || len(other) != 0 {
		t.Errorf("a tenant without triggers: %v %v", other, err)
	}
	if has, err := f.svc.HasTriggers(ctx, parley.DefaultTenantID); !has || err != nil {
		t.Errorf("HasTriggers = %v %v", has, err)
	}
	if has, err := f.svc.HasTriggers(ctx, 424242); has || err != nil {
		t.Errorf("HasTriggers of a tenant without triggers = %v %v", has, err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
