// Package parley holds the domain vocabulary of the Parley contact-center chat
// server: tenants, service groups, agents, visitors, chats and the events that
// make up a chat, plus the Store and Bus ports that adapters implement.
//
// A chat is an append-only log of events, each with a per-chat sequence
// number. Every client is a cursor over that log; see Event.
//
// This package imports only the standard library. Business rules live in
// package conversation and routing, storage in sqlite, transport in httpapi.
package parley

import (
	"strings"
	"time"
)

// Version is the server version, set at build time with
// -ldflags "-X github.com/parleychat/parley.Version=…".
var Version = "0.1.0-dev"

// DefaultTenantID is the tenant that exists on every installation. It is what
// Mitel MiCC calls TenantID -1 ("not tenanted").
const DefaultTenantID int64 = -1

// Tenant is an isolated customer of one installation, with its own groups,
// agents, visitors and chats.
type Tenant struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports whether t can be stored.
func (t *Tenant) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return Errorf(EINVALID, "tenant name is required")
	}
	if len(t.Name) > 200 {
		return Errorf(EINVALID, "tenant name is longer than 200 characters")
	}
	return nil
}

// Group is a service group (an estos agent group, a Genesys queue, a
// Rocket.Chat department): the unit chats are requested for and routed in.
type Group struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
	// WelcomeMessage is sent to the visitor when an agent accepts the chat.
	WelcomeMessage string `json:"welcome_message,omitempty"`
	// QueueMessage is sent to the visitor when the chat is queued.
	QueueMessage string `json:"queue_message,omitempty"`
	// ClosedMessage is returned when a chat is requested while no agent of
	// the group is logged in.
	ClosedMessage string `json:"closed_message,omitempty"`
	// Limits override the server-wide limits for chats in this group.
	Limits    GroupLimits `json:"limits"`
	CreatedAt time.Time   `json:"created_at"`
}

// GroupLimits are per-group overrides; a nil field inherits the server value.
type GroupLimits struct {
	MaxMessageLength   *int `json:"max_message_length,omitempty"`
	MaxAttachmentKB    *int `json:"max_attachment_kb,omitempty"`
	IdleTimeoutSeconds *int `json:"idle_timeout_seconds,omitempty"`
	// Capacity overrides the chat capacity of every member in this group,
	// unless a member has a per-membership capacity.
	Capacity *int `json:"capacity,omitempty"`
}

// Validate reports whether g can be stored.
func (g *Group) Validate() error {
	switch {
	case strings.TrimSpace(g.Name) == "":
		return Errorf(EINVALID, "group name is required")
	case len(g.Name) > 200:
		return Errorf(EINVALID, "group name is longer than 200 characters")
	case len(g.WelcomeMessage) > 4000 || len(g.QueueMessage) > 4000 || len(g.ClosedMessage) > 4000:
		return Errorf(EINVALID, "group messages are limited to 4000 characters")
	}
	l := g.Limits
	if l.MaxMessageLength != nil && (*l.MaxMessageLength < 1 || *l.MaxMessageLength > 100000) {
		return Errorf(EINVALID, "max_message_length must be between 1 and 100000")
	}
	if l.MaxAttachmentKB != nil && (*l.MaxAttachmentKB < 0 || *l.MaxAttachmentKB > 1<<20) {
		return Errorf(EINVALID, "max_attachment_kb must be between 0 and 1048576")
	}
	if l.IdleTimeoutSeconds != nil && (*l.IdleTimeoutSeconds < 0 || *l.IdleTimeoutSeconds > 86400) {
		return Errorf(EINVALID, "idle_timeout_seconds must be between 0 and 86400")
	}
	if l.Capacity != nil && (*l.Capacity < 1 || *l.Capacity > MaxCapacity) {
		return Errorf(EINVALID, "capacity must be between 1 and %d", MaxCapacity)
	}
	return nil
}
