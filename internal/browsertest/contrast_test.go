package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestContrast: the check finds the pairs under AA, composites
// translucent backgrounds and text up the tree, allows 3:1 for large
// text, looks into shadow roots and inputs, and skips hidden and
// disabled text.
func TestContrast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title>
<style>.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }</style>
<body style="background: #fff; color: #111">
<p id="ok">Black on white</p>
<p id="lavender" style="background: #c4b5fd; color: #fff">White on pale lavender</p>
<div style="background: rgb(0 0 0 / 50%)"><p id="glass" style="color: #767676">Grey on half black</p></div>
<p id="faded" style="color: #000; opacity: 0.3">Faded black</p>
<p id="big" style="font-size: 32px; color: #8a8a8a">Large grey</p>
<p id="small" style="font-size: 14px; color: #8a8a8a">Small grey</p>
<p style="color: #eee; display: none">Hidden</p>
<p class="sr" style="color: #eee">Screen reader only</p>
<button disabled style="color: #ccc; background: #fff">Disabled</button>
<input id="ph" placeholder="Pale placeholder" style="color: #000">
<div id="host"></div>
<script>document.getElementById("host").attachShadow({ mode: "open" }).innerHTML = '<span id="shadow" style="color: #ddd">In a shadow root</span>';</script>
<style>#ph::placeholder { color: #bbb; }</style>
</body>`)
	}))
	defer srv.Close()
	_, ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	r, err := Contrast(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ContrastProblem{}
	for _, p := range r.Problems {
		got[p.Text] = p
	}
	want := map[string]struct {
		fg, bg string
		need   float64
	}{
		"White on pale lavender": {"#ffffff", "#c4b5fd", 4.5},
		"Grey on half black":     {"#767676", "#7f7f7f", 4.5},
		"Faded black":            {"#b3b3b3", "#ffffff", 4.5},
		"Small grey":             {"#8a8a8a", "#ffffff", 4.5},
		"Pale placeholder":       {"#bbbbbb", "#ffffff", 4.5},
		"In a shadow root":       {"#dddddd", "#ffffff", 4.5},
	}
	for text, w := range want {
		p, ok := got[text]
		if !ok {
			t.Errorf("%q not reported; problems: %v", text, r.Problems)
			continue
		}
		if p.FG != w.fg || p.BG != w.bg || p.Need != w.need || p.Ratio >= p.Need || p.Selector == "" {
			t.Errorf("%q reported as %v, want %s on %s needing %.1f", text, p, w.fg, w.bg, w.need)
		}
	}
	if p, ok := got["White on pale lavender"]; ok && (p.Ratio < 1.8 || p.Ratio > 2.0) {
		t.Errorf("white on #c4b5fd measured %.2f:1, want about 1.9", p.Ratio)
	}
	for _, text := range []string{"Black on white", "Large grey", "Hidden", "Screen reader only", "Disabled"} {
		if p, ok := got[text]; ok {
			t.Errorf("%q reported: %v", text, p)
		}
	}
	if len(r.Problems) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(r.Problems), len(want), r.Problems)
	}
	if r.Checked < 8 {
		t.Errorf("only %d texts checked", r.Checked)
	}
}
