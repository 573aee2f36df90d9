package web

// ServerWidgetConfig returns the server layer of the widget configuration
// (<data>/widget/config.json, or a tenant's own), for other front ends
// that style a widget from the same settings (the Rocket.Chat dialect).
// A missing file is an empty layer.
func ServerWidgetConfig(dataDir string, tenant int64) (map[string]any, error) {
	return serverWidgetConfig(dataDir, tenant)
}
