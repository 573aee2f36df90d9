package parley

import "time"

// Party kinds of integrations (Genesys user types EXTERNAL and a bot
// flagged as such): a workflow posting into a chat through the
// integration API, and a bot taking part in a chat.
const (
	PartyExternal PartyKind = "external"
	PartyBot      PartyKind = "bot"
)

// Notice codes of integrations.
const (
	NoticeExternal = "external" // a workflow's notice (Text, MessageType)
	NoticeHandover = "handover" // a bot handed the chat over to the agents
)

// APIKey is a tenant's credential for the integration API. Only the
// SHA-256 of the key is stored; the key itself is shown once.
type APIKey struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
	// Prefix is the key's first characters, to tell keys apart.
	Prefix    string    `json:"prefix"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Webhook is a tenant's subscription to chat events, delivered to URL
// signed with Secret.
type Webhook struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	URL      string `json:"url"`
	// Events lists the subscribed event names; empty means all.
	Events    []string  `json:"events"`
	Secret    string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookDelivery is one event on its way to one webhook. ID is the
// delivery's idempotency key.
type WebhookDelivery struct {
	ID        int64  `json:"id"`
	WebhookID int64  `json:"webhook_id"`
	TenantID  int64  `json:"tenant_id"`
	ChatID    string `json:"chat_id,omitempty"`
	// OrderKey keeps a chat's deliveries in order: the chat ID, or
	// "offline:<id>" for an offline message.
	OrderKey    string    `json:"-"`
	Event       string    `json:"event"`
	Payload     string    `json:"-"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	LastStatus  int       `json:"last_status,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookCapture is one change captured for webhooks in the transaction
// that stored it: an event of a chat's log (Kind "event", Seq), an offer
// (Kind "offered", Ref the agent) or an offline message (Kind "offline",
// Ref its ID).
type WebhookCapture struct {
	ID       int64
	TenantID int64
	ChatID   string
	Seq      int64
	Kind     string
	Ref      int64
	At       time.Time
}
