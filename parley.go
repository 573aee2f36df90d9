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
	"slices"
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
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Widget is how the tenant's chat widget looks.
	Widget    WidgetAppearance `json:"widget"`
	CreatedAt time.Time        `json:"created_at"`
}

// Validate reports whether t can be stored.
func (t *Tenant) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return FieldErrorf("name", "tenant name is required")
	}
	if len(t.Name) > 200 {
		return FieldErrorf("name", "tenant name is longer than 200 characters")
	}
	if err := CheckChars("name", t.Name, false); err != nil {
		return err
	}
	return t.Widget.Validate()
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
	Limits GroupLimits `json:"limits"`
	// Routing says how the group's chats are distributed and when the
	// group is open.
	Routing GroupRouting `json:"routing"`
	// Transcript says how the group mails chat transcripts.
	Transcript GroupTranscript `json:"transcript"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Strategy chooses among the agents who could all take a chat.
type Strategy string

// Strategies.
const (
	StrategyLongestIdle Strategy = "longest_idle" // the agent idle the longest (the default)
	StrategyLeastBusy   Strategy = "least_busy"   // the agent with the lowest share of its capacity in use
	StrategyRoundRobin  Strategy = "round_robin"  // members in turn
	StrategyManual      Strategy = "manual"       // nothing is offered; agents pick chats from the queue
)

// Valid reports whether s is a known strategy ("" means the default).
func (s Strategy) Valid() bool {
	switch s {
	case "", StrategyLongestIdle, StrategyLeastBusy, StrategyRoundRobin, StrategyManual:
		return true
	}
	return false
}

// GroupRouting is how a group distributes its chats.
type GroupRouting struct {
	// Strategy picks the agent; "" means longest_idle.
	Strategy Strategy `json:"strategy,omitempty"`
	// WrapUpSeconds is the after-chat work time: an agent whose chat of
	// this group ends gets no new chats for this long.
	WrapUpSeconds int `json:"wrap_up_seconds,omitempty"`
	// AutoAccept assigns chats to the chosen agent without an offer.
	AutoAccept bool `json:"auto_accept,omitempty"`
	// OfferTimeoutSeconds is how long an offer of this group's chats
	// waits for the agent's answer before it goes to the next agent; 0
	// means the server's offer timeout.
	OfferTimeoutSeconds int `json:"offer_timeout_seconds,omitempty"`
	// TimeZone is the IANA zone of Hours and Holidays; "" means UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// Hours lists when the group is open; none means always.
	Hours []OpeningHours `json:"hours,omitempty"`
	// Holidays are dates (YYYY-MM-DD, in TimeZone) the group is closed.
	Holidays []string `json:"holidays,omitempty"`
}

// MinOfferTimeoutSeconds is the shortest offer timeout a group may set:
// an agent needs a moment to see and take an offer.
const MinOfferTimeoutSeconds = 5

// OpeningHours is one opening period of a week day.
type OpeningHours struct {
	// Day is mon, tue, wed, thu, fri, sat or sun.
	Day string `json:"day"`
	// Open and Close are HH:MM in the group's time zone; Close may be 24:00.
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Weekdays are the day names of OpeningHours, indexed by time.Weekday.
var Weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Minutes parses an HH:MM time of day into minutes after midnight
// (0–1440).
func Minutes(hhmm string) (int, bool) {
	if len(hhmm) != 5 || hhmm[2] != ':' {
		return 0, false
	}
	h, m := int(hhmm[0]-'0')*10+int(hhmm[1]-'0'), int(hhmm[3]-'0')*10+int(hhmm[4]-'0')
	for _, c := range []byte{hhmm[0], hhmm[1], hhmm[3], hhmm[4]} {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Location returns the group's time zone.
func (r *GroupRouting) Location() (*time.Location, error) {
	if r.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, FieldErrorf("routing.time_zone", "unknown time zone %q", r.TimeZone)
	}
	return loc, nil
}

// Validate reports whether r is usable.
func (r *GroupRouting) Validate() error {
	if !r.Strategy.Valid() {
		return FieldErrorf("routing.strategy", "strategy must be longest_idle, least_busy, round_robin or manual")
	}
	if r.WrapUpSeconds < 0 || r.WrapUpSeconds > 3600 {
		return FieldErrorf("routing.wrap_up_seconds", "wrap_up_seconds must be between 0 and 3600")
	}
	if t := r.OfferTimeoutSeconds; t != 0 && (t < MinOfferTimeoutSeconds || t > 3600) {
		return FieldErrorf("routing.offer_timeout_seconds", "offer_timeout_seconds must be 0 (the server's) or between %d and 3600", MinOfferTimeoutSeconds)
	}
	if _, err := r.Location(); err != nil {
		return err
	}
	if len(r.Hours) > 100 || len(r.Holidays) > 1000 {
		return FieldErrorf("routing.hours", "at most 100 opening hours and 1000 holidays")
	}
	for _, h := range r.Hours {
		if !slices.Contains(Weekdays[:], h.Day) {
			return FieldErrorf("routing.hours", "opening hours: day %q must be one of mon, tue, wed, thu, fri, sat, sun", h.Day)
		}
		open, ok1 := Minutes(h.Open)
		closeAt, ok2 := Minutes(h.Close)
		if !ok1 || !ok2 || open >= closeAt {
			return FieldErrorf("routing.hours", "opening hours on %s: %q to %q is not a period of HH:MM times", h.Day, h.Open, h.Close)
		}
	}
	for _, d := range r.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return FieldErrorf("routing.holidays", "holiday %q is not a YYYY-MM-DD date", d)
		}
	}
	return nil
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
		return FieldErrorf("name", "group name is required")
	case len(g.Name) > 200:
		return FieldErrorf("name", "group name is longer than 200 characters")
	}
	for _, m := range []struct{ field, text string }{
		{"welcome_message", g.WelcomeMessage}, {"queue_message", g.QueueMessage}, {"closed_message", g.ClosedMessage},
	} {
		if len(m.text) > 4000 {
			return FieldErrorf(m.field, "group messages are limited to 4000 characters")
		}
	}
	l := g.Limits
	if l.MaxMessageLength != nil && (*l.MaxMessageLength < 1 || *l.MaxMessageLength > 100000) {
		return FieldErrorf("limits.max_message_length", "max_message_length must be between 1 and 100000")
	}
	if l.MaxAttachmentKB != nil && (*l.MaxAttachmentKB < 0 || *l.MaxAttachmentKB > 1<<20) {
		return FieldErrorf("limits.max_attachment_kb", "max_attachment_kb must be between 0 and 1048576")
	}
	if l.IdleTimeoutSeconds != nil && (*l.IdleTimeoutSeconds < 0 || *l.IdleTimeoutSeconds > 86400) {
		return FieldErrorf("limits.idle_timeout_seconds", "idle_timeout_seconds must be between 0 and 86400")
	}
	if l.Capacity != nil && (*l.Capacity < 1 || *l.Capacity > MaxCapacity) {
		return FieldErrorf("limits.capacity", "capacity must be between 1 and %d", MaxCapacity)
	}
	if err := g.Transcript.Validate(); err != nil {
		return err
	}
	return g.Routing.Validate()
}
