package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// at a stable URL: without its whole-line comments, which host pages load
// on every visit and which the widget's size budget counts. Only lines
// whose first non-blank characters are // go; the scripts served this way
// hold no multi-line strings with such lines (TestHostScriptsKeepCode).
func hostScript(set *assetSet, source string) (*asset, bool) {
	a, ok := set.bySource[source]
	if !ok {
		return nil, false
	}
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(a.body, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("//")) {
			out.Write(line)
		}
	}
	body := out.Bytes()
	sum := sha256.Sum256(body)
	s := &asset{source: a.source, name: a.name, ctype: a.ctype, body: body, hash: hex.EncodeToString(sum[:])[:hashLen]}
	if gz, err := compress(body); err == nil {
		s.gz = gz
	}
	return s, true
}
