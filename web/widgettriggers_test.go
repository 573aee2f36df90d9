package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// TestScriptsKeepCode: every script is served without its whole-line
// comments, and no removed line was inside a template literal (an odd
// number of backticks before it); the triggers module is served to host
// pages.
func TestScriptsKeepCode(t *testing.T) {
	set := embeddedAssets(t)
	static, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	stripped := 0
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ".js" {
			return err
		}
		raw, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		ticks := 0
		for _, line := range strings.SplitAfter(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				stripped++
				if ticks%2 == 1 {
					t.Errorf("%s: a comment line would be removed inside a template literal: %q", name, line)
				}
				continue
			}
			ticks += strings.Count(line, "`")
		}
		served := set.bySource[name].body
		for _, line := range strings.Split(string(served), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s is served with a comment line: %q", name, line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stripped == 0 {
		t.Error("no comment line was stripped from any script")
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
