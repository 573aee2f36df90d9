package parley

import (
	"strings"
	"time"
)

// ArchiveQuery selects archived chats of one tenant, newest first. Zero
// fields do not filter.
type ArchiveQuery struct {
	TenantID int64
	// Customer matches the visitor's name, email or phone, case-insensitively,
	// as a substring.
	Customer string
	AgentID  int64
	GroupID  int64
	// VisitorID keeps one visitor's chats.
	VisitorID string
	// From and To bound the chat's creation time: From <= created < To.
	From, To time.Time
	// Text matches message text as a substring, case-insensitively.
	Text string
	// Before continues a search: only chats older than this cursor (from
	// ArchivePage.Next) are returned.
	Before string
	// Limit is the page size; 0 means DefaultArchiveLimit.
	Limit int
}

// Archive page sizes.
const (
	DefaultArchiveLimit = 50
	MaxArchiveLimit     = 500
)

// Validate reports whether q is usable and fills in the default limit.
func (q *ArchiveQuery) Validate() error {
	switch {
	case q.Limit < 0 || q.Limit > MaxArchiveLimit:
		return Errorf(EINVALID, "limit must be between 1 and %d", MaxArchiveLimit)
	case len(q.Customer) > 320 || len(q.Text) > 1000:
		return Errorf(EINVALID, "customer is limited to 320 and text to 1000 characters")
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return Errorf(EINVALID, "from must be before to")
	}
	if q.Limit == 0 {
		q.Limit = DefaultArchiveLimit
	}
	q.Customer, q.Text = strings.TrimSpace(q.Customer), strings.TrimSpace(q.Text)
	return nil
}

// ArchivePage is one page of an archive search.
type ArchivePage struct {
	Chats []*Chat
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// FromField is a visitor detail that FromPriority may pick.
type FromField string

// From fields.
const (
	FromEmail FromField = "email"
	FromPhone FromField = "phone"
	FromID    FromField = "id"
)

// DefaultFromPriority is Mitel's default order: email, phone, id.
var DefaultFromPriority = []FromField{FromEmail, FromPhone, FromID}

// ParseFromPriority parses a comma-separated list such as "phone, email,
// id"; an empty string gives the default.
func ParseFromPriority(s string) ([]FromField, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultFromPriority, nil
	}
	var out []FromField
	for _, f := range strings.Split(s, ",") {
		switch ff := FromField(strings.ToLower(strings.TrimSpace(f))); ff {
		case FromEmail, FromPhone, FromID:
			out = append(out, ff)
		default:
			return nil, Errorf(EINVALID, "from priority: %q is not email, phone or id", strings.TrimSpace(f))
		}
	}
	return out, nil
}

// From returns what an archive shows as the visitor's "from": the first of
// the fields in priority order that is set, else the visitor's name.
func (v *Visitor) From(priority []FromField) string {
	if len(priority) == 0 {
		priority = DefaultFromPriority
	}
	for _, f := range priority {
		switch {
		case f == FromEmail && v.Email != "":
			return v.Email
		case f == FromPhone && v.Phone != "":
			return v.Phone
		case f == FromID && v.CustomerID != "":
			return v.CustomerID
		}
	}
	return v.Name
}
