package parley

import (
	"encoding/json"
	"time"
)

// EventType names an event of a chat's log.
type EventType string

// Stored event types: each gets the next sequence number of its chat.
const (
	EventMessage EventType = "message" // text from a party (Text)
	EventJoined  EventType = "joined"  // a party joined (From)
	EventLeft    EventType = "left"    // a party left (From)
	EventState   EventType = "state"   // the chat state changed (State)
	EventNotice  EventType = "notice"  // a system notice (Notice, Text)
	EventURL     EventType = "url"     // a pushed page address (URL)
	EventFile    EventType = "file"    // an attachment (File)
	EventSignal  EventType = "signal"  // a call's invite, accept, decline or hang-up (Signal: a CallSignal)
	EventSeen    EventType = "seen"    // a party has read the chat up to Seen (a read receipt)
)

// Ephemeral event types: published to live clients, never stored, Seq 0.
const (
	EventTyping EventType = "typing" // a party started or stopped typing (Typing)
	EventQueue  EventType = "queue"  // the chat's queue position changed (Queue)
	EventRTC    EventType = "rtc"    // a call's SDP, ICE candidate or media state, for the other party (Signal, To)
)

// Ephemeral reports whether events of type t are published without being
// stored.
func (t EventType) Ephemeral() bool { return t == EventTyping || t == EventQueue || t == EventRTC }

// Audience says who may see an event.
type Audience string

// Audiences.
const (
	AudienceAll    Audience = ""       // every participant
	AudienceAgents Audience = "agents" // agents and supervisors, never the visitor
)

// Notice codes of EventNotice. Clients localize by code; Text holds the
// English rendering and Args its placeholders.
const (
	NoticeVisitorLeft    = "visitor_left"    // visitor's connection dropped; the grace runs (agents)
	NoticeVisitorClosing = "visitor_closing" // the grace ends soon (agents)
	NoticeVisitorBack    = "visitor_back"    // visitor reconnected within the grace (agents)
	NoticeMessageWaiting = "message_waiting" // an agent wrote while the visitor was away (agents)
	NoticeIdleWarning    = "idle_warning"    // the chat closes soon for inactivity
	NoticeTransferred    = "transferred"     // the chat moves to another group or agent
	NoticeRated          = "rated"           // the visitor rated the ended chat (agents; Args: score, comment)
)

// Event is one entry of a chat's log. Seq is assigned by the store and
// starts at 1; ephemeral events carry Seq 0.
type Event struct {
	ChatID string    `json:"chat_id"`
	Seq    int64     `json:"seq"`
	Type   EventType `json:"type"`
	At     time.Time `json:"at"`
	From   Party     `json:"from"`
	// Audience restricts who sees the event.
	Audience Audience `json:"audience,omitempty"`
	// ClientID is the sender's idempotency key: a retried send with the same
	// key returns the stored event instead of a second copy.
	ClientID string       `json:"client_id,omitempty"`
	Text     string       `json:"text,omitempty"`
	Notice   string       `json:"notice,omitempty"`
	Args     []string     `json:"args,omitempty"`
	URL      string       `json:"url,omitempty"`
	State    *StateChange `json:"state,omitempty"`
	File     *Attachment  `json:"file,omitempty"`
	// Context is set on an EventURL of the visitor's widget (agents only):
	// the page and, on the chat's first, the browser.
	Context *ChatContext `json:"context,omitempty"`
	// Signal is set on EventSignal and EventRTC: a CallSignal (CallOf
	// decodes it). Stores keep it as opaque JSON.
	Signal json.RawMessage `json:"signal,omitempty"`
	// To is set on ephemeral events meant for one party only (EventRTC):
	// no one else is sent them.
	To *Party `json:"to,omitempty"`
	// Seen is set on EventSeen: the seq of the last event its party has read.
	Seen int64 `json:"seen,omitempty"`
	// Typing is set on EventTyping: true when typing started; Text may
	// then hold a preview of what is being typed.
	Typing bool `json:"typing,omitempty"`
	// Queue is set on EventQueue.
	Queue *QueueInfo `json:"queue,omitempty"`
	// MessageType is the free-form type a workflow or bot gives its
	// message or notice (Genesys MessageType), passed through unchanged.
	MessageType string `json:"message_type,omitempty"`
}

// VisibleTo reports whether a visitor (visitor true) or agent may see e.
func (e *Event) VisibleTo(visitor bool) bool {
	return !visitor || e.Audience == AudienceAll
}

// For reports whether an event addressed to one party (To) is for the
// visitor (visitor true) or the agent agentID; events without To are for
// everyone who may see them.
func (e *Event) For(visitor bool, agentID int64) bool {
	if e.To == nil {
		return true
	}
	if visitor {
		return e.To.Kind == PartyVisitor
	}
	return e.To.Kind == PartyAgent && e.To.AgentID == agentID
}

// StateChange is the payload of EventState.
type StateChange struct {
	State State `json:"state"`
	Cause Cause `json:"cause,omitempty"`
	// Queue is set when State is Queued.
	Queue *QueueInfo `json:"queue,omitempty"`
}

// QueueInfo is a queued chat's place in line.
type QueueInfo struct {
	// Position is 1 for the next chat to be served, 0 while the chat is
	// being offered to an agent.
	Position int `json:"position"`
	// EstimatedWait is in seconds, -1 when there is no basis for an estimate.
	EstimatedWait int `json:"estimated_wait"`
}
