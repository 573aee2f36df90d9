package main

import (
	"context"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/web"
)

// rocketChatWidgetConfig gives the Rocket.Chat dialect the server layer of
// the widget configuration under dataDir, so both widgets look alike.
func rocketChatWidgetConfig(dataDir string) func(context.Context, int64) (map[string]any, error) {
	return func(_ context.Context, tenantID int64) (map[string]any, error) {
		if tenantID == parley.DefaultTenantID {
			tenantID = 0 // the default tenant's file is <data>/widget/config.json
		}
		return web.ServerWidgetConfig(dataDir, tenantID)
	}
}
