package transcript_test

import (
	"fmt"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/transcript"
)

// An HTML template with placeholders; visitor text is escaped into it.
func ExampleRender() {
	at := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)
	r := transcript.Render(transcript.Data{
		Group: &parley.Group{Name: "Support", Transcript: parley.GroupTranscript{
			Sender: "support@example.com", Subject: "Your chat with $Agent.ChatName$", Locale: "en-GB",
			HTML: true, Template: "<p>Dear $Customer$,</p>$Transcript$"}},
		Agent:    &parley.Agent{Login: "alice", DisplayName: "Alice Archer", ChatName: "Alice"},
		Customer: &parley.Visitor{Name: "Vera <V>"},
		Events: []parley.Event{
			{Type: parley.EventMessage, At: at, From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera <V>"}, Text: "Is 5 < 6?"},
			{Type: parley.EventMessage, At: at.Add(time.Minute), From: parley.Party{Kind: parley.PartyAgent, Name: "Alice"}, Text: "Yes."},
		},
		Now: at, Received: at,
	})
	fmt.Println(r.Subject)
	fmt.Println(r.HTML[:len("<p>Dear Vera &lt;V&gt;,</p>")])
	// Output:
	// Your chat with Alice
	// <p>Dear Vera &lt;V&gt;,</p>
}
