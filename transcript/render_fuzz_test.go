package transcript

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// FuzzRenderHTML renders an HTML template with arbitrary visitor text: the
// markup of the mail (every '<') comes from the template and the
// transcript table only, never from the visitor.
func FuzzRenderHTML(f *testing.F) {
	f.Add("<p>$Customer$</p>$Transcript$", "Vera", "hello")
	f.Add("$Customer.Email$$$Agent$", "<script>", "<img src=x onerror=alert(1)>")
	f.Add("$", "$Transcript$", "$Customer$")
	f.Fuzz(func(t *testing.T, tpl, name, text string) {
		render := func(name, text string) Rendered {
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			return Render(Data{
				Group:    &parley.Group{Name: "G", Transcript: parley.GroupTranscript{HTML: true, Template: tpl}},
				Customer: &parley.Visitor{Name: name, Email: name},
				Events: []parley.Event{{Type: parley.EventMessage, At: at, Text: text,
					From: parley.Party{Kind: parley.PartyVisitor, Name: name}}},
				Now: at, Received: at,
			})
		}
		got := render(name, text)
		plain := strings.NewReplacer("<", "x", ">", "x", "&", "x", `"`, "x", "'", "x", "$", "x")
		want := render(plain.Replace(name), plain.Replace(text))
		if strings.Count(got.HTML, "<") != strings.Count(want.HTML, "<") {
			t.Fatalf("visitor text added markup:\n%s\nversus\n%s", got.HTML, want.HTML)
		}
		if strings.ContainsAny(got.Subject, "\r\n") {
			t.Fatalf("subject %q has a line break", got.Subject)
		}
	})
}
