package parley

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// State is the state of a chat. The numbers are Mitel's ChatState values.
type State int

// States: Queued → Handling → Terminated. A chat can go back from Handling to
// Queued when it is transferred.
const (
	StateQueued     State = 0
	StateHandling   State = 1
	StateTerminated State = 2
)

var stateNames = [...]string{"queued", "handling", "terminated"}

// String returns the lower-case name used on the native API.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// MarshalText encodes the state by name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return Errorf(EINVALID, "unknown chat state %q", b)
}

// Cause says why a chat was terminated. Mitel clients know only General and
// GroupClosed; see Mitel for the mapping.
type Cause int

// Termination causes. The zero value means the chat has not terminated.
const (
	CauseNone Cause = iota
	CauseGeneral
	CauseGroupClosed
	CauseVisitorLeft
	CauseIdleTimeout
	CauseDisconnectTimeout
	CauseAgentEnded
	CauseTransferredAway
	CauseRejected
)

var causeNames = map[Cause]string{
	CauseNone:              "",
	CauseGeneral:           "general",
	CauseGroupClosed:       "group_closed",
	CauseVisitorLeft:       "visitor_left",
	CauseIdleTimeout:       "idle_timeout",
	CauseDisconnectTimeout: "disconnect_timeout",
	CauseAgentEnded:        "agent_ended",
	CauseTransferredAway:   "transferred_away",
	CauseRejected:          "rejected",
}

// String returns the lower-case name used on the native API.
func (c Cause) String() string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cause(%d)", int(c))
}

// MarshalText encodes the cause by name.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a cause name.
func (c *Cause) UnmarshalText(b []byte) error {
	for k, n := range causeNames {
		if n == string(b) {
			*c = k
			return nil
		}
	}
	return Errorf(EINVALID, "unknown termination cause %q", b)
}

// Mitel returns Mitel's TerminationCause value: 1 (GroupClosed) for
// CauseGroupClosed, 0 (General) for every other cause.
func (c Cause) Mitel() int {
	if c == CauseGroupClosed {
		return 1
	}
	return 0
}

// Chat is one conversation between a visitor and the contact center. Its
// content is the event log; the fields here are the current state.
type Chat struct {
	ID        string `json:"id"`
	TenantID  int64  `json:"tenant_id"`
	GroupID   int64  `json:"group_id"`
	VisitorID string `json:"visitor_id"`
	State     State  `json:"state"`
	Cause     Cause  `json:"cause,omitempty"`
	// SessionID is the client's own session identifier (Mitel SessionID,
	// Genesys userData), kept for archive searches.
	SessionID string `json:"session_id,omitempty"`
	// AgentID is the agent handling the chat, 0 while none.
	AgentID int64 `json:"agent_id,omitempty"`
	// OfferedTo is the agent the chat is offered to while Queued, 0 if none.
	OfferedTo int64 `json:"offered_to,omitempty"`
	// Priority orders the queue: higher first, then arrival.
	Priority int `json:"priority,omitempty"`
	// IdleTimeout is the visitor idle timeout of this chat; 0 disables it.
	IdleTimeout time.Duration `json:"-"`
	// LastSeq is the sequence number of the newest stored event.
	LastSeq int64 `json:"last_seq"`
	// Version counts changes of this record (not of the event log); updates
	// are conditional on it.
	Version      int64         `json:"-"`
	Participants []Participant `json:"participants"`
	CreatedAt    time.Time     `json:"created_at"`
	// QueuedAt is when the chat last entered a queue.
	QueuedAt time.Time `json:"queued_at"`
	// AcceptedAt is when an agent first answered the chat; a transfer
	// does not move it, so the wait is measured once.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	// TransferNote is what the agent who last transferred the chat wrote
	// for the colleague who takes it. Agents only.
	TransferNote string `json:"transfer_note,omitempty"`
}

// Active reports whether the chat has not terminated.
func (c *Chat) Active() bool { return c.State != StateTerminated }

// Participant returns the current (not yet left) participant that matches
// kind and agent id, or nil.
func (c *Chat) Participant(kind PartyKind, agentID int64) *Participant {
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.Kind == kind && p.AgentID == agentID && p.LeftAt.IsZero() {
			return p
		}
	}
	return nil
}

// Participant is a party that is or was in a chat.
type Participant struct {
	Party
	JoinedAt time.Time `json:"joined_at"`
	LeftAt   time.Time `json:"left_at,omitzero"`
}

// PartyKind says who sent an event or is in a chat.
type PartyKind string

// Party kinds.
const (
	PartyVisitor PartyKind = "visitor"
	PartyAgent   PartyKind = "agent"
	PartySystem  PartyKind = "system"
)

// Party is the author of an event or a member of a chat.
type Party struct {
	Kind PartyKind `json:"kind"`
	// AgentID is set when Kind is agent.
	AgentID int64  `json:"agent_id,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Visitor is a website visitor (a Genesys customer, a Rocket.Chat guest).
// A visitor holds a token that gives access to its own chats only.
type Visitor struct {
	ID          string `json:"id"`
	TenantID    int64  `json:"tenant_id"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	CustomerID  string `json:"customer_id,omitempty"`
	PrivateData string `json:"private_data,omitempty"`
	// TZOffset is the visitor's offset from UTC in minutes.
	TZOffset int `json:"tz_offset,omitempty"`
	// TokenHash is the SHA-256 of the visitor's token; never serialized.
	TokenHash []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports whether v can be stored.
func (v *Visitor) Validate() error {
	fields := []struct {
		name      string
		value     string
		max       int
		multiline bool
	}{
		{"name", v.Name, 200, false},
		{"email", v.Email, 320, false},
		{"phone", v.Phone, 64, false},
		{"customer_id", v.CustomerID, 200, false},
		{"private_data", v.PrivateData, 8000, true},
	}
	for _, f := range fields {
		if !utf8.ValidString(f.value) {
			return Errorf(EINVALID, "%s is not valid UTF-8", f.name)
		}
		if utf8.RuneCountInString(f.value) > f.max {
			return Errorf(EINVALID, "%s is longer than %d characters", f.name, f.max)
		}
		if err := CheckChars(f.name, f.value, f.multiline); err != nil {
			return err
		}
	}
	if v.Email != "" && !strings.Contains(v.Email, "@") {
		return Errorf(EINVALID, "email is not an address")
	}
	if v.TZOffset < -14*60 || v.TZOffset > 14*60 {
		return Errorf(EINVALID, "tz_offset must be between -840 and 840 minutes")
	}
	return nil
}

// Attachment is a file sent in a chat. The content lives under the data
// directory; the record keeps its checksum.
type Attachment struct {
	ID          string    `json:"id"`
	ChatID      string    `json:"chat_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}
