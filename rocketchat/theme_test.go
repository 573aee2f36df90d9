package rocketchat_test

import (
	"context"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/rocketchat"
	"github.com/parleychat/parley/web"
)

// The Rocket.Chat widget takes the tenant's appearance from the admin
// console: its colour, title, offline colour and title and position,
// in livechat/config's theme, as Parley's own widget does.
func TestThemeFollowsTheTenantsAppearance(t *testing.T) {
	var svc *conversation.Service
	s := start(t, func(o *rocketchat.Options) {
		o.WidgetConfig = func(ctx context.Context, tenantID int64) (map[string]any, error) {
			wa, err := svc.PublicWidgetAppearance(ctx, tenantID)
			if err != nil {
				return nil, err
			}
			return web.ServerWidgetConfig("", 0, wa)
		}
	})
	svc = s.Svc
	theme := func() map[string]any {
		var cfg struct {
			Config struct {
				Theme map[string]any `json:"theme"`
			} `json:"config"`
		}
		if code := s.rest("GET", "/api/v1/livechat/config", nil, &cfg); code != 200 {
			t.Fatalf("config = %d", code)
		}
		return cfg.Config.Theme
	}
	if th := theme(); th["color"] != "#1f5fa8" || th["title"] != "Chat with us" {
		t.Fatalf("theme before any appearance = %v; want the defaults", th)
	}
	admin := conversation.Actor{Kind: parley.PartyAgent, TenantID: parley.DefaultTenantID,
		Agent: &parley.Agent{ID: 99, TenantID: parley.DefaultTenantID, Login: "root", Role: parley.RoleAdmin}}
	if _, err := s.Svc.SetWidgetAppearance(t.Context(), admin, 0, parley.WidgetAppearance{Title: "Acme help",
		HeaderBackground: "#0f766e", OfflineColor: "#7c2d12", Position: "bottom-left",
		Texts: map[string]string{"offlineTitle": "Leave us a note"}}); err != nil {
		t.Fatal(err)
	}
	th := theme()
	for k, want := range map[string]string{"title": "Acme help", "color": "#0f766e", "offlineColor": "#7c2d12",
		"offlineTitle": "Leave us a note", "position": "left"} {
		if th[k] != want {
			t.Errorf("theme[%s] = %v, want %q (theme %v)", k, th[k], want, th)
		}
	}
}
