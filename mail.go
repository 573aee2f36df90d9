package parley

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// GroupTranscript is how a group mails chat transcripts (Mitel's Chat tab
// of the service group). Transcripts can be mailed only when Sender is set.
type GroupTranscript struct {
	// Sender is the From address of the group's transcript mails.
	Sender string `json:"sender,omitempty"`
	// Subject may hold every placeholder but $Transcript$; "" means the
	// default subject.
	Subject string `json:"subject,omitempty"`
	// Template is the body with placeholders; "" means the default body.
	Template string `json:"template,omitempty"`
	// HTML says the template is HTML (.htm, .html) rather than text.
	HTML bool `json:"html,omitempty"`
	// OnClose mails the transcript to the visitor when the chat ends, if
	// the visitor gave an email address.
	OnClose bool `json:"on_close,omitempty"`
	// Locale formats $Date$, $Time$ and $Received…$ (a BCP 47 tag such as
	// en-US, en-GB, de-DE); "" means en-US.
	Locale string `json:"locale,omitempty"`
	// OfflineTo receives, from Sender, the messages visitors leave on the
	// offline form while the group is closed; "" keeps them in the console
	// only.
	OfflineTo string `json:"offline_to,omitempty"`
}

// Validate reports whether t is usable.
func (t *GroupTranscript) Validate() error {
	switch {
	case t.Sender != "" && !ValidEmail(t.Sender):
		return FieldErrorf("transcript.sender", "transcript sender %q is not an email address", t.Sender)
	case t.OfflineTo != "" && !ValidEmail(t.OfflineTo):
		return FieldErrorf("transcript.offline_to", "offline_to %q is not an email address", t.OfflineTo)
	case len(t.Subject) > 500 || strings.ContainsAny(t.Subject, "\r\n"):
		return FieldErrorf("transcript.subject", "transcript subject must be one line of at most 500 characters")
	case len(t.Template) > 256<<10:
		return FieldErrorf("transcript.template", "transcript template is larger than 256 KB")
	case !utf8.ValidString(t.Subject + t.Template):
		return FieldErrorf("transcript.template", "transcript subject and template must be valid UTF-8")
	case len(t.Locale) > 35:
		return FieldErrorf("transcript.locale", "transcript locale is not a language tag")
	}
	return nil
}

// ValidEmail reports whether s is a single bare address such as
// a@example.com (no display name, no line breaks).
func ValidEmail(s string) bool {
	if s == "" || len(s) > 320 || strings.ContainsAny(s, "\r\n<>,") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// MailStatus is where an outbox mail stands.
type MailStatus string

// Mail statuses.
const (
	MailPending MailStatus = "pending" // waiting for its (next) attempt
	MailSent    MailStatus = "sent"    // accepted by the SMTP server
	MailFailed  MailStatus = "failed"  // given up after MaxMailAttempts
)

// MaxMailAttempts is how often the outbox tries a mail before giving up.
const MaxMailAttempts = 12

// OutboxMail is a rendered mail waiting in (or done with) the outbox. The
// outbox makes sending durable: a mail is stored first, then claimed,
// sent and marked sent, so a down SMTP server only delays it.
type OutboxMail struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// Key makes enqueueing idempotent: a second mail with the same key is
	// not stored (e.g. "close:<chat id>" for the automatic transcript).
	Key    string `json:"-"`
	ChatID string `json:"chat_id,omitempty"`
	// MessageID is the Message-ID header, fixed when the mail is stored so
	// that a resend after a crash carries the same ID.
	MessageID string     `json:"message_id"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Text      string     `json:"-"`
	HTML      string     `json:"-"`
	Status    MailStatus `json:"status"`
	Attempts  int        `json:"attempts"`
	// NextAttempt is when a pending mail is due.
	NextAttempt time.Time `json:"next_attempt"`
	// LastError is the last SMTP failure, for operators.
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
}
