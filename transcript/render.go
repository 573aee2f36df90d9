// Package transcript renders a chat into the mail that carries its
// transcript, from its group's template (the Mitel placeholders), and the
// plain text agents read. It only formats: the outbox in package mail
// delivers what it renders.
package transcript

import (
	"crypto/rand"
	"html"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// Data is what a transcript's placeholders are filled from.
type Data struct {
	Group    *parley.Group
	Agent    *parley.Agent // nil when no agent took the chat
	Customer *parley.Visitor
	// Events are the chat's events the customer may see, in order.
	Events []parley.Event
	// Now is the time of rendering ($Date$, $Time$).
	Now time.Time
	// Received is when the chat came in ($Received…$).
	Received time.Time
}

// Default subject and body, used when a group sets none.
const (
	DefaultSubject  = "Your chat with $ServiceGroup$ on $Date$"
	DefaultTemplate = "Hello $Customer$,\n\nthank you for your chat with $ServiceGroup$ on $Received$. Here is the transcript:\n\n$Transcript$\n\nKind regards,\n$Agent$\n"
)

// Placeholders lists every identifier of the Mitel transcript table.
var Placeholders = []string{
	"$Transcript$", "$Date$", "$Time$", "$Received$", "$Received.Date$", "$Received.Time$",
	"$ServiceGroup$", "$ServiceGroup.Name$", "$ServiceGroup.Email$",
	"$Agent$", "$Agent.Name$", "$Agent.FirstName$", "$Agent.LastName$", "$Agent.ChatName$",
	"$Customer$", "$Customer.Name$", "$Customer.Email$", "$Customer.Number$",
}

// Rendered is a transcript mail ready for the outbox.
type Rendered struct {
	Subject string
	Text    string
	HTML    string // "" for a text template
}

// Render fills the group's subject and template with d. Values are
// inserted as they are into text and escaped into HTML; the subject is
// one line.
func Render(d Data) Rendered {
	t := d.Group.Transcript
	loc, err := d.Group.Routing.Location()
	if err != nil {
		loc = time.UTC
	}
	f := formatFor(t.Locale)
	values := d.values(f, loc)

	subject := t.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	subject = strings.Join(strings.Fields(replace(subject, values, "", nil)), " ")

	transcriptText := d.transcriptText(f, loc)
	var out Rendered
	out.Subject = subject
	if t.HTML && t.Template != "" {
		out.HTML = replace(t.Template, values, d.transcriptHTML(f, loc), html.EscapeString)
		out.Text = replace(DefaultTemplate, values, transcriptText, nil)
		return out
	}
	tpl := t.Template
	if tpl == "" {
		tpl = DefaultTemplate
	}
	out.Text = replace(tpl, values, transcriptText, nil)
	return out
}

// replace substitutes every placeholder in s in one pass, so that a value
// holding a placeholder name is not expanded again. escape (if set) is
// applied to values but not to the transcript, which is rendered for the
// target format already.
func replace(s string, values map[string]string, transcript string, escape func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+1:], '$')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i : i+j+2]
		v, ok := values[name]
		switch {
		case name == "$Transcript$":
			b.WriteString(s[:i])
			b.WriteString(transcript)
			s = s[i+j+2:]
		case ok:
			if escape != nil {
				v = escape(v)
			}
			b.WriteString(s[:i])
			b.WriteString(v)
			s = s[i+j+2:]
		default:
			// Not a placeholder: keep the first $ and look again after it.
			b.WriteString(s[:i+1])
			s = s[i+1:]
		}
	}
}

func (d Data) values(f dateFormat, loc *time.Location) map[string]string {
	now, recv := d.Now.In(loc), d.Received.In(loc)
	group, groupMail := "", ""
	if d.Group != nil {
		group, groupMail = d.Group.Name, d.Group.Transcript.Sender
	}
	var agentName, first, last, chatName string
	if a := d.Agent; a != nil {
		agentName = a.DisplayName
		if agentName == "" {
			agentName = a.Login
		}
		first, last, chatName = a.FirstName, a.LastName, a.NameForVisitors()
	}
	var cname, cmail, cphone string
	if c := d.Customer; c != nil {
		cname, cmail, cphone = c.Name, c.Email, c.Phone
	}
	return map[string]string{
		"$Date$":               now.Format(f.date),
		"$Time$":               now.Format(f.time),
		"$Received$":           recv.Format(f.date) + " " + recv.Format(f.time),
		"$Received.Date$":      recv.Format(f.date),
		"$Received.Time$":      recv.Format(f.time),
		"$ServiceGroup$":       group,
		"$ServiceGroup.Name$":  group,
		"$ServiceGroup.Email$": groupMail,
		"$Agent$":              agentName,
		"$Agent.Name$":         agentName,
		"$Agent.FirstName$":    first,
		"$Agent.LastName$":     last,
		"$Agent.ChatName$":     chatName,
		"$Customer$":           cname,
		"$Customer.Name$":      cname,
		"$Customer.Email$":     cmail,
		"$Customer.Number$":    cphone,
	}
}

// line is one transcript entry: when, who and what.
type line struct{ at, who, text string }

// lines turns the events into transcript entries: those the customer may
// see, or with forAgents all.
func (d Data) lines(f dateFormat, loc *time.Location, forAgents bool) []line {
	var out []line
	for _, e := range d.Events {
		if !e.VisibleTo(!forAgents) {
			continue // never mail what only agents may see
		}
		who := e.From.Name
		if who == "" {
			switch e.From.Kind {
			case parley.PartyVisitor:
				who = "Visitor"
			case parley.PartyAgent:
				who = "Agent"
			default:
				who = "System"
			}
		}
		var text string
		switch e.Type {
		case parley.EventMessage:
			text = e.Text
		case parley.EventFile:
			if e.File != nil {
				text = "sent the file " + e.File.Name
			}
		case parley.EventURL:
			text = "shared " + e.URL
		case parley.EventJoined:
			text = "joined the chat"
		case parley.EventLeft:
			text = "left the chat"
		case parley.EventNotice:
			if e.Notice == parley.NoticeTransferred && e.Text != "" {
				text = e.Text
			}
		case parley.EventSignal:
			// Only a call's end is written down: its kind, outcome and
			// length. The media itself never passes through the server.
			if sig, ok := e.CallOf(); ok {
				text = sig.CallSummary()
			}
		}
		if text != "" {
			out = append(out, line{at: e.At.In(loc).Format(f.time), who: who, text: text})
		}
	}
	return out
}

// transcriptText renders the events as plain text, one entry per line.
func (d Data) transcriptText(f dateFormat, loc *time.Location) string {
	var b strings.Builder
	for _, l := range d.lines(f, loc, false) {
		b.WriteString("[" + l.at + "] " + l.who + ": " + strings.ReplaceAll(l.text, "\n", "\n    ") + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (d Data) transcriptHTML(f dateFormat, loc *time.Location) string {
	var b strings.Builder
	// Inline styles: mail clients drop style sheets.
	b.WriteString(`<table class="transcript" style="border-collapse:collapse;font:14px/1.4 sans-serif">`)
	for _, l := range d.lines(f, loc, false) {
		b.WriteString(`<tr><td class="time" style="padding:2px 8px 2px 0;color:#667;vertical-align:top;white-space:nowrap">` +
			html.EscapeString(l.at) + `</td><th style="padding:2px 8px 2px 0;text-align:left;vertical-align:top;white-space:nowrap">` +
			html.EscapeString(l.who) + `</th><td style="padding:2px 0;vertical-align:top">` +
			strings.ReplaceAll(html.EscapeString(l.text), "\n", "<br>") + `</td></tr>`)
	}
	b.WriteString(`</table>`)
	return b.String()
}

// Text renders events as the plain-text transcript agents read in the
// archive, in UTC with ISO dates.
func Text(events []parley.Event, forAgents bool) string {
	var b strings.Builder
	for _, e := range events {
		if !e.VisibleTo(!forAgents) {
			continue
		}
		d := Data{Events: []parley.Event{e}}
		ls := d.lines(dateFormat{time: "2006-01-02 15:04:05"}, time.UTC, forAgents)
		if len(ls) == 0 {
			continue
		}
		who := ls[0].who
		if e.Audience == parley.AudienceAgents {
			who += " (to agents only)"
		}
		b.WriteString("[" + ls[0].at + "] " + who + ": " + strings.ReplaceAll(ls[0].text, "\n", "\n    ") + "\n")
	}
	return b.String()
}

// dateFormat is a locale's short date and time layouts.
type dateFormat struct{ date, time string }

// localeFormats are the short date and time formats of common locales,
// keyed by language tag or bare language.
var localeFormats = map[string]dateFormat{
	"en-us": {"1/2/2006", "3:04 PM"},
	"en":    {"1/2/2006", "3:04 PM"},
	"en-gb": {"02/01/2006", "15:04"},
	"en-au": {"2/01/2006", "3:04 pm"},
	"en-ca": {"2006-01-02", "3:04 p.m."},
	"de":    {"02.01.2006", "15:04"},
	"fr":    {"02/01/2006", "15:04"},
	"fr-ca": {"2006-01-02", "15 h 04"},
	"es":    {"2/1/2006", "15:04"},
	"it":    {"02/01/2006", "15:04"},
	"nl":    {"2-1-2006", "15:04"},
	"pt":    {"02/01/2006", "15:04"},
	"sv":    {"2006-01-02", "15:04"},
	"da":    {"02.01.2006", "15.04"},
	"nb":    {"02.01.2006", "15:04"},
	"fi":    {"2.1.2006", "15.04"},
	"pl":    {"2.01.2006", "15:04"},
	"ja":    {"2006/01/02", "15:04"},
	"zh":    {"2006/1/2", "15:04"},
}

// formatFor returns the formats of a BCP 47 tag, falling back to its
// language and then to en-US.
func formatFor(tag string) dateFormat {
	tag = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if f, ok := localeFormats[tag]; ok {
		return f
	}
	lang, _, _ := strings.Cut(tag, "-")
	if f, ok := localeFormats[lang]; ok {
		return f
	}
	return localeFormats["en-us"]
}

// MessageID returns a Message-ID (without angle brackets) in the domain
// of the sender address; it is stored with the mail so that every
// delivery attempt carries the same one.
func MessageID(from string) string {
	domain := "parley.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "transcript." + strings.ToLower(rand.Text()) + "@" + domain
}
