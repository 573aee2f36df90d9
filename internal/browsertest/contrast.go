package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ContrastProblem is a visible text whose colours fall below WCAG AA.
type ContrastProblem struct {
	Selector string  `json:"selector"`
	Text     string  `json:"text"`
	FG       string  `json:"fg"` // effective text colour, #rrggbb
	BG       string  `json:"bg"` // effective background, #rrggbb
	Ratio    float64 `json:"ratio"`
	Need     float64 `json:"need"` // 4.5, or 3 for large text
}

func (p ContrastProblem) String() string {
	return fmt.Sprintf("%s %q: %s on %s is %.2f:1, needs %.1f:1", p.Selector, p.Text, p.FG, p.BG, p.Ratio, p.Need)
}

// ContrastReport is what one check found.
type ContrastReport struct {
	Checked  int               `json:"checked"` // text elements measured
	Problems []ContrastProblem `json:"problems"`
}

//go:embed contrast.js
var contrastJS string

// Contrast measures every visible text of the page in ctx (open shadow
// roots included; each frame of another origin is its own target, so
// check it with its own context): the text colour and the background
// behind it, alpha-composited up the element tree over white, against
// WCAG AA (4.5:1, or 3:1 for text of 24 px, or 18.66 px bold). Disabled
// controls are exempt, as WCAG allows. Placeholders and input values count.
//
// Running transitions and finite animations are first finished, so a
// theme switch is measured at its end colours.
func Contrast(ctx context.Context) (ContrastReport, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[ContrastReport](contrastJS))
}

// CheckContrast fails t for every text under AA in the page of ctx, and
// when the page has no text at all (a check that measured nothing proves
// nothing). where names the screen in the messages.
func CheckContrast(t testing.TB, ctx context.Context, where string) {
	t.Helper()
	r, err := Contrast(ctx)
	if err != nil {
		t.Fatalf("contrast of %s: %v", where, err)
	}
	if r.Checked == 0 {
		t.Fatalf("contrast of %s: no visible text to check", where)
	}
	if len(r.Problems) == 0 {
		return
	}
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = "  " + p.String()
	}
	t.Errorf("contrast of %s: %d of %d texts below WCAG AA:\n%s", where, len(r.Problems), r.Checked, strings.Join(lines, "\n"))
}
