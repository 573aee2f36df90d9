package main

import (
	"context"
	"encoding/json"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/rocketchat"
	"github.com/parleychat/parley/web"
)

// rocketChatWidgetConfig gives the Rocket.Chat dialect the server layer of
// the widget configuration under dataDir with the tenant's appearance from
// the admin console over it, so both widgets look alike.
func rocketChatWidgetConfig(dataDir string, svc *conversation.Service) func(context.Context, int64) (map[string]any, error) {
	return func(ctx context.Context, tenantID int64) (map[string]any, error) {
		wa, err := svc.PublicWidgetAppearance(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if tenantID == parley.DefaultTenantID {
			tenantID = 0 // the default tenant's file is <data>/widget/config.json
		}
		return web.ServerWidgetConfig(dataDir, tenantID, wa)
	}
}

// rocketChatTriggers gives the Rocket.Chat dialect the tenant's proactive
// triggers that apply to every group, in Rocket.Chat's shape: its
// configuration has one trigger list for the whole widget.
func rocketChatTriggers(svc *conversation.Service) func(context.Context, int64) ([]rocketchat.Trigger, error) {
	return func(ctx context.Context, tenantID int64) ([]rocketchat.Trigger, error) {
		rules, err := svc.RocketChatTriggers(ctx, tenantID, 0)
		if err != nil {
			return nil, err
		}
		// The dialect passes triggers through as JSON objects.
		data, err := json.Marshal(rules)
		if err != nil {
			return nil, err
		}
		var out []rocketchat.Trigger
		return out, json.Unmarshal(data, &out)
	}
}
