package web_test

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleychat/parley/internal/browsertest"
	"github.com/parleychat/parley/web"
)

// TestConsoleLib runs the console's helpers (console-lib.js) in Chromium:
// durations, canned-response matching and folders, sparkline paths, and
// status labels with a presence source's reason.
func TestConsoleLib(t *testing.T) {
	ts := httptest.NewServer(web.Handler(web.Options{}))
	defer ts.Close()
	_, ctx := browsertest.New(t)
	do(t, ctx, "open the console", chromedp.Navigate(ts.URL+"/agent/"))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
		const m = await import(document.querySelector('link[href*="/console-lib."]').href);
		const list = m.flattenCanned([
			{id: 1, shortcut: "greet", title: "Hello", folder: "Greetings/Formal", text: "Hello {visitor.name}"},
			{id: 2, shortcut: "greetings-long", title: "Long hello", folder: "Greetings", text: "Good day"},
			{id: 3, shortcut: "bye", title: "Goodbye", folder: "", text: "Thank you, see you soon"},
		]);
		return {
			durations: [m.duration(-1), m.duration(0), m.duration(42), m.duration(187), m.duration(3729), m.duration(null)],
			order: list.map((r) => r.id),
			paths: list.map((r) => r.path),
			slash: m.matchCanned(list, "/greet").map((r) => r.id),
			slashNone: m.matchCanned(list, "/xyz").length,
			words: m.matchCanned(list, "see soon").map((r) => r.id),
			all: m.matchCanned(list, "").length,
			initials: [m.initials("Vera Lynn"), m.initials("marco"), m.initials("  Ana  de  Souza ")],
			spark: m.sparkPath([0, 5, 10], 100, 20).line,
			empty: m.sparkPath([], 100, 20).line,
			labels: [
				m.statusLabel({presence: "away", presence_reason: "meeting", status: "ready"}),
				m.statusLabel({presence: "away", presence_reason: "call", status: "ready"}),
				m.statusLabel({presence: "away", status: "ready"}),
				m.statusLabel({presence: "available", status: "ready"}),
			],
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"durations": []any{"—", "0 s", "42 s", "3:07", "1:02:09", "—"},
		"order":     []any{3.0, 2.0, 1.0},
		"paths":     []any{"", "Greetings", "Greetings › Formal"},
		"slash":     []any{1.0, 2.0},
		"slashNone": 0.0,
		"words":     []any{3.0},
		"all":       3.0,
		"initials":  []any{"VL", "M", "AS"},
		"spark":     "M2.0,18.0L50.0,10.0L98.0,2.0",
		"empty":     "",
		"labels":    []any{"Away · meeting", "Away · on a call", "Away", "Ready"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
}
