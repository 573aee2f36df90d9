// Package webhook delivers chat events to the HTTP endpoints tenants
// subscribe, signed with HMAC-SHA256, through a durable outbox.
//
// Capture is durable: triggers (migration 0011) add a row to
// webhook_backlog in the transaction that stores an event, an offer or an
// offline message. The Sender turns backlog rows into one delivery per
// subscribed webhook and deletes them in one transaction, so after a crash
// nothing is lost and nothing is captured twice. Deliveries of one chat
// (per webhook) go out in order, one at a time; a failed attempt is
// retried with a doubling delay. Each delivery has an ID, sent as the
// Parley-Delivery header, that stays the same on every attempt: a
// receiver that acknowledged it (any 2xx) and sees it again after a crash
// of the sender drops the copy.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// Event names a receiver can subscribe to.
const (
	EventRequested      = "requested"       // a visitor asked for a chat
	EventQueued         = "queued"          // the chat waits for an agent (new, transferred, handed over)
	EventOffered        = "offered"         // the chat is offered to an agent
	EventAccepted       = "accepted"        // an agent took the chat
	EventMessage        = "message"         // a message of any party (audience says who saw it)
	EventTransferred    = "transferred"     // an agent transferred the chat
	EventEnded          = "ended"           // the chat ended
	EventOfflineMessage = "offline_message" // a visitor left a message while nobody was there
	EventRating         = "rating"          // the visitor rated the chat
)

// Events lists every event name.
var Events = []string{EventRequested, EventQueued, EventOffered, EventAccepted, EventMessage,
	EventTransferred, EventEnded, EventOfflineMessage, EventRating}

// Headers of a delivery.
const (
	HeaderDelivery  = "Parley-Delivery"  // the delivery's ID: the idempotency key
	HeaderEvent     = "Parley-Event"     // the event name
	HeaderTimestamp = "Parley-Timestamp" // Unix seconds of this attempt
	HeaderSignature = "Parley-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sign returns the Parley-Signature value of a body sent at timestamp
// (Unix seconds, as in the Parley-Timestamp header).
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver should: the signature over the
// timestamp and body in constant time, and a timestamp within tolerance
// of now, so a recorded delivery cannot be replayed later.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}

// Store is what the sender keeps in the store; sqlite.Store implements it.
type Store interface {
	CreateWebhook(ctx context.Context, w *parley.Webhook) error
	Webhooks(ctx context.Context, tenantID int64) ([]*parley.Webhook, error)
	Webhook(ctx context.Context, id int64) (*parley.Webhook, error)
	DeleteWebhook(ctx context.Context, tenantID, id int64, at time.Time) error
	WebhookBacklog(ctx context.Context, limit int) ([]parley.WebhookCapture, error)
	CaptureDeliveries(ctx context.Context, done []int64, deliveries []*parley.WebhookDelivery) error
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*parley.WebhookDelivery, error)
	ReleaseDeliveries(ctx context.Context) error
	PruneDeliveries(ctx context.Context, before time.Time) error
	MarkDelivered(ctx context.Context, id int64, status int, at time.Time) error
	MarkDeliveryFailed(ctx context.Context, id int64, next time.Time, status int, reason string, final bool) error
	WebhookDeliveries(ctx context.Context, webhookID, before int64, limit int) ([]*parley.WebhookDelivery, error)
	Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error)
	OfflineMessage(ctx context.Context, id int64) (*parley.OfflineMessage, error)
}

// Subscription is a new webhook as the admin API answers it: the secret
// is shown this once.
type Subscription struct {
	*parley.Webhook
	Secret string `json:"secret"`
}

// MaxWebhooks is the most webhooks a tenant may have.
const MaxWebhooks = 20

// Create subscribes rawURL to events (nil or empty: all) for a tenant
// and returns the webhook with its signing secret.
func (s *Sender) Create(ctx context.Context, tenantID int64, rawURL string, events []string) (*Subscription, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > 2000 || u.Fragment != "" {
		return nil, parley.Errorf(parley.EINVALID, "url must be an http or https address of at most 2000 characters")
	}
	if err := parley.CheckChars("url", rawURL, false); err != nil {
		return nil, err
	}
	var evs []string
	for _, e := range events {
		e = strings.TrimSpace(e)
		if !slices.Contains(Events, e) {
			return nil, parley.Errorf(parley.EINVALID, "unknown event %q; events are %s", e, strings.Join(Events, ", "))
		}
		if !slices.Contains(evs, e) {
			evs = append(evs, e)
		}
	}
	existing, err := s.store.Webhooks(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	if len(existing) >= MaxWebhooks {
		return nil, parley.Errorf(parley.ECONFLICT, "a tenant has at most %d webhooks", MaxWebhooks)
	}
	w := &parley.Webhook{TenantID: tenantID, URL: rawURL, Events: evs, Secret: "whsec_" + rand.Text()}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	return &Subscription{Webhook: w, Secret: w.Secret}, nil
}

// List returns a tenant's webhooks, without their secrets.
func (s *Sender) List(ctx context.Context, tenantID int64) ([]*parley.Webhook, error) {
	return s.store.Webhooks(ctx, tenantID)
}

// Delete ends a tenant's webhook; pending deliveries are given up.
func (s *Sender) Delete(ctx context.Context, tenantID, id int64) error {
	return s.store.DeleteWebhook(ctx, tenantID, id, s.now())
}

// Deliveries lists a tenant's webhook's deliveries, newest first, with
// their status.
func (s *Sender) Deliveries(ctx context.Context, tenantID, webhookID, before int64, limit int) ([]*parley.WebhookDelivery, error) {
	w, err := s.store.Webhook(ctx, webhookID)
	if err != nil {
		return nil, err
	}
	if w.TenantID != tenantID {
		return nil, parley.Errorf(parley.ENOTFOUND, "webhook not found")
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.WebhookDeliveries(ctx, webhookID, before, limit)
}
