package web

import "github.com/parleychat/parley"

// ServerWidgetConfig returns the server layer of the widget configuration
// (<data>/widget/config.json, or a tenant's own) with the tenant's
// appearance set in the admin console over it, as /widget/config resolves
// them, for other front ends that style a widget from the same settings
// (the Rocket.Chat dialect). The appearance's offline form title is added
// as "offlineTitle". A missing file is an empty layer; a nil appearance
// adds nothing.
func ServerWidgetConfig(dataDir string, tenant int64, wa *parley.WidgetAppearance) (map[string]any, error) {
	server, err := serverWidgetConfig(dataDir, tenant)
	if err != nil || wa == nil {
		return server, err
	}
	out := withAppearance(server, wa)
	if t := wa.Texts["offlineTitle"]; t != "" {
		out["offlineTitle"] = t
	}
	return out, nil
}
