package web

import (
	"context"
	"net/http"
)

// Proactive triggers (docs/widget.md): /widget/config says whether the
// tenant has enabled triggers, and only then does the loader import
// /widget/triggers.js, which reads the rules from the API and evaluates
// them on the host page.

// serveTriggers answers /widget/triggers.js, the loader's triggers module.
func (wd *widget) serveTriggers(w http.ResponseWriter, r *http.Request) {
	writeHostScript(w, r, wd.triggers)
}

// addTriggers sets "triggers": true in a /widget/config answer when the
// tenant has enabled triggers. A failed lookup leaves it out: the widget
// works without triggers.
func (wd *widget) addTriggers(ctx context.Context, resp map[string]any, tenant int64) {
	if wd.opt.HasTriggers == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, widgetStatusTimeout)
	defer cancel()
	has, err := wd.opt.HasTriggers(ctx, tenant)
	if err != nil {
		wd.log.Warn("widget config: triggers", "err", err)
		return
	}
	if has {
		resp["triggers"] = true
	}
}

// hostScript returns the asset source of the set as served to host pages
// at a stable URL (its whole-line comments are gone, as from every script:
// stripLineComments).
func hostScript(set *assetSet, source string) (*asset, bool) {
	a, ok := set.bySource[source]
	return a, ok
}
