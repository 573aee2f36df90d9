package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestHostScriptsKeepCode: the host scripts are served without their
// whole-line comments and with every other line; no removed line was
// inside a template literal (an odd number of backticks before it).
func TestHostScriptsKeepCode(t *testing.T) {
	set := embeddedAssets(t)
	for _, name := range []string{"widget/loader.js", "widget/triggers.js"} {
		a, ok := hostScript(set, name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		var kept, removed int
		ticks := 0
		var want bytes.Buffer
		for _, line := range strings.SplitAfter(string(set.bySource[name].body), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				removed++
				if ticks%2 == 1 {
					t.Errorf("%s: removed %q inside a template literal", name, line)
				}
				continue
			}
			kept++
			ticks += strings.Count(line, "`")
			want.WriteString(line)
		}
		if removed == 0 || !bytes.Equal(a.body, want.Bytes()) {
			t.Errorf("%s: served %d bytes; want the %d lines without the %d comment lines", name, len(a.body), kept, removed)
		}
		if bytes.Contains(a.body, []byte("\n//")) {
			t.Errorf("%s still has a comment line", name)
		}
	}
	h := Handler(Options{})
	res := get(t, h, "/widget/triggers.js")
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Errorf("/widget/triggers.js: %d %v", res.StatusCode, res.Header)
	}
	if b := body(t, res); !bytes.Contains(b, []byte("export default async function triggers")) {
		t.Errorf("/widget/triggers.js is not the triggers module: %.200s", b)
	}
}

// TestWidgetConfigTriggers: /widget/config says "triggers": true only
// when the tenant has enabled triggers, and leaves it out on failure.
func TestWidgetConfigTriggers(t *testing.T) {
	var asked []int64
	for _, tc := range []struct {
		has  bool
		err  error
		want bool
	}{{true, nil, true}, {false, nil, false}, {true, errors.New("store down"), false}} {
		h := Handler(Options{HasTriggers: func(_ context.Context, tenant int64) (bool, error) {
			asked = append(asked, tenant)
			return tc.has, tc.err
		}})
		var resp map[string]any
		if err := json.Unmarshal(body(t, get(t, h, `/widget/config?attrs={"tenant":"7"}`)), &resp); err != nil {
			t.Fatal(err)
		}
		if got := resp["triggers"] == true; got != tc.want {
			t.Errorf("HasTriggers %v, %v: config triggers = %v; want %v", tc.has, tc.err, resp["triggers"], tc.want)
		}
	}
	if len(asked) != 3 || asked[0] != 7 {
		t.Errorf("asked for tenants %v; want 7 each time", asked)
	}
	var resp map[string]any
	if err := json.Unmarshal(body(t, get(t, Handler(Options{}), "/widget/config")), &resp); err != nil {
		t.Fatal(err)
	}
	if _, ok := resp["triggers"]; ok {
		t.Errorf("without HasTriggers the config has triggers: %v", resp["triggers"])
	}
}
