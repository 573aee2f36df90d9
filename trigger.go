package parley

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Trigger is a proactive rule of the widget (Rocket.Chat's livechat
// triggers): when its conditions hold on a visitor's page, the widget
// opens with Message from SenderName. Every condition that is set must
// hold. GroupID 0 makes the rule apply to every group of the tenant.
type Trigger struct {
	ID          int64  `json:"id"`
	TenantID    int64  `json:"tenant_id"`
	GroupID     int64  `json:"group_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
	// RunOnce fires the rule at most once per visitor (per browser).
	RunOnce bool `json:"run_once"`
	// URLPattern is a regular expression the host page's address must
	// match ("" matches every page); see CheckTriggerPattern.
	URLPattern string `json:"url_pattern"`
	// TimeOnSite is how many seconds the visitor must have spent on the
	// site in this browser session (0: no wait).
	TimeOnSite int `json:"time_on_site"`
	// ChatOpened fires the rule when the visitor opens the chat card.
	ChatOpened bool `json:"chat_opened"`
	// SenderName is who the message is from: an agent's or a bot's name;
	// "" shows it from the group (Rocket.Chat's "queue" sender).
	SenderName string    `json:"sender_name"`
	Message    string    `json:"message"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Limits of a trigger's fields.
const (
	MaxTriggerPattern    = 500   // characters of URLPattern
	MaxTriggerTimeOnSite = 86400 // seconds
	MaxTriggerMessage    = 2000  // characters of Message
)

// Validate reports whether t can be stored; it trims the names.
func (t *Trigger) Validate() error {
	t.Name = strings.TrimSpace(t.Name)
	t.Description = strings.TrimSpace(t.Description)
	t.SenderName = strings.TrimSpace(t.SenderName)
	t.Message = strings.TrimSpace(t.Message)
	switch {
	case t.Name == "":
		return FieldErrorf("name", "name is required")
	case t.Message == "":
		return FieldErrorf("message", "message is required")
	case !utf8.ValidString(t.Name + t.Description + t.SenderName + t.Message + t.URLPattern):
		return FieldErrorf("name", "every field must be valid UTF-8")
	case utf8.RuneCountInString(t.Name) > 200:
		return FieldErrorf("name", "name is longer than 200 characters")
	case utf8.RuneCountInString(t.Description) > 1000:
		return FieldErrorf("description", "description is longer than 1000 characters")
	case utf8.RuneCountInString(t.SenderName) > 100:
		return FieldErrorf("sender_name", "sender_name is longer than 100 characters")
	case utf8.RuneCountInString(t.Message) > MaxTriggerMessage:
		return FieldErrorf("message", "message is longer than %d characters", MaxTriggerMessage)
	case t.TimeOnSite < 0 || t.TimeOnSite > MaxTriggerTimeOnSite:
		return FieldErrorf("time_on_site", "time_on_site must be between 0 and %d seconds", MaxTriggerTimeOnSite)
	case t.GroupID < 0:
		return FieldErrorf("group_id", "group_id must not be negative")
	case t.URLPattern == "" && t.TimeOnSite == 0 && !t.ChatOpened:
		return FieldErrorf("url_pattern", "a trigger needs a condition: url_pattern, time_on_site or chat_opened")
	}
	for _, f := range []struct{ name, v string }{{"name", t.Name}, {"description", t.Description}, {"sender_name", t.SenderName}} {
		if err := CheckChars(f.name, f.v, false); err != nil {
			return err
		}
	}
	if err := CheckChars("message", t.Message, true); err != nil {
		return err
	}
	return CheckTriggerPattern(t.URLPattern)
}

// CheckTriggerPattern reports whether p is a URL pattern that Go's regexp
// and JavaScript's RegExp (without flags) read the same way, so that the
// server and the widget agree on it. It allows printable ASCII only, and
// of the syntax: literals, ".", "^", "$", "|", groups "(…)" and "(?:…)",
// bracket classes without nested "[", the escapes \d \D \w \W \s \S \b \B
// \n \r \t and escaped punctuation, and the quantifiers * + ? {n} {n,}
// {n,m} (also lazy). Flags, named groups, look-around, back-references,
// Unicode classes and repetitions of repeated groups such as (a+)+ are
// refused, the last because JavaScript's backtracking would take
// exponential time on them.
func CheckTriggerPattern(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > MaxTriggerPattern {
		return FieldErrorf("url_pattern", "url_pattern is longer than %d characters", MaxTriggerPattern)
	}
	bad := func(why string) error { return FieldErrorf("url_pattern", "url_pattern: %s", why) }
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			return bad("only printable ASCII characters are allowed (write others percent-encoded, as in URLs)")
		}
	}
	if _, err := regexp.Compile(p); err != nil {
		return bad(err.Error())
	}
	// repeated[d] is set when the group open at depth d holds a quantifier.
	repeated := []bool{false}
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return bad("a trailing backslash")
			}
			i++
			e := p[i]
			isWord := e >= 'a' && e <= 'z' || e >= 'A' && e <= 'Z' || e >= '0' && e <= '9'
			if isWord && !strings.ContainsRune("dDwWsSbBnrt", rune(e)) {
				return bad(`the escape \` + string(e) + ` is not in the common subset of Go and JavaScript`)
			}
			if inClass && (e == 'b' || e == 'B') {
				return bad(`\b inside brackets means different things in Go and JavaScript`)
			}
		case inClass:
			if c == '[' {
				return bad(`"[" inside brackets must be escaped as \[`)
			}
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A "]" or "^]" right after the opening bracket is a literal in
			// Go and an empty class in JavaScript.
			rest := p[i+1:]
			if strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, "^]") {
				return bad(`write a "]" inside brackets as \]`)
			}
		case c == '(':
			if strings.HasPrefix(p[i+1:], "?") && !strings.HasPrefix(p[i+1:], "?:") {
				return bad("only plain groups (…) and (?:…) are allowed: no flags, names or look-around")
			}
			repeated = append(repeated, false)
		case c == ')':
			inner := repeated[len(repeated)-1]
			repeated = repeated[:len(repeated)-1]
			if inner && i+1 < len(p) && strings.ContainsRune("*+?{", rune(p[i+1])) {
				return bad("a repeated group must not itself hold a repetition, such as (a+)+")
			}
			if inner {
				repeated[len(repeated)-1] = true
			}
		case c == '*' || c == '+':
			repeated[len(repeated)-1] = true
		case c == '{' && repeatPattern.MatchString(p[i:]):
			repeated[len(repeated)-1] = true
			i += len(repeatPattern.FindString(p[i:])) - 1
		case c == '{':
			return bad(`a literal "{" must be escaped as \{`)
		case c == '}':
			return bad(`a literal "}" must be escaped as \}`)
		}
	}
	return nil
}

// repeatPattern is a counted repetition such as {2}, {2,} or {2,5}.
var repeatPattern = regexp.MustCompile(`^\{[0-9]+(,[0-9]*)?\}`)
