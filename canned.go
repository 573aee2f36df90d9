package parley

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// CannedResponse is a prepared message an agent inserts into a chat (a
// Mitel chat response, an estos text block). Responses are organised in
// folders per group; GroupID 0 makes a response available in every group
// of the tenant.
type CannedResponse struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	GroupID  int64 `json:"group_id,omitempty"`
	// Folder is a slash-separated path such as "Greetings/Formal"; "" is
	// the top level.
	Folder string `json:"folder,omitempty"`
	// Shortcut is typed after a slash in the console ("greet" for /greet);
	// unique per tenant and group.
	Shortcut string `json:"shortcut,omitempty"`
	Title    string `json:"title"`
	// Text may hold placeholders such as {visitor.name}; see
	// CannedPlaceholders.
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CannedPlaceholders lists the placeholders a canned response may hold.
var CannedPlaceholders = []string{
	"{visitor.name}", "{visitor.email}", "{visitor.phone}", "{visitor.customer_id}",
	"{agent.name}", "{agent.first_name}", "{agent.last_name}",
	"{group.name}", "{chat.id}", "{date}", "{time}",
}

var shortcutPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Validate reports whether c can be stored; it trims and normalises the
// folder path and lower-cases the shortcut.
func (c *CannedResponse) Validate() error {
	c.Shortcut = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c.Shortcut), "/"))
	var parts []string
	for _, p := range strings.Split(c.Folder, "/") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	c.Folder = strings.Join(parts, "/")
	c.Title = strings.TrimSpace(c.Title)
	switch {
	case c.Title == "":
		return FieldErrorf("title", "title is required")
	case strings.TrimSpace(c.Text) == "":
		return FieldErrorf("text", "text is required")
	case !utf8.ValidString(c.Title + c.Text + c.Folder):
		return FieldErrorf("text", "title, text and folder must be valid UTF-8")
	case utf8.RuneCountInString(c.Title) > 200:
		return FieldErrorf("title", "title is longer than 200 characters")
	case utf8.RuneCountInString(c.Text) > 4000:
		return FieldErrorf("text", "text is longer than 4000 characters")
	case utf8.RuneCountInString(c.Folder) > 300 || len(parts) > 5:
		return FieldErrorf("folder", "folder is limited to 5 levels and 300 characters")
	case c.Shortcut != "" && !shortcutPattern.MatchString(c.Shortcut):
		return FieldErrorf("shortcut", "shortcut must be 1 to 40 lower-case letters, digits, _ or - and start with a letter or digit")
	case c.GroupID < 0:
		return FieldErrorf("group_id", "group_id must not be negative")
	}
	return nil
}

// InternalMessage is a message between two agents of a tenant outside any
// chat (the console's internal chat).
type InternalMessage struct {
	ID       int64     `json:"id"`
	TenantID int64     `json:"-"`
	From     Party     `json:"from"`
	To       Party     `json:"to"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
}
