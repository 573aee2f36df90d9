package parley

import (
	"strings"
	"time"
)

// MaxRetentionDays bounds a retention period: a hundred years.
const MaxRetentionDays = 36500

// RetentionPolicy is how long a tenant keeps personal data (F6.4): ended
// chats with their events, attachments, ratings and attached data;
// offline messages; transcript and offline mail; webhook deliveries.
type RetentionPolicy struct {
	TenantID int64 `json:"tenant_id"`
	// Days is how long after its end a chat is kept, and after they were
	// made the offline messages, mails and webhook deliveries. 0 keeps
	// everything.
	Days      int       `json:"retention_days"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate reports whether p can be stored.
func (p *RetentionPolicy) Validate() error {
	if p.Days < 0 || p.Days > MaxRetentionDays {
		return FieldErrorf("retention_days", "retention_days must be between 0 (keep everything) and %d", MaxRetentionDays)
	}
	return nil
}

// Period is the retention period; 0 means none.
func (p *RetentionPolicy) Period() time.Duration {
	return time.Duration(p.Days) * 24 * time.Hour
}

// ErasureRequest names the person whose data a tenant erases: exactly one
// of a visitor ID, an email address (any case) or a phone number.
type ErasureRequest struct {
	TenantID  int64  `json:"-"`
	VisitorID string `json:"visitor_id,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// Normalize trims the request's fields and checks that exactly one is
// set.
func (r *ErasureRequest) Normalize() error {
	r.VisitorID = strings.TrimSpace(r.VisitorID)
	r.Email = strings.TrimSpace(r.Email)
	r.Phone = strings.TrimSpace(r.Phone)
	n := 0
	for _, f := range []struct{ name, value string }{{"visitor_id", r.VisitorID}, {"email", r.Email}, {"phone", r.Phone}} {
		if f.value != "" {
			n++
		}
		if len(f.value) > 320 {
			return FieldErrorf(f.name, "%s is longer than 320 characters", f.name)
		}
	}
	if n != 1 {
		return Errorf(EINVALID, "name exactly one of visitor_id, email or phone")
	}
	return nil
}

// Deletion counts what a retention run or an erasure deleted.
type Deletion struct {
	Visitors          int `json:"visitors"`
	Chats             int `json:"chats"`
	Events            int `json:"events"`
	Attachments       int `json:"attachments"`
	Files             int `json:"files"`
	Ratings           int `json:"ratings"`
	OfflineMessages   int `json:"offline_messages"`
	Mails             int `json:"mails"`
	WebhookDeliveries int `json:"webhook_deliveries"`
	// ChatIDs are the deleted chats; the caller removes their files.
	ChatIDs []string `json:"-"`
}

// Add adds o's counts and chats to d.
func (d *Deletion) Add(o *Deletion) {
	d.Visitors += o.Visitors
	d.Chats += o.Chats
	d.Events += o.Events
	d.Attachments += o.Attachments
	d.Files += o.Files
	d.Ratings += o.Ratings
	d.OfflineMessages += o.OfflineMessages
	d.Mails += o.Mails
	d.WebhookDeliveries += o.WebhookDeliveries
	d.ChatIDs = append(d.ChatIDs, o.ChatIDs...)
}

// Empty reports whether nothing was deleted.
func (d *Deletion) Empty() bool {
	return d.Visitors == 0 && d.Chats == 0 && d.OfflineMessages == 0 && d.Mails == 0 && d.WebhookDeliveries == 0
}
