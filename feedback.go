package parley

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Rating is a visitor's rating of an ended chat, one per chat.
type Rating struct {
	ChatID string `json:"chat_id"`
	// Score is 1 (poor) to 5 (excellent).
	Score     int       `json:"score"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// OfflineMessage is what a visitor left in the widget's offline form while
// the group was closed.
type OfflineMessage struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	GroupID   int64     `json:"group_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// ChatContext is where and with what a visitor chats: the page of the
// host site and the browser. The widget sends it when the chat starts and
// the page again when the visitor moves on, each time in an EventURL of
// the visitor that only agents see. It is personal data: never logged.
type ChatContext struct {
	// URL and Title are of the page the visitor is on.
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	// Referrer is the page that led the visitor to the site.
	Referrer string `json:"referrer,omitempty"`
	// UserAgent is the browser's User-Agent string.
	UserAgent string `json:"user_agent,omitempty"`
	// Language is the browser's preferred language (BCP 47).
	Language string `json:"language,omitempty"`
	// TimeZone is the visitor's IANA time zone, e.g. "Europe/Berlin".
	TimeZone string `json:"time_zone,omitempty"`
	// Call is the call the visitor asked for with the chat (audio or
	// video), from the contact portal's or a business card's "Audio" and
	// "Video": the widget rings the agent once the chat is accepted.
	Call string `json:"call,omitempty"`
}

// Limits of a ChatContext's fields.
const (
	MaxContextURL   = 2000
	MaxContextTitle = 300
	MaxContextAgent = 500
)

// Validate checks a chat context's fields and trims them: URLs must be
// absolute http(s) addresses; an empty field is allowed.
func (c *ChatContext) Validate() error {
	c.URL, c.Title, c.Referrer = strings.TrimSpace(c.URL), strings.TrimSpace(c.Title), strings.TrimSpace(c.Referrer)
	c.UserAgent, c.Language, c.TimeZone = strings.TrimSpace(c.UserAgent), strings.TrimSpace(c.Language), strings.TrimSpace(c.TimeZone)
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"url", c.URL, MaxContextURL}, {"referrer", c.Referrer, MaxContextURL}, {"title", c.Title, MaxContextTitle},
		{"user_agent", c.UserAgent, MaxContextAgent}, {"language", c.Language, 35}, {"time_zone", c.TimeZone, 64},
	} {
		if !utf8.ValidString(f.value) {
			return Errorf(EINVALID, "context %s is not valid UTF-8", f.name)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return Errorf(EINVALID, "context %s has %d characters; at most %d are allowed", f.name, n, f.max)
		}
		if strings.ContainsFunc(f.value, unicode.IsControl) {
			return Errorf(EINVALID, "context %s contains control characters", f.name)
		}
	}
	for _, u := range []struct{ name, value string }{{"url", c.URL}, {"referrer", c.Referrer}} {
		if u.value != "" && !WebURL(u.value) {
			return Errorf(EINVALID, "context %s must be an absolute http or https address", u.name)
		}
	}
	if c.Call != "" && c.Call != MediaAudio && c.Call != MediaVideo {
		return Errorf(EINVALID, "context call must be audio or video")
	}
	if c.TimeZone != "" {
		if !tzName(c.TimeZone) {
			return Errorf(EINVALID, "context time_zone %q is not an IANA time zone", c.TimeZone)
		}
	}
	return nil
}

// WebURL reports whether s is an absolute http or https address.
func WebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// tzName reports whether s looks like an IANA zone name ("Europe/Berlin",
// "UTC", "Etc/GMT+2"); the server has no zone database to check it against.
func tzName(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return false
		}
	}
	return s != "" && s[0] != '/'
}
