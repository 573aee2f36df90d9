package main

import (
	"encoding/json"
	"testing"
)

// TestRocketChatConfigCarriesTriggers: a proactive trigger managed in the
// admin API arrives in the Rocket.Chat widget's configuration, in
// Rocket.Chat's shape; a disabled one does not.
func TestRocketChatConfigCarriesTriggers(t *testing.T) {
	p := start(t, t.TempDir())
	admin := p.login("admin")
	p.must(201, "POST", "/api/v1/admin/triggers", admin, map[string]any{
		"name": "Pricing", "url_pattern": `/pricing(/|$)`, "time_on_site": 3, "run_once": true,
		"sender_name": "Pia", "message": "Questions about our plans?"}, nil)
	p.must(201, "POST", "/api/v1/admin/triggers", admin, map[string]any{
		"name": "Off", "enabled": false, "time_on_site": 1, "message": "never shown"}, nil)

	var cfg struct {
		Success bool `json:"success"`
		Config  struct {
			Triggers []json.RawMessage `json:"triggers"`
		} `json:"config"`
	}
	p.must(200, "GET", "/api/v1/livechat/config", "", nil, &cfg)
	if !cfg.Success || len(cfg.Config.Triggers) != 1 {
		t.Fatalf("config triggers = %s; want the one enabled rule", cfg.Config.Triggers)
	}
	var tr struct {
		Name       string `json:"name"`
		Enabled    bool   `json:"enabled"`
		RunOnce    bool   `json:"runOnce"`
		Conditions []struct {
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"conditions"`
		Actions []struct {
			Name   string `json:"name"`
			Params struct {
				Sender string `json:"sender"`
				Name   string `json:"name"`
				Msg    string `json:"msg"`
			} `json:"params"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(cfg.Config.Triggers[0], &tr); err != nil {
		t.Fatal(err)
	}
	conds := map[string]any{}
	for _, c := range tr.Conditions {
		conds[c.Name] = c.Value
	}
	if tr.Name != "Pricing" || !tr.Enabled || !tr.RunOnce || conds["page-url"] != `/pricing(/|$)` || conds["time-on-site"] != float64(3) ||
		len(tr.Actions) != 1 || tr.Actions[0].Name != "send-message" || tr.Actions[0].Params.Sender != "custom" ||
		tr.Actions[0].Params.Name != "Pia" || tr.Actions[0].Params.Msg != "Questions about our plans?" {
		t.Fatalf("trigger in the Rocket.Chat config = %s", cfg.Config.Triggers[0])
	}
}
