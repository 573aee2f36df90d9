package transcript

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testData(t *testing.T) Data {
	t.Helper()
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	return Data{
		Group: &parley.Group{Name: "Support", Transcript: parley.GroupTranscript{Sender: "chat@example.com"},
			Routing: parley.GroupRouting{TimeZone: "Europe/Berlin"}},
		Agent:    &parley.Agent{Login: "alice", DisplayName: "Alice Smith", FirstName: "Alice", LastName: "Smith", ChatName: "Ally"},
		Customer: &parley.Visitor{Name: "Vera", Email: "vera@example.net", Phone: "+49 30 1234"},
		Events: []parley.Event{
			{Seq: 1, Type: parley.EventJoined, At: at, From: parley.Party{Kind: parley.PartyAgent, AgentID: 1, Name: "Ally"}},
			{Seq: 2, Type: parley.EventMessage, At: at.Add(time.Minute), From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}, Text: "Where is order 42?"},
			{Seq: 3, Type: parley.EventMessage, At: at.Add(2 * time.Minute), From: parley.Party{Kind: parley.PartyAgent, AgentID: 9, Name: "Boss"},
				Audience: parley.AudienceAgents, Text: "secret coaching: offer a voucher"},
			{Seq: 4, Type: parley.EventMessage, At: at.Add(3 * time.Minute), From: parley.Party{Kind: parley.PartyAgent, AgentID: 1, Name: "Ally"}, Text: "It ships today."},
		},
		Now:      at.Add(time.Hour),
		Received: at,
	}
}

// TestRenderEveryPlaceholder puts every identifier of the Mitel table into
// the template and the subject and checks each is replaced by its value.
func TestRenderEveryPlaceholder(t *testing.T) {
	d := testData(t)
	d.Group.Transcript.Locale = "de-DE"
	d.Group.Transcript.Template = strings.Join(Placeholders, "|")
	subjectParts := []string{}
	for _, p := range Placeholders {
		if p != "$Transcript$" {
			subjectParts = append(subjectParts, p)
		}
	}
	d.Group.Transcript.Subject = strings.Join(subjectParts, "|")
	r := Render(d)

	// Berlin is UTC+1 in March before DST: 15:09 UTC is 16:09, now 17:09.
	want := map[string]string{
		"$Date$": "14.03.2026", "$Time$": "17:09", "$Received$": "14.03.2026 16:09",
		"$Received.Date$": "14.03.2026", "$Received.Time$": "16:09",
		"$ServiceGroup$": "Support", "$ServiceGroup.Name$": "Support", "$ServiceGroup.Email$": "chat@example.com",
		"$Agent$": "Alice Smith", "$Agent.Name$": "Alice Smith", "$Agent.FirstName$": "Alice", "$Agent.LastName$": "Smith",
		"$Agent.ChatName$": "Ally", "$Customer$": "Vera", "$Customer.Name$": "Vera",
		"$Customer.Email$": "vera@example.net", "$Customer.Number$": "+49 30 1234",
	}
	got := strings.Split(r.Text, "|")
	if len(got) != len(Placeholders) {
		t.Fatalf("body has %d parts, want %d: %q", len(got), len(Placeholders), r.Text)
	}
	for i, p := range Placeholders {
		if p == "$Transcript$" {
			if !strings.Contains(got[i], "[16:10] Vera: Where is order 42?") || !strings.Contains(got[i], "[16:12] Ally: It ships today.") {
				t.Errorf("$Transcript$ became %q", got[i])
			}
			continue
		}
		if w, ok := want[p]; !ok {
			t.Errorf("no expectation for %s", p)
		} else if got[i] != w {
			t.Errorf("%s became %q; want %q", p, got[i], w)
		}
	}
	subj := strings.Split(r.Subject, "|")
	if len(subj) != len(subjectParts) {
		t.Fatalf("subject %q", r.Subject)
	}
	for i, p := range subjectParts {
		if subj[i] != want[p] {
			t.Errorf("subject %s became %q; want %q", p, subj[i], want[p])
		}
	}
	if strings.Contains(r.Text, "secret coaching") {
		t.Error("the transcript holds a whisper")
	}
}

func TestRenderHTMLEscapesVisitorText(t *testing.T) {
	d := testData(t)
	d.Customer.Name = `<script>alert("x")</script>`
	d.Events[1].From.Name = d.Customer.Name
	d.Events[1].Text = `<img src=x onerror=alert(1)> & "quotes"`
	d.Group.Transcript.HTML = true
	d.Group.Transcript.Template = `<html><body><p>Dear $Customer.Name$,</p>$Transcript$</body></html>`
	r := Render(d)
	for _, bad := range []string{"<script>", "<img", `onerror=alert(1)>`} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML holds %q unescaped:\n%s", bad, r.HTML)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;", "<p>Dear "} {
		if !strings.Contains(r.HTML, good) {
			t.Errorf("HTML lacks %q:\n%s", good, r.HTML)
		}
	}
	if !strings.Contains(r.Text, `<img src=x onerror=alert(1)>`) {
		t.Errorf("the text alternative should carry the text as it is: %q", r.Text)
	}
	if strings.Contains(r.HTML, "secret coaching") || strings.Contains(r.Text, "secret coaching") {
		t.Error("the mail holds a whisper")
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	d := testData(t)
	d.Customer.Name = "Vera\r\nBcc: victim@example.com"
	d.Group.Transcript.Subject = "Chat with $Customer$"
	r := Render(d)
	if strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("subject %q has a line break", r.Subject)
	}
}

func TestRenderDefaultsAndLocales(t *testing.T) {
	d := testData(t)
	d.Group.Routing.TimeZone = ""
	r := Render(d)
	if r.Subject != "Your chat with Support on 3/14/2026" {
		t.Errorf("default subject %q", r.Subject)
	}
	if !strings.Contains(r.Text, "Hello Vera,") || !strings.Contains(r.Text, "on 3/14/2026 3:09 PM") || r.HTML != "" {
		t.Errorf("default body %q html %q", r.Text, r.HTML)
	}
	for tag, want := range map[string]string{"en-GB": "14/03/2026", "fr-FR": "14/03/2026", "nl": "14-3-2026", "sv_SE": "2026-03-14", "xx": "3/14/2026", "": "3/14/2026"} {
		d.Group.Transcript.Locale = tag
		d.Group.Transcript.Subject = "$Date$"
		if got := Render(d).Subject; got != want {
			t.Errorf("locale %q: date %q; want %q", tag, got, want)
		}
	}
}

func TestReplaceLeavesUnknownAndDoesNotReexpand(t *testing.T) {
	d := testData(t)
	d.Customer.Name = "$Agent$"
	d.Group.Transcript.Template = "Price $5 and $Unknown$ for $Customer$ $"
	if got := Render(d).Text; got != "Price $5 and $Unknown$ for $Agent$ $" {
		t.Errorf("got %q", got)
	}
}

func TestTextForAgentsMarksWhispers(t *testing.T) {
	d := testData(t)
	agents := Text(d.Events, true)
	if !strings.Contains(agents, "Boss (to agents only): secret coaching") {
		t.Errorf("agent transcript %q", agents)
	}
	if visitor := Text(d.Events, false); strings.Contains(visitor, "secret") {
		t.Errorf("visitor transcript holds the whisper: %q", visitor)
	}
}
